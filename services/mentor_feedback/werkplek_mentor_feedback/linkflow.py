"""Use cases of the confirmation links: `open_link` shows a batch's entries, `decide_by_link` applies
the mentor's choices once. Opening does not use the link up (mail scanners prefetch links); the
first successful submission does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg
from werkplek_events.limits import TEXT_MAX, text_fault
from werkplek_events.vocabulary import ConfirmationChannel, RejectionReason

from .domain import Plan
from .handlers import apply_message, count_applied
from .links import Link, LinkProblem, LinkRefused, read_token
from .payloads import EntryRef, HoursConfirmed, HoursRejected, Kind, RejectedEntry


@dataclass(frozen=True)
class ShownEntry:
    entry_id: uuid.UUID
    revision: int
    student_id: str
    work_date: str
    minutes: int
    activity: str
    description: str
    decision: str | None


@dataclass(frozen=True)
class Batch:
    request_id: str
    mentor_id: str
    expires_at: datetime
    entries: list[ShownEntry]


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class Choices:
    confirm: list[EntryRef] = field(default_factory=list)
    reject: list[RejectedEntry] = field(default_factory=list)


_UNLOCKED = ("SELECT request_id, mentor_id, entry_ids, expires_at, used_at FROM mf_confirmation_requests"
             " WHERE request_id = $1 AND channel = 'link'")
_LOCKED = _UNLOCKED + " FOR UPDATE"


async def _request(conn: asyncpg.Connection | asyncpg.Pool, link: Link, *, lock: bool = False) -> asyncpg.Record:
    row = await conn.fetchrow(_LOCKED if lock else _UNLOCKED, link.request_id)
    if row is None:
        raise LinkRefused(LinkProblem.TAMPERED)  # a valid MAC for a request we never made: a leaked key
    if row["used_at"] is not None:
        raise LinkRefused(LinkProblem.USED)
    return row


async def open_link(pool: asyncpg.Pool, key: bytes, token: str, *, now: float) -> Batch:
    link = read_token(key, token, now=now)
    row = await _request(pool, link)
    rows = await pool.fetch(
        "SELECT entry_id, revision, student_id, work_date, minutes, activity, description,"
        " CASE WHEN decided_revision = revision THEN decision END AS decision FROM mf_entries"
        " WHERE entry_id = ANY($1::uuid[]) AND NOT withdrawn AND work_date IS NOT NULL ORDER BY work_date, logged_at",
        row["entry_ids"])
    entries = [ShownEntry(r["entry_id"], r["revision"], r["student_id"], r["work_date"].isoformat(), r["minutes"],
                          r["activity"], r["description"], r["decision"]) for r in rows]
    return Batch(row["request_id"], row["mentor_id"], row["expires_at"], entries)


def read_choices(form: Mapping[str, str], batch: Batch) -> Choices:
    """Form fields per entry: `decision-<id>` (confirm / reject / empty), `revision-<id>`,
    `reason-<id>`, `comment-<id>`. Only entries of the batch count."""
    choices, errors = Choices(), {}
    for e in batch.entries:
        decision = form.get(f"decision-{e.entry_id}", "")
        given = form.get(f"revision-{e.entry_id}", "")
        revision = int(given) if given.isascii() and given.isdigit() and len(given) <= 9 else e.revision
        if decision == "confirm":
            choices.confirm.append(EntryRef(entry_id=e.entry_id, revision=revision))
        elif decision == "reject":
            reason, comment = form.get(f"reason-{e.entry_id}", ""), form.get(f"comment-{e.entry_id}", "").strip()
            if reason not in {r.value for r in RejectionReason} or not comment or len(comment) > TEXT_MAX:
                errors[str(e.entry_id)] = "a rejection needs a reason and a short explanation"
                continue
            if fault := text_fault(comment):
                errors[str(e.entry_id)] = f"the explanation {fault}"
                continue
            choices.reject.append(RejectedEntry(entry_id=e.entry_id, revision=revision,
                                                reason=RejectionReason(reason), comment=comment))
    if errors:
        raise FormInvalid(errors)
    if not (choices.confirm or choices.reject):
        raise FormInvalid({"form": "choose confirm or reject for at least one entry"})
    return choices


async def decide_by_link(pool: asyncpg.Pool, key: bytes, token: str, form: Mapping[str, str], *,
                         now: float) -> Plan:
    """Apply the choices and use the link up, in one transaction; raises LinkRefused, FormInvalid or
    domain.Refused (then nothing is stored and the link stays usable)."""
    batch = await open_link(pool, key, token, now=now)
    choices = read_choices(form, batch)
    total = Plan()
    async with pool.acquire() as conn, conn.transaction():
        row = await _request(conn, Link(batch.request_id, int(batch.expires_at.timestamp())), lock=True)
        for kind, payload in _payloads(row["mentor_id"], choices):
            plan = await apply_message(conn, kind, payload, source_id=None, channel=ConfirmationChannel.LINK)
            total.events.extend(plan.events)
            total.results.extend(plan.results)
        await conn.execute("UPDATE mf_confirmation_requests SET used_at = $2 WHERE request_id = $1",
                           batch.request_id, datetime.fromtimestamp(now, UTC))
    count_applied(total.events)
    return total


def _payloads(mentor_id: str, choices: Choices) -> list[tuple[Kind, HoursConfirmed | HoursRejected]]:
    out: list[tuple[Kind, HoursConfirmed | HoursRejected]] = []
    if choices.confirm:
        out.append((Kind.HOURS_CONFIRMED, HoursConfirmed(mentor_id=mentor_id, entries=choices.confirm)))
    if choices.reject:
        out.append((Kind.HOURS_REJECTED, HoursRejected(mentor_id=mentor_id, entries=choices.reject)))
    return out
