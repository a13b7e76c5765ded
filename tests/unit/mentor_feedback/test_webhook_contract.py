"""The webhook contract for tool vendors (OpenAPI 3.1) is generated from the payload models, is
committed without drift, and describes what the service really accepts and sends."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from werkplek_mentor_feedback import contract
from werkplek_mentor_feedback.payloads import (
    ConfirmationRequestData,
    Kind,
    Malformed,
    OutboundConfirmationRequested,
    OutboundEntry,
    parse,
)

EXAMPLES: dict[Kind, dict[str, Any]] = {
    Kind.HOURS_CONFIRMED: {"mentor_id": "m-1", "entries": [{"entry_id": str(uuid.uuid4()), "revision": 1}]},
    Kind.HOURS_REJECTED: {"mentor_id": "m-1", "entries": [{"entry_id": str(uuid.uuid4()), "reason": "wrong_date",
                                                           "comment": "was on Tuesday"}]},
    Kind.HOURS_DECISION_REVERSED: {"mentor_id": "m-1", "entries": [{"entry_id": str(uuid.uuid4())}]},
    Kind.ASSESSMENT_RECORDED: {"mentor_id": "m-1", "assessment_id": "a-1", "placement_id": "pl-1",
                               "moment": "final", "assessed_on": "2026-11-16",
                               "outcomes": [{"outcome_id": "LO1", "kind": "skill", "level": "achieved"}]},
    Kind.AGREEMENT_SIGNED: {"mentor_id": "m-1", "placement_id": "pl-1", "signed_at": "2026-11-16T09:00:00Z"},
}


def _validator(doc: dict, ref: str | dict) -> Draft202012Validator:
    schema = ref if isinstance(ref, dict) else {"$ref": ref}
    return Draft202012Validator({**schema, "components": doc["components"]})


def test_the_committed_contract_has_no_drift() -> None:
    assert not contract.drift(), f"{contract.CONTRACT_PATH} differs from the models; run `make schemas`"


def test_drift_is_detected(tmp_path: Path) -> None:
    copy = tmp_path / "webhooks.openapi.yaml"
    copy.write_text(contract.render(contract.document()).replace("Standard Webhooks", "Webhooks"))
    assert contract.drift(copy) and not contract.drift(contract.CONTRACT_PATH)


def test_it_is_openapi_3_1_with_inbound_paths_and_outbound_webhooks() -> None:
    doc = yaml.safe_load(contract.CONTRACT_PATH.read_text())
    assert doc["openapi"] == "3.1.0"
    post = doc["paths"]["/webhooks/{source_id}"]["post"]
    assert {p["name"] for p in post["parameters"]} == {"source_id", "webhook-id", "webhook-timestamp",
                                                       "webhook-signature"}
    assert set(post["requestBody"]["content"]["application/json"]["schema"]["discriminator"]["mapping"]) == {
        k.value for k in Kind}
    assert set(post["responses"]) == {"202", "400", "401", "403", "409", "422"}
    assert list(doc["webhooks"]) == ["confirmation.requested"]


@pytest.mark.parametrize("kind", list(Kind))
def test_each_inbound_message_the_service_accepts_is_valid_by_the_contract(kind: Kind) -> None:
    doc = yaml.safe_load(contract.CONTRACT_PATH.read_text())
    body = doc["paths"]["/webhooks/{source_id}"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    message = {"type": kind.value, "timestamp": "2026-11-16T09:00:00Z", "data": EXAMPLES[kind]}
    assert parse(message)[0] is kind  # the service accepts it
    _validator(doc, body).validate(message)  # and so does the contract
    typo = {**message, "data": {**EXAMPLES[kind], "mentorid": "m-1"}}
    with pytest.raises(Malformed):
        parse(typo)
    assert not _validator(doc, body).is_valid(typo)  # both refuse an unknown field


def test_the_outbound_payload_the_service_sends_is_valid_by_the_contract() -> None:
    doc = yaml.safe_load(contract.CONTRACT_PATH.read_text())
    schema = doc["webhooks"]["confirmation.requested"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    sent = OutboundConfirmationRequested(timestamp=datetime(2026, 11, 16, 9, tzinfo=UTC), data=ConfirmationRequestData(
        request_id="req-1", mentor_id="m-1", expires_at=datetime(2026, 11, 19, tzinfo=UTC),
        entries=[OutboundEntry(entry_id=uuid.uuid4(), student_id="s-1", placement_id="pl-1", revision=2,
                               work_date=date(2026, 11, 12), minutes=450, activity="work", description="night")]))
    _validator(doc, schema).validate(json.loads(sent.model_dump_json()))
