"""HTTP of the time ledger (students, their own entries only). Entry points are thin: parse, run the
use case (`usecases/entries.py`) on the PostgreSQL unit of work, map its result to a status, a
problem document and an ETag. The POST bodies are read as raw JSON so the Idempotency-Key fingerprint and the
per-item results of a batch see exactly what the phone sent."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request, Response
from pydantic import ValidationError
from werkplek_common.auth import Principal
from werkplek_common.problems import Problem, problem_type
from werkplek_events.limits import Id
from werkplek_events.vocabulary import EntryStatus

from . import domain, entries_read
from .domain import Draft, Verdict, Violation
from .metrics import ENTRIES_ACCEPTED, ENTRIES_REFUSED
from .replies import Reply, dumps, idempotency, invalid, json_reply, logged, problem
from .schemas import BatchIn, BatchOut, EntryIn, EntryOut, EntryPage, EntryPatch
from .security import BEARER_DOC, student, student_of
from .uow_pg import Ledger
from .usecases.entries import (
    Changed,
    CorrectEntry,
    Judged,
    LogEntries,
    Reason,
    Refusal,
    WithdrawEntry,
    correct_entry,
    withdraw_entry,
)

router = APIRouter(prefix="/v1/me", tags=["time entries"])
Student = Annotated[Principal, Depends(student)]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
IDEM_DOC = {"parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
                            "description": "a fresh key per logical request; resend it unchanged on retry"}]}


def _ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger
    return ledger


async def _payload(request: Request) -> Any:
    try:
        return orjson.loads(await request.body())
    except orjson.JSONDecodeError as exc:
        raise Problem(400, "The body is not JSON", str(exc), type_=problem_type("malformed-json")) from None


def parse_draft(raw: Any) -> Draft | list[Violation]:
    try:
        e = EntryIn.model_validate(raw)
    except ValidationError as exc:
        return [Violation(".".join(str(p) for p in err["loc"]) or "body", err["msg"], "shape")
                for err in exc.errors()]
    return Draft(e.entry_id, e.placement_id, e.work_date, e.start_time, e.end_time, e.duration_minutes,
                 e.activity.value, tuple(e.outcome_ids), e.description)


def _item_problem(v: Verdict, instance: str) -> Problem:
    if v.kind == domain.CONFLICT:
        return Problem(409, "entry_id is already taken", "another entry has this id; generate a new UUIDv7",
                       type_=problem_type("entry-id-taken"),
                       errors=[{"field": "entry_id", "message": "already taken"}])
    return invalid(v.violations)


def _count(verdicts: Sequence[Verdict]) -> None:
    """Counted per label, not per entry: a batch has up to 500."""
    accepted: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for v in verdicts:
        if v.kind == domain.CREATED:
            accepted["logged"] += 1
        elif v.kind == domain.DUPLICATE:
            accepted["duplicate"] += 1
        elif v.kind == domain.CONFLICT:
            refused["entry_id_taken"] += 1
        else:
            refused.update({x.reason for x in v.violations})
    for kind, n in accepted.items():
        ENTRIES_ACCEPTED.labels(kind).inc(n)
    for reason, n in refused.items():
        ENTRIES_REFUSED.labels(reason).inc(n)


def _single(instance: str) -> Callable[[Judged], Reply]:
    def answer(judged: Judged) -> Reply:
        _count(judged.verdicts)
        v = judged.verdicts[0]
        if v.kind in (domain.CREATED, domain.DUPLICATE):
            assert v.entry_id is not None
            doc, version = judged.docs[v.entry_id]
            headers = {"ETag": domain.etag(version), "Location": f"/v1/me/entries/{v.entry_id}"}
            return json_reply(201 if v.kind == domain.CREATED else 200, doc, headers)
        problem = _item_problem(v, instance)
        return Reply(problem.status, dumps(problem.body(instance)))
    return answer


def _batch(instance: str) -> Callable[[Judged], Reply]:
    def answer(judged: Judged) -> Reply:
        _count(judged.verdicts)
        results = []
        for i, v in enumerate(judged.verdicts):
            item: dict[str, Any] = {"index": i, "entry_id": str(v.entry_id) if v.entry_id else None}
            if v.kind in (domain.CREATED, domain.DUPLICATE):
                assert v.entry_id is not None
                item.update(status=201 if v.kind == domain.CREATED else 200, entry=judged.docs[v.entry_id][0])
            else:
                problem = _item_problem(v, f"{instance}#{i}")
                item.update(status=problem.status, problem=problem.body(f"{instance}#{i}"))
            results.append(item)
        accepted = sum(1 for r in results if r["status"] < 300)
        return json_reply(200, {"accepted": accepted, "refused": len(results) - accepted, "results": results})
    return answer


def _changed(result: Changed | Refusal) -> Response:
    if isinstance(result, Refusal):
        if result.reason is Reason.INVALID:
            for reason in {v.reason for v in result.violations}:
                ENTRIES_REFUSED.labels(reason).inc()
        raise problem(result)
    ENTRIES_ACCEPTED.labels(result.label).inc()
    return Response(dumps(result.doc), media_type="application/json", headers={"ETag": domain.etag(result.version)})


def _body_doc(model: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"#/components/schemas/{model}"}}}}, **IDEM_DOC, **BEARER_DOC}


@router.post("/entries", status_code=201, openapi_extra=_body_doc("EntryIn"),
             responses={201: {"model": EntryOut, "description": "committed"},
                        200: {"model": EntryOut, "description": "this entry_id was already logged"},
                        400: PROBLEM, 409: PROBLEM, 422: PROBLEM})
async def log_entry(request: Request) -> Response:
    """Log one entry. Safe to resend: same Idempotency-Key → the stored answer; same entry_id → no
    second entry."""
    who = await student_of(request)
    payload = await _payload(request)
    idem = idempotency(request, payload)
    item = parse_draft(payload)
    if isinstance(item, list):
        raise invalid(item, "The entry is not valid")
    ledger = _ledger(request)
    cmd = LogEntries(who.subject, [item], idem.key, idem.fingerprint, ledger.clock)
    reply, replayed = await logged(ledger, cmd, _single(request.scope["path"]), "/v1/me/entries")
    return reply.response(replayed=replayed)


@router.post("/entries/batch", openapi_extra=_body_doc("BatchIn"),
             responses={200: {"model": BatchOut, "description": "per-item results; 201/200 items are committed"},
                        400: PROBLEM, 409: PROBLEM, 422: PROBLEM})
async def log_batch(request: Request) -> Response:
    """Offline sync: up to 500 entries, judged one by one (an invalid item does not stop the others)."""
    who = await student_of(request)
    payload = await _payload(request)
    idem = idempotency(request, payload)
    try:
        batch = BatchIn.model_validate(payload)
    except ValidationError as exc:
        raise invalid([Violation(".".join(str(p) for p in e["loc"]), e["msg"], "shape") for e in exc.errors()],
                      "The batch is not valid") from None
    items = [parse_draft(raw) for raw in batch.entries]
    ledger = _ledger(request)
    cmd = LogEntries(who.subject, items, idem.key, idem.fingerprint, ledger.clock)
    reply, replayed = await logged(ledger, cmd, _batch(request.scope["path"]), "/v1/me/entries/batch",
                                   batch.entries)
    return reply.response(replayed=replayed)


@router.get("/entries", response_model=EntryPage)
async def list_entries(request: Request, who: Student, placement_id: Id | None = None,
                       from_: Annotated[date | None, Query(alias="from")] = None,
                       to: date | None = None,
                       status: EntryStatus | None = None,
                       cursor: str | None = None,
                       limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    """Own entries by work date, keyset-paginated (pass next_cursor back as cursor)."""
    page = await entries_read.page(_ledger(request).pool, who.subject, placement_id, from_, to, status, cursor,
                                   limit)
    return Response(dumps(page), media_type="application/json")


@router.get("/entries/{entry_id}", response_model=EntryOut, responses={404: PROBLEM})
async def get_entry(request: Request, who: Student, entry_id: uuid.UUID) -> Response:
    doc, version = await entries_read.one(_ledger(request).pool, who.subject, entry_id)
    return Response(dumps(doc), media_type="application/json", headers={"ETag": domain.etag(version)})


@router.patch("/entries/{entry_id}", response_model=EntryOut,
              responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM, 422: PROBLEM, 428: PROBLEM})
async def correct(request: Request, who: Student, entry_id: uuid.UUID, change: EntryPatch,
                  if_match: Annotated[str | None, Header()] = None) -> Response:
    """Correct an entry: a new revision. Needs If-Match with the entry's ETag; a confirmed entry is
    immutable."""
    changes = change.model_dump(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k in ("start_time", "end_time", "duration_minutes")}
    if "activity" in changes:
        changes["activity"] = changes["activity"].value
    if "outcome_ids" in changes:
        changes["outcome_ids"] = tuple(changes["outcome_ids"])
    ledger = _ledger(request)
    return _changed(await correct_entry(ledger, CorrectEntry(who.subject, entry_id, changes, if_match, ledger.clock)))


@router.delete("/entries/{entry_id}", response_model=EntryOut,
               responses={404: PROBLEM, 409: PROBLEM, 412: PROBLEM})
async def withdraw(request: Request, who: Student, entry_id: uuid.UUID,
                   if_match: Annotated[str | None, Header()] = None) -> Response:
    """Withdraw an entry (a revision of its own; the facts stay in the ledger)."""
    return _changed(await withdraw_entry(_ledger(request), WithdrawEntry(who.subject, entry_id, if_match)))
