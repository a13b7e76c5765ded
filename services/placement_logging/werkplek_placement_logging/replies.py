"""Answers as bytes (orjson), so a completed POST can be stored under its Idempotency-Key and replayed
byte for byte; and the problem documents of the ledger."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Request, Response
from werkplek_common.problems import MEDIA_TYPE, Problem, problem_type

from .domain import Violation

JSON = "application/json"
MAX_KEY = 255


def _fallback(value: Any) -> Any:
    """asyncpg's UUID and Decimal are not native to orjson."""
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    raise TypeError(type(value).__name__)


def dumps(doc: Any) -> bytes:
    return orjson.dumps(doc, default=_fallback)


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    def response(self, *, replayed: bool = False) -> Response:
        headers = {**self.headers, "Idempotent-Replayed": "true"} if replayed else self.headers
        media = MEDIA_TYPE if self.status >= 400 else JSON
        return Response(self.body, status_code=self.status, headers=headers, media_type=media)


def json_reply(status: int, doc: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, dumps(doc), headers or {})


def invalid(violations: Sequence[Violation], what: str = "The entry is not valid") -> Problem:
    errors = [{"field": v.field, "message": v.message} for v in violations]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return Problem(422, what, detail, type_=problem_type("entry-invalid"), errors=errors,
                   reasons=sorted({v.reason for v in violations}))


@dataclass(frozen=True)
class Idem:
    """The Idempotency-Key of a POST and the fingerprint of its payload (method, path, canonical JSON)."""

    key: str
    fingerprint: bytes


def idempotency(request: Request, payload: Any) -> Idem:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise Problem(400, "Idempotency-Key is missing", "every POST needs an Idempotency-Key header "
                      "(a fresh UUID per logical request; resend the same one on retry)",
                      type_=problem_type("idempotency-key-missing"),
                      errors=[{"field": "header.Idempotency-Key", "message": "required"}])
    key = key.strip().strip('"')  # the draft allows a quoted string (sf-string): printable ASCII
    if not 0 < len(key) <= MAX_KEY or not (key.isascii() and key.isprintable()):
        message = f"1 to {MAX_KEY} printable ASCII characters"
        raise Problem(400, "Idempotency-Key is not valid", message, type_=problem_type("idempotency-key-invalid"),
                      errors=[{"field": "header.Idempotency-Key", "message": message}])
    canonical = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)
    # the path from the scope: what request.url.path gives here, without building the URL
    digest = hashlib.sha256(f"{request.method} {request.scope['path']}\n".encode() + canonical).digest()
    return Idem(key, digest)


def replay(row: Any, idem: Idem) -> Reply:
    if bytes(row["fingerprint"]) != idem.fingerprint:
        raise Problem(422, "Idempotency-Key reused with another request", "this key was used for a different "
                      "payload; use a new key for a new request", type_=problem_type("idempotency-key-reused"),
                      errors=[{"field": "header.Idempotency-Key", "message": "already used for another payload"}])
    return Reply(row["status_code"], bytes(row["body"]), orjson.loads(row["headers"]))


def in_flight() -> Problem:
    return Problem(409, "A request with this Idempotency-Key is in progress", "retry after it has completed",
                   type_=problem_type("idempotency-key-in-flight"), headers={"Retry-After": "1"})
