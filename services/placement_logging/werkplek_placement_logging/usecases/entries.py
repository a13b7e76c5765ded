"""Use cases of the time ledger, over the ports of `uow.py`:

- `log_entries(unit, LogEntries)`: one entry or a batch, judged by the rules (`domain.judge`) in the
  unit the entrypoint opened (it keeps the reply under the Idempotency-Key in the same unit, see
  `replies.logged`); returns `Judged` (the verdicts and the documents of the accepted entries),
  `Replayed` (the stored reply of a completed request with this key) or a `Refusal`;
- `correct_entry(uow, CorrectEntry)`: a new revision (TimeEntryCorrected), `Changed` or a `Refusal`;
- `withdraw_entry(uow, WithdrawEntry)`: a withdrawal (TimeEntryWithdrawn), `Changed` or a `Refusal`.

A refusal stores nothing (the unit rolls back). The entrypoint (`routes_entries.py`) maps results to
statuses, problem documents and ETags."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from werkplek_events import TimeEntryCorrected, TimeEntryLogged, TimeEntryWithdrawn
from werkplek_events.base import new_event_id
from werkplek_events.vocabulary import EntryStatus

from .. import domain
from ..domain import Draft, Facts, Verdict, Violation
from ..uow import LedgerUnit, LedgerUoW, StoredEntry, StoredReply


class Reason(StrEnum):
    """Why a request to the ledger was refused."""

    KEY_IN_FLIGHT = "idempotency_key_in_flight"  # a request with this Idempotency-Key is in progress
    KEY_REUSED = "idempotency_key_reused"  # the key answered another payload
    IF_MATCH_REQUIRED = "if_match_required"  # a correction without the entry's ETag
    NOT_FOUND = "not_found"  # no entry of the student with this id
    CHANGED = "changed"  # If-Match names another version
    IMMUTABLE = "immutable"  # confirmed or withdrawn: it cannot change
    INVALID = "invalid"  # the correction breaks a rule


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    detail: str = ""
    violations: tuple[Violation, ...] = ()  # INVALID: each rule broken
    version: int | None = None  # CHANGED: the entry's current version
    standing: EntryStatus | None = None  # IMMUTABLE: the entry's status


@dataclass(frozen=True)
class Clock:
    """The ledger's local time (work dates are local) and the clock skew allowed to a phone."""

    tz: ZoneInfo
    skew: timedelta

    def local(self, now: datetime) -> datetime:
        return now.astimezone(self.tz).replace(tzinfo=None)


Doc = dict[str, Any]


def entry_doc(facts: Facts, revision: int, status: EntryStatus, logged_at: datetime, updated_at: datetime,
              rejection: dict[str, str] | None = None) -> Doc:
    return {"entry_id": facts.entry_id, "placement_id": facts.placement_id, "revision": revision,
            "work_date": facts.work_date, "start_time": facts.start_time, "end_time": facts.end_time,
            "duration_minutes": facts.duration_minutes, "activity": facts.activity,
            "outcome_ids": list(facts.outcome_ids), "description": facts.description, "status": status,
            "rejection": rejection, "logged_at": logged_at, "updated_at": updated_at}


def document(entry: StoredEntry) -> Doc:
    """The entry as the API shows it."""
    status = domain.status_of(entry.decision, entry.withdrawn)
    rejection = ({"reason": entry.rejection_reason, "comment": entry.rejection_comment or ""}
                 if status is domain.REJECTED and entry.rejection_reason is not None else None)
    return entry_doc(entry.facts, entry.revision, status, entry.logged_at, entry.updated_at, rejection)


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


# --- logging entries -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LogEntries:
    student_id: str
    items: Sequence[Draft | list[Violation]]  # as parsed: a draft, or why it is not one
    key: str  # the Idempotency-Key
    fingerprint: bytes  # of the request (method, path, canonical payload)
    clock: Clock


@dataclass(frozen=True)
class Judged:
    """The verdict on each item in order, and the document and version of every accepted entry (new or
    logged before). The accepted new entries and their events are staged in the unit."""

    verdicts: list[Verdict]
    docs: dict[uuid.UUID, tuple[Doc, int]]


@dataclass(frozen=True)
class Replayed:
    """A completed request with this Idempotency-Key: its reply, as stored."""

    reply: StoredReply


async def log_entries(unit: LedgerUnit, cmd: LogEntries) -> Judged | Replayed | Refusal:
    drafts = [i for i in cmd.items if isinstance(i, Draft)]
    head = await unit.begin_log(cmd.student_id, cmd.key, drafts)
    if not head.got:
        return Refusal(Reason.KEY_IN_FLIGHT, "retry after it has completed")
    if head.stored is not None:
        if head.stored.fingerprint != cmd.fingerprint:
            return Refusal(Reason.KEY_REUSED, "this key was used for a different payload; use a new key for a "
                           "new request")
        return Replayed(head.stored)
    now = head.now
    verdicts = domain.judge(cmd.items, head.placements, head.day, head.existing, cmd.student_id,
                            cmd.clock.local(now), cmd.clock.skew)
    created = [v.facts for v in verdicts if v.facts is not None]
    docs = {f.entry_id: (entry_doc(f, 1, domain.PENDING, now, now), 1) for f in created}
    duplicates = [v.entry_id for v in verdicts
                  if v.kind == domain.DUPLICATE and v.entry_id is not None and v.entry_id not in docs]
    if duplicates:
        docs.update({e.facts.entry_id: (document(e), e.version) for e in await unit.entries(duplicates)})
    ids = event_ids(len(created))
    unit.log(cmd.student_id, created, [logged_event(f, cmd.student_id, now, i) for f, i in zip(created, ids,
                                                                                               strict=True)])
    return Judged(verdicts, docs)


# --- correcting and withdrawing --------------------------------------------------------------------

@dataclass(frozen=True)
class CorrectEntry:
    student_id: str
    entry_id: uuid.UUID
    changes: dict[str, Any]  # the fields to change, as the rules read them (activity by value, outcomes a tuple)
    if_match: str | None
    clock: Clock


@dataclass(frozen=True)
class WithdrawEntry:
    student_id: str
    entry_id: uuid.UUID
    if_match: str | None


@dataclass(frozen=True)
class Changed:
    """The entry after the change: its document and version."""

    doc: Doc
    version: int
    label: str  # what changed: corrected / withdrawn (the metric label)


class _Refused(Exception):
    """Leaves the unit (so it rolls back) carrying the refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


async def _locked_entry(unit: LedgerUnit, student_id: str, entry_id: uuid.UUID,
                        if_match: str | None) -> tuple[StoredEntry, datetime]:
    now = await unit.lock_student(student_id)
    entry = await unit.entry(student_id, entry_id)
    if entry is None:
        raise _Refused(Refusal(Reason.NOT_FOUND, "you have no entry with this id"))
    if if_match is not None and not domain.etag_matches(if_match, entry.version):
        raise _Refused(Refusal(Reason.CHANGED, f"its current ETag is {domain.etag(entry.version)}; read it again "
                               "and resend the change", version=entry.version))
    reason = domain.refuse_change(entry.decision, entry.withdrawn)
    if reason:
        raise _Refused(Refusal(Reason.IMMUTABLE, reason, standing=domain.status_of(entry.decision, entry.withdrawn)))
    return entry, now


async def correct_entry(uow: LedgerUoW, cmd: CorrectEntry) -> Changed | Refusal:
    """A correction is a new revision (TimeEntryCorrected); it needs the mentor's decision anew."""
    if cmd.if_match is None:
        return Refusal(Reason.IF_MATCH_REQUIRED, "send the entry's ETag in If-Match, so a change made meanwhile (on "
                       "another phone, or by the mentor) is not overwritten")
    try:
        async with uow.begin() as unit:
            entry, now = await _locked_entry(unit, cmd.student_id, cmd.entry_id, cmd.if_match)
            draft = domain.patched(entry.facts, cmd.changes)
            placements, day = await unit.context(cmd.student_id, [draft.placement_id], [draft.work_date])
            facts, errors = domain.validate(draft, placements.get(draft.placement_id), cmd.student_id, day,
                                            cmd.clock.local(now), cmd.clock.skew)
            if facts is None:
                raise _Refused(Refusal(Reason.INVALID, violations=tuple(errors)))
            revision = entry.revision + 1
            event = TimeEntryCorrected(**logged_event(facts, cmd.student_id, now).model_dump(
                exclude={"event_id", "revision"}), revision=revision)
            await unit.correct(cmd.student_id, facts, event, revision)
    except _Refused as refused:
        return refused.refusal
    return Changed(entry_doc(facts, revision, domain.PENDING, entry.logged_at, now), entry.version + 1, "corrected")


async def withdraw_entry(uow: LedgerUoW, cmd: WithdrawEntry) -> Changed | Refusal:
    """A withdrawal is a revision of its own; the facts stay in the ledger."""
    try:
        async with uow.begin() as unit:
            entry, now = await _locked_entry(unit, cmd.student_id, cmd.entry_id, cmd.if_match)
            event = TimeEntryWithdrawn(entry_id=cmd.entry_id, student_id=cmd.student_id,
                                       placement_id=entry.facts.placement_id, revision=entry.revision + 1,
                                       occurred_at=now)
            updated = await unit.withdraw(entry, event)
    except _Refused as refused:
        return refused.refusal
    return Changed(entry_doc(entry.facts, entry.revision + 1, domain.WITHDRAWN, entry.logged_at, updated),
                   entry.version + 1, "withdrawn")
