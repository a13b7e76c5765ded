"""The request-body limits are derived, not guessed: for every operation of both OpenAPI documents
the largest valid JSON body (every string at its maximum length in 4-byte UTF-8 characters, every
list at its maximum size, every optional field present) fits under that endpoint's limit, and every
string and list of a body has a bound to compute it from. A new route is checked the moment it is
documented. And the middleware that enforces the limits does so while reading."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

import orjson
import pytest
from starlette.types import Message
from werkplek_common.http import DRAIN_BYTES, BodyLimit
from werkplek_common.openapi import operations
from werkplek_events.limits import ACADEMIC_YEAR_LEN, ACADEMIC_YEAR_PATTERN
from werkplek_mentor_feedback.api import body_limit, build_app
from werkplek_mentor_feedback.config import MentorFeedbackSettings
from werkplek_placement_logging.app import body_limits, build
from werkplek_placement_logging.config import Settings

DECIMAL_DIGITS = 7  # every decimal of a request has max_digits=7 (shares)
WIDE = "\U0001d11e"  # a 4-byte UTF-8 character: the most bytes one character of a length limit can take
SAMPLES = {"date": "2026-12-31", "date-time": "2026-12-31T23:59:59.999999+14:00", "uuid": "0" * 36, "time": "23:59:59",
           "uri": "x" * 2000}
# The mentor page's form has no JSON schema to size: per entry of one link (at most 500) 4 fields,
# a comment of 500 characters; per placement its moment, its signature and per agreed outcome (at
# most 200) a level and a note of 500 characters; every character percent-encoded at its worst (4
# UTF-8 bytes, 3 bytes each). Sized for a full link and one full learning agreement assessed at once.
WIDE_TEXT = 500 * 4 * 3
ENTRIES = 500 * (len("decision-&revision-&reason-&comment-=") + 4 * 36 + 7 + 9 + 12 + WIDE_TEXT)
OUTCOMES = 200 * (len("level--&note--=") + 2 * (64 + 64) + len("exceeds") + WIDE_TEXT)
FORM_MAX = ENTRIES + OUTCOMES + len("moment-=mid_term&sign-=yes&lang=nl") + 2 * 64


class Unbounded(AssertionError):
    pass


def largest(schema: dict[str, Any], doc: dict[str, Any], at: str) -> Any:
    """The biggest instance of `schema` as JSON would carry it."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return largest(doc["components"]["schemas"][name], doc, at)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            if {"type": "string"} in schema[key] and any(s.get("type") == "number" for s in schema[key]):
                return "-" + "9" * DECIMAL_DIGITS + ".e+99"  # a decimal, as a number or as its string
            options = [largest(s, doc, at) for s in schema[key]]
            return max(options, key=lambda v: len(orjson.dumps(v)))
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return max(schema["enum"], key=lambda v: len(orjson.dumps(v)))
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties", {})
        if schema.get("additionalProperties") not in (None, False) and not props:
            raise Unbounded(f"{at}: an object of any keys has no largest size")
        return {name: largest(s, doc, f"{at}.{name}") for name, s in props.items()}
    if kind == "array":
        if "maxItems" not in schema:
            raise Unbounded(f"{at}: a list without maxItems")
        return [largest(schema.get("items", {}), doc, f"{at}[]")] * schema["maxItems"]
    if kind == "string":
        if schema.get("format") in SAMPLES:
            return SAMPLES[schema["format"]]
        if schema.get("pattern") == ACADEMIC_YEAR_PATTERN:
            return "2" * ACADEMIC_YEAR_LEN
        if "maxLength" not in schema:
            raise Unbounded(f"{at}: a string without maxLength")
        return ("a" if "pattern" in schema else WIDE) * schema["maxLength"]  # patterns here are ASCII
    if kind in ("integer", "number"):
        return -10**15 if schema.get("minimum", -1) < 0 else 10**15
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    raise Unbounded(f"{at}: no type")


def documents() -> list[tuple[str, dict[str, Any], Any]]:
    placement = Settings()
    mentor = MentorFeedbackSettings()
    placement_limit = body_limits(placement)
    return [("placement", build(placement).openapi(), lambda path: placement_limit({"path": path})),
            ("mentor", build_app(mentor, key=b"k").openapi(), lambda path: body_limit(mentor)({"path": path}))]


def bodies() -> list[tuple[str, str, dict[str, Any], Any]]:
    found = []
    for api, doc, limit in documents():
        for path, method, op in operations(doc):
            for media, content in op.get("requestBody", {}).get("content", {}).items():
                found.append((f"{api} {method.upper()} {path} {media}", path, {"media": media, **content},
                              (doc, limit)))
    return found


@pytest.mark.parametrize(("operation", "path", "content", "where"), bodies(), ids=[b[0] for b in bodies()])
def test_the_largest_valid_body_of_every_operation_fits_its_limit(operation, path, content, where):
    doc, limit = where
    if content["media"] == "application/x-www-form-urlencoded" and "properties" not in content["schema"]:
        size = FORM_MAX  # the mentor page: any field name (per entry, placement, outcome)
    elif content["media"] == "application/x-www-form-urlencoded":  # a form of named fields, percent-encoded
        size = len(urlencode(largest(content["schema"], doc, operation)))
    else:
        size = len(orjson.dumps(largest(content["schema"], doc, operation)))
    assert size <= limit(path), f"{operation}: the largest valid body is {size} bytes, the limit {limit(path)}"
    print(f"{operation}: largest valid body {size:,} bytes, limit {limit(path):,}")


def test_the_generator_finds_an_unbounded_field():
    with pytest.raises(Unbounded, match=re.escape("body.note: a string without maxLength")):
        largest({"type": "object", "properties": {"note": {"type": "string"}}}, {}, "body")


# --- the middleware ------------------------------------------------------------------------------------------


class Upload:
    """An ASGI `receive` that sends a body in chunks and counts what was taken."""

    def __init__(self, size: int, chunk: int = 64 * 1024) -> None:
        self.left, self.chunk, self.taken = size, chunk, 0

    async def __call__(self) -> Message:
        part = min(self.chunk, self.left)
        self.left -= part
        self.taken += part
        return {"type": "http.request", "body": b"x" * part, "more_body": self.left > 0}


async def call(size: int, limit: int, headers: list[tuple[bytes, bytes]] | None = None,
               ) -> tuple[list[Message], Upload, list[bytes]]:
    seen: list[bytes] = []

    async def app(scope, receive, send) -> None:
        message = await receive()
        seen.append(message["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    upload = Upload(size)
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": headers or []}
    await BodyLimit(app, lambda _scope: limit)(scope, upload, send)
    return sent, upload, seen


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read():
    sent, upload, seen = asyncio.run(call(200 * 1024 * 1024, 1024 * 1024))
    assert sent[0]["status"] == 413 and seen == []  # the app never saw the request
    # one chunk past the limit, then a bounded drain (dropped) so a client sees the answer
    assert upload.taken <= 1024 * 1024 + upload.chunk + DRAIN_BYTES
    problem = orjson.loads(sent[1]["body"])
    assert problem["status"] == 413 and problem["max_bytes"] == 1024 * 1024
    assert problem["errors"] == [{"field": "body", "message": "more than 1048576 bytes"}]
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_declared_length_over_the_limit_is_refused_keeping_nothing():
    sent, upload, seen = asyncio.run(call(10 * 1024 * 1024, 1024, [(b"content-length", b"10485760")]))
    assert sent[0]["status"] == 413 and upload.taken == 0 and seen == []  # too big to drain: not read at all
    sent, upload, seen = asyncio.run(call(4096, 1024, [(b"content-length", b"4096")]))
    assert sent[0]["status"] == 413 and upload.taken == 4096 and seen == []  # drained, dropped


def test_a_content_length_that_is_not_ascii_digits_is_a_400():
    sent, upload, _ = asyncio.run(call(10, 1024, [(b"content-length", "1²".encode())]))
    assert sent[0]["status"] == 400 and upload.taken == 0
    assert orjson.loads(sent[1]["body"])["errors"][0]["field"] == "header.Content-Length"


def test_a_body_within_the_limit_reaches_the_app_whole():
    sent, upload, seen = asyncio.run(call(300 * 1024, 1024 * 1024))
    assert sent[0]["status"] == 200 and seen == [b"x" * (300 * 1024)] and upload.taken == 300 * 1024
