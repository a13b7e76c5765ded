"""Use cases of the time ledger: log entries (one or a batch), correct an entry, withdraw an entry.
Each runs in one transaction that stores the facts and stages their events (no dual write)."""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from werkplek_common.problems import Problem, problem_type
from werkplek_events import TimeEntryCorrected, TimeEntryLogged, TimeEntryWithdrawn
from werkplek_events.base import new_event_id
from werkplek_events.limits import storable
from werkplek_events.vocabulary import EntryStatus

from . import domain
from . import ledger_sql as sql
from .domain import Draft, Facts, Verdict, Violation
from .metrics import ENTRIES_ACCEPTED, ENTRIES_REFUSED, IDEMPOTENT_REPLAYS
from .nudge import RelayNudge
from .replies import Idem, Reply, in_flight, invalid, replay


@dataclass(frozen=True)
class Ledger:
    pool: asyncpg.Pool
    producer: str
    source: str
    tz: ZoneInfo
    skew: timedelta
    nudge: RelayNudge | None = None  # None: every transaction notifies the relay

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.tz).replace(tzinfo=None)


Render = Callable[[list[Verdict], dict[uuid.UUID, tuple[dict[str, Any], int]]], Reply]


def entry_doc(facts: Facts, revision: int, status: EntryStatus, logged_at: datetime, updated_at: datetime,
              rejection: dict[str, str] | None = None) -> dict[str, Any]:
    return {"entry_id": facts.entry_id, "placement_id": facts.placement_id, "revision": revision,
            "work_date": facts.work_date, "start_time": facts.start_time, "end_time": facts.end_time,
            "duration_minutes": facts.duration_minutes, "activity": facts.activity,
            "outcome_ids": list(facts.outcome_ids), "description": facts.description, "status": status,
            "rejection": rejection, "logged_at": logged_at, "updated_at": updated_at}


def row_facts(row: asyncpg.Record) -> Facts:
    return Facts(row["entry_id"], row["placement_id"], row["work_date"], row["start_time"], row["end_time"],
                 row["duration_minutes"], row["activity"], tuple(row["outcome_ids"]), row["description"])


def row_doc(row: asyncpg.Record) -> dict[str, Any]:
    status = domain.status_of(EntryStatus(row["decision"]), row["withdrawn"])
    rejection = ({"reason": row["rejection_reason"], "comment": row["rejection_comment"] or ""}
                 if status is domain.REJECTED and row["rejection_reason"] is not None else None)
    return entry_doc(row_facts(row), row["revision"], status, row["logged_at"], row["updated_at"], rejection)


def event_ids(n: int) -> list[uuid.UUID]:
    """Random (version 4) event ids, like the events' default, from one read of the OS's randomness
    instead of one per event (a batch has up to 500)."""
    raw = os.urandom(16 * n)
    return [uuid.UUID(bytes=raw[i:i + 16], version=4) for i in range(0, 16 * n, 16)]


def logged_event(facts: Facts, student_id: str, now: datetime, event_id: uuid.UUID | None = None,
                 ) -> TimeEntryLogged:
    return TimeEntryLogged(event_id=event_id or new_event_id(), entry_id=facts.entry_id, student_id=student_id,
                           placement_id=facts.placement_id, revision=1, work_date=facts.work_date,
                           start_time=facts.start_time, end_time=facts.end_time,
                           duration_minutes=facts.duration_minutes, activity=facts.activity,
                           outcome_ids=list(facts.outcome_ids),
                           description=facts.description, occurred_at=now)


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


def refusals_of(reply: Reply, raw_items: Sequence[Any]) -> list[sql.Refusal]:
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
        found.append(sql.Refusal(entry_id, orjson.dumps(storable(raw)).decode(),
                                 orjson.dumps(result["problem"]).decode()))
    return found


async def log_entries(ledger: Ledger, student_id: str, items: Sequence[Draft | list[Violation]], idem: Idem,
                      render: Render, route: str, raw_items: Sequence[Any] | None = None) -> tuple[Reply, bool]:
    """Returns the reply and whether it was replayed from the Idempotency-Key store. A reply with an
    error status stores nothing at all (the transaction rolls back, the key is free again). With
    `raw_items` (a batch), the refused items are stored for the student to list."""
    for attempt in (1, 2):
        try:
            return await _log_once(ledger, student_id, items, idem, render, route, raw_items)
        except _Refused as refused:
            return refused.reply, False
        except asyncpg.UniqueViolationError:
            if attempt == 2:  # pragma: no cover - needs two races in a row
                raise Problem(409, "Conflicting concurrent request", "retry", type_=problem_type("conflict"),
                              headers={"Retry-After": "1"}) from None
    raise AssertionError("unreachable")


async def _log_once(ledger: Ledger, student_id: str, items: Sequence[Draft | list[Violation]], idem: Idem,
                    render: Render, route: str, raw_items: Sequence[Any] | None) -> tuple[Reply, bool]:
    drafts = [i for i in items if isinstance(i, Draft)]
    async with ledger.pool.acquire() as conn, conn.transaction():
        head = await sql.begin_log(conn, student_id, idem.key, drafts)
        if not head.got:
            raise in_flight()
        if head.stored is not None:
            IDEMPOTENT_REPLAYS.labels(route).inc()
            return replay(head.stored, idem), True
        now = head.now
        verdicts = domain.judge(items, head.placements, head.day, head.existing, student_id, ledger.local(now),
                               ledger.skew)
        created = [v.facts for v in verdicts if v.facts is not None]
        docs = {f.entry_id: (entry_doc(f, 1, domain.PENDING, now, now), 1) for f in created}
        duplicates = [v.entry_id for v in verdicts if v.kind == domain.DUPLICATE and v.entry_id not in docs]
        if duplicates:
            rows = await conn.fetch(f"SELECT {sql.ENTRY_COLUMNS} FROM pl_entry WHERE entry_id = ANY($1::uuid[])",  # noqa: S608
                                    duplicates)
            docs.update({r["entry_id"]: (row_doc(r), r["version"]) for r in rows})
        reply = render(verdicts, docs)
        _count(verdicts)
        if reply.status >= 400:
            raise _Refused(reply)
        ids = event_ids(len(created))
        events = [logged_event(f, student_id, now, i) for f, i in zip(created, ids, strict=True)]
        columns = sql.facts_columns(created, [e.event_id for e in events], [1] * len(created), "logged")
        stored = (student_id, idem.key, idem.fingerprint, reply.status, orjson.dumps(reply.headers).decode(),
                  reply.body)
        notify = ledger.nudge is None or ledger.nudge.claim()
        refusals = refusals_of(reply, raw_items) if raw_items is not None else []
        await sql.write(conn, student_id, columns, events, producer=ledger.producer, source=ledger.source,
                        replay=stored, notify=notify, refusals=refusals)
        commit_sent = time.monotonic()  # the COMMIT goes out when the block ends
    if events and ledger.nudge is not None:
        if notify:
            ledger.nudge.notified(commit_sent)
        else:
            ledger.nudge.committed_without()
    return reply, False


class _Refused(Exception):
    """Leaves the transaction (so it rolls back) carrying the rendered problem reply."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


async def _locked_entry(conn: asyncpg.Connection, student_id: str, entry_id: uuid.UUID,
                        if_match: str | None) -> tuple[asyncpg.Record, datetime]:
    now = await conn.fetchval("SELECT now() FROM (SELECT pg_advisory_xact_lock($1)) l", sql.student_lock(student_id))
    row = await sql.fetch_entry(conn, student_id, entry_id)
    if row is None:
        raise Problem(404, "No such entry", "you have no entry with this id", type_=problem_type("not-found"))
    if if_match is not None and not domain.etag_matches(if_match, row["version"]):
        raise Problem(412, "The entry has changed", f"its current ETag is {domain.etag(row['version'])}; "
                      "read it again and resend the change", type_=problem_type("precondition-failed"),
                      headers={"ETag": domain.etag(row["version"])})
    standing = EntryStatus(row["decision"])
    reason = domain.refuse_change(standing, row["withdrawn"])
    if reason:
        raise Problem(409, "The entry cannot be changed", reason, type_=problem_type("entry-immutable"),
                      reason=domain.status_of(standing, row["withdrawn"]).value)
    return row, now


def precondition_required() -> Problem:
    return Problem(428, "If-Match is required", "send the entry's ETag in If-Match, so a change made "
                   "meanwhile (on another phone, or by the mentor) is not overwritten",
                   type_=problem_type("precondition-required"),
                   errors=[{"field": "header.If-Match", "message": "required"}])


async def correct_entry(ledger: Ledger, student_id: str, entry_id: uuid.UUID, changes: dict[str, Any],
                        if_match: str | None) -> tuple[dict[str, Any], int]:
    """A correction is a new revision (TimeEntryCorrected); it needs the mentor's decision anew."""
    if if_match is None:
        raise precondition_required()
    async with ledger.pool.acquire() as conn, conn.transaction():
        row, now = await _locked_entry(conn, student_id, entry_id, if_match)
        draft = domain.patched(row_facts(row), changes)
        placements, day, _ = await sql.read_context(conn, student_id, [draft.placement_id], [draft.work_date], [])
        facts, errors = domain.validate(draft, placements.get(draft.placement_id), student_id, day,
                                        ledger.local(now), ledger.skew)
        if facts is None:
            for reason in {e.reason for e in errors}:
                ENTRIES_REFUSED.labels(reason).inc()
            raise invalid(errors, "The correction is not valid")
        revision = row["revision"] + 1
        event = TimeEntryCorrected(**logged_event(facts, student_id, now).model_dump(
            exclude={"event_id", "revision"}), revision=revision)
        columns = sql.facts_columns([facts], [event.event_id], [revision], "corrected")
        await sql.write(conn, student_id, columns, [event], producer=ledger.producer, source=ledger.source,
                        replay=None)
    ENTRIES_ACCEPTED.labels("corrected").inc()
    return entry_doc(facts, revision, domain.PENDING, row["logged_at"], now), row["version"] + 1


async def withdraw_entry(ledger: Ledger, student_id: str, entry_id: uuid.UUID,
                         if_match: str | None) -> tuple[dict[str, Any], int]:
    async with ledger.pool.acquire() as conn, conn.transaction():
        row, now = await _locked_entry(conn, student_id, entry_id, if_match)
        event = TimeEntryWithdrawn(entry_id=entry_id, student_id=student_id, placement_id=row["placement_id"],
                                   revision=row["revision"] + 1, occurred_at=now)
        updated = await sql.mark_withdrawn(conn, row, event, producer=ledger.producer, source=ledger.source)
    ENTRIES_ACCEPTED.labels("withdrawn").inc()
    return entry_doc(row_facts(row), row["revision"] + 1, domain.WITHDRAWN, row["logged_at"], updated), \
        row["version"] + 1
