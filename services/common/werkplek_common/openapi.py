"""The OpenAPI document as the API really answers: every error as `application/problem+json` with one
Problem schema, the statuses every operation can send whatever its route declares (400 for a
malformed request, 413 past the body limit, 422 for parameters or a body that do not validate,
401 and 403 where it needs credentials), and the security schemes it uses. FastAPI documents only
what a route declares, and documents its validation error as `application/json`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI

from .problems import MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem", "type": "object", "required": ["type", "title", "status"],
    "description": "RFC 9457 problem details; `errors` names every field at fault",
    "properties": {
        "type": {"type": "string", "format": "uri"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
DESCRIPTIONS = {
    "400": "Malformed request (not JSON, a header or cursor that is not valid)",
    "401": "No valid credentials (the problem names the header or claim)",
    "403": "Credentials valid, but not allowed (role, institution, source)",
    "404": "Unknown, or another institution's or student's (never revealed which)",
    "409": "Conflicts with the current state", "410": "Gone", "412": "If-Match does not match the current ETag",
    "413": "Request body over this endpoint's limit", "422": "A parameter or the body is not valid",
    "428": "If-Match is required",
}
METHODS = ("get", "put", "post", "patch", "delete")
Operations = Iterable[tuple[str, str, dict[str, Any]]]


def operations(doc: dict[str, Any]) -> Operations:
    for path, item in doc.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _problem(status: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    """Problem documents, plus what the route itself declared other than JSON (a page's text/html)."""
    description = (existing or {}).get("description") or DESCRIPTIONS.get(status, "Problem")
    if description == "Validation Error":  # FastAPI's own 422, documented as application/json
        description = DESCRIPTIONS["422"]
    declared = (existing or {}).get("content", {})
    content = {k: v for k, v in declared.items() if k not in ("application/json", MEDIA_TYPE)}
    return {"description": description, "content": {MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}}, **content}}


def complete(doc: dict[str, Any], schemes: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Complete a generated document in place (and return it)."""
    components = doc.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["schemas"].pop("HTTPValidationError", None)
    components["schemas"].pop("ValidationError", None)
    components.setdefault("securitySchemes", {}).update(schemes or {})
    for _path, _method, op in operations(doc):
        responses = op.setdefault("responses", {})
        wanted = {"400", "413"}
        if op.get("parameters") or op.get("requestBody"):
            wanted.add("422")
        if any(requirement for requirement in op.get("security", [])):
            wanted |= {"401", "403"}
        for status in sorted(wanted | {s for s in responses if s[0] in "45"}):
            responses[status] = _problem(status, responses.get(status))
    return doc


def install(app: FastAPI, schemes: dict[str, dict[str, Any]] | None = None,
            edit: Callable[[dict[str, Any]], None] | None = None) -> None:
    """Serve the completed document; `edit` runs first (an app's own additions)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        doc = original()
        if edit is not None:
            edit(doc)
        app.openapi_schema = complete(doc, schemes)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
