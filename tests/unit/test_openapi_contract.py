"""The OpenAPI documents of both APIs say what the APIs do: every operation declares its security
(or is declared public, with the reason), every error it can send as `application/problem+json`
with the one Problem schema, and the statuses every operation can send whatever its route:
400 and 413 everywhere, 422 with parameters or a body, 401 and 403 with credentials. (The BOLA
matrix checks, request by request, that no answer has a status or media type the document lacks.)"""

from __future__ import annotations

from typing import Any

import pytest
from werkplek_common.openapi import PROBLEM_REF, operations
from werkplek_common.problems import MEDIA_TYPE
from werkplek_mentor_feedback.api import build_app
from werkplek_mentor_feedback.config import MentorFeedbackSettings
from werkplek_placement_logging.app import build
from werkplek_placement_logging.config import Settings

# the only operations without credentials: the signed token in the path is the capability; the
# fresh-link form is for a mentor who has nothing but their address (it answers the same for any)
PUBLIC = {("mentor", "get", "/confirm/{token}"), ("mentor", "post", "/confirm/{token}"),
          ("mentor", "get", "/link"), ("mentor", "post", "/link")}


def documents() -> dict[str, dict[str, Any]]:
    return {"placement": build(Settings()).openapi(), "mentor": build_app(MentorFeedbackSettings(), key=b"k").openapi()}


DOCS = documents()
OPERATIONS = [(api, path, method, op) for api, doc in DOCS.items() for path, method, op in operations(doc)]
IDS = [f"{api} {method.upper()} {path}" for api, path, method, _ in OPERATIONS]


@pytest.mark.parametrize(("api", "path", "method", "op"), OPERATIONS, ids=IDS)
def test_every_operation_declares_its_security(api, path, method, op):
    requirements = op.get("security")
    assert requirements is not None, "no security declared (use `security: []` for a public operation)"
    schemes = {name for requirement in requirements for name in requirement}
    assert schemes <= set(DOCS[api]["components"]["securitySchemes"]), "an undeclared security scheme"
    assert bool(schemes) != ((api, method, path) in PUBLIC), "public, or not, without saying so"


@pytest.mark.parametrize(("api", "path", "method", "op"), OPERATIONS, ids=IDS)
def test_every_operation_declares_the_problems_it_can_send(api, path, method, op):
    statuses = set(op["responses"])
    required = {"400", "413"} | ({"422"} if op.get("parameters") or op.get("requestBody") else set())
    if any(op.get("security", [])):
        required |= {"401", "403"}
    assert required <= statuses, f"missing {sorted(required - statuses)}"
    for status, response in op["responses"].items():
        if status[0] in "45":
            content = response["content"]
            assert content[MEDIA_TYPE]["schema"] == {"$ref": PROBLEM_REF}, status
            assert "application/json" not in content, f"{status} documented as application/json"


def test_the_documents_declare_the_schemes_they_use():
    assert DOCS["placement"]["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    schemes = DOCS["mentor"]["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert (schemes["StandardWebhooks"]["in"], schemes["StandardWebhooks"]["name"]) == ("header", "webhook-signature")
    assert "HTTPValidationError" not in DOCS["placement"]["components"]["schemas"]


def test_route_specific_statuses_are_declared():
    paths = DOCS["placement"]["paths"]
    assert {"404", "409", "412", "428"} <= set(paths["/v1/me/entries/{entry_id}"]["patch"]["responses"])
    assert {"404", "409", "412"} <= set(paths["/v1/placements/{placement_id}"]["put"]["responses"])
    webhook = DOCS["mentor"]["paths"]["/webhooks/{source_id}"]["post"]["responses"]
    assert {"202", "401", "403", "409", "422"} <= set(webhook)
    mentor = DOCS["mentor"]["paths"]
    assert {"201", "401", "403", "409", "422"} <= set(mentor["/v1/sources"]["post"]["responses"])
    assert {"201", "404", "409"} <= set(mentor["/v1/sources/{source_id}/rotations"]["post"]["responses"])
    assert "text/html" in mentor["/link"]["post"]["responses"]["400"]["content"]
    assert {"404", "422"} <= set(paths["/v1/mentors/{mentor_id}/contact"]["put"]["responses"])
