"""Answers as bytes (orjson), so a completed POST can be stored under its Idempotency-Key and replayed
byte for byte; the problem documents of the ledger's refusals; and `logged`, the entrypoint's wrapper
of the logging use case that keeps its reply under the Idempotency-Key in the same unit (the same
write statement as the entries)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson
from fastapi import Request, Response
from werkplek_common.problems import MEDIA_TYPE, Problem, problem_type
from werkplek_events.limits import storable

from .domain import Violation, etag
from .metrics import IDEMPOTENT_REPLAYS
from .uow import Contended, LedgerUoW, RefusedItem, StoredReply
from .usecases.entries import Judged, LogEntries, Reason, Refusal, Replayed, log_entries

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


def replayed(stored: StoredReply) -> Reply:
    return Reply(stored.status, stored.body, stored.headers)


def in_flight() -> Problem:
    return Problem(409, "A request with this Idempotency-Key is in progress", "retry after it has completed",
                   type_=problem_type("idempotency-key-in-flight"), headers={"Retry-After": "1"})


def problem(refusal: Refusal) -> Problem:
    """The problem document of a refusal of the ledger's use cases."""
    r = refusal.reason
    if r is Reason.KEY_IN_FLIGHT:
        return in_flight()
    if r is Reason.KEY_REUSED:
        return Problem(422, "Idempotency-Key reused with another request", refusal.detail,
                       type_=problem_type("idempotency-key-reused"),
                       errors=[{"field": "header.Idempotency-Key", "message": "already used for another payload"}])
    if r is Reason.IF_MATCH_REQUIRED:
        return Problem(428, "If-Match is required", refusal.detail, type_=problem_type("precondition-required"),
                       errors=[{"field": "header.If-Match", "message": "required"}])
    if r is Reason.NOT_FOUND:
        return Problem(404, "No such entry", refusal.detail, type_=problem_type("not-found"))
    if r is Reason.CHANGED:
        assert refusal.version is not None
        return Problem(412, "The entry has changed", refusal.detail, type_=problem_type("precondition-failed"),
                       headers={"ETag": etag(refusal.version)})
    if r is Reason.IMMUTABLE:
        assert refusal.standing is not None
        return Problem(409, "The entry cannot be changed", refusal.detail, type_=problem_type("entry-immutable"),
                       reason=refusal.standing.value)
    assert r is Reason.INVALID
    return invalid(refusal.violations, "The correction is not valid")


def refusals_of(reply: Reply, raw_items: Sequence[Any]) -> list[RefusedItem]:
    """The refused items of a batch reply (status 200, per-item results) with the items as sent."""
    if b'"problem"' not in reply.body:  # nothing refused: skip parsing the reply
        return []
    found = []
    for result in orjson.loads(reply.body)["results"]:
        if result["status"] < 300:
            continue
        raw = raw_items[result["index"]]
        ident = result["entry_id"] or (raw.get("entry_id") if isinstance(raw, dict) else None)
        try:
            entry_id = uuid.UUID(str(ident))
        except ValueError:
            continue  # without an id the phone cannot ask for it again; the reply named it by index
        # as sent, but storable: a NUL in the item (the reason it was refused) cannot go into jsonb
        found.append(RefusedItem(entry_id, orjson.dumps(storable(raw)).decode(),
                             orjson.dumps(result["problem"]).decode()))
    return found


class _Rollback(Exception):
    """Leaves the unit (so it rolls back) carrying the problem reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


async def logged(uow: LedgerUoW, cmd: LogEntries, answer: Callable[[Judged], Reply], route: str,
                 raw_items: Sequence[Any] | None = None) -> tuple[Reply, bool]:
    """Run `log_entries` in a unit and answer it: the reply and whether it was replayed from the
    Idempotency-Key store. A reply with an error status stores nothing at all (the unit rolls back, the
    key is free again); any other is kept under the key with the entries. With `raw_items` (a batch),
    the refused items are kept for the student to list. A concurrent request that took a unique key
    first: run again (it then sees that request's result)."""
    for attempt in (1, 2):
        try:
            async with uow.begin() as unit:
                result = await log_entries(unit, cmd)
                if isinstance(result, Refusal):
                    raise problem(result)
                if isinstance(result, Replayed):
                    IDEMPOTENT_REPLAYS.labels(route).inc()
                    return replayed(result.reply), True
                reply = answer(result)
                if reply.status >= 400:
                    raise _Rollback(reply)
                refusals = refusals_of(reply, raw_items) if raw_items is not None else []
                unit.keep_reply(cmd.student_id, cmd.key, StoredReply(cmd.fingerprint, reply.status, reply.headers,
                                                                     reply.body), refusals)
            return reply, False
        except _Rollback as refused:
            return refused.reply, False
        except Contended:
            if attempt == 2:  # pragma: no cover - needs two races in a row
                raise Problem(409, "Conflicting concurrent request", "retry", type_=problem_type("conflict"),
                              headers={"Retry-After": "1"}) from None
    raise AssertionError("unreachable")
