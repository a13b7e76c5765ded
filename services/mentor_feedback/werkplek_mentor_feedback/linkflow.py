"""Use cases of the mentor page behind a link: `open_link` shows the request's entries and the
mentor's current placements (their agreed outcomes, latest assessments, signature), `decide_by_link`
applies everything the mentor chose — decisions, assessments, signatures — in one transaction, as the
same events a tool's webhooks produce. Opening does not use the link up (mail scanners prefetch
links); the first successful submission does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
import orjson
from werkplek_events import AssessmentRecorded, LearningAgreementSigned, TimeEntryConfirmed, TimeEntryRejected
from werkplek_events.vocabulary import ConfirmationChannel, Language, OutcomeKind

from .domain import Plan
from .handlers import count_applied
from .linkform import Choices, read_form
from .links import Link, LinkProblem, LinkRefused, read_token
from .payloads import (
    AgreementSigned,
    AssessedOutcome,
    AssessmentPayload,
    HoursConfirmed,
    HoursRejected,
    Kind,
    Payload,
)
from .pg_unit import PgUnit
from .usecases import apply_message

RECENTLY_ENDED = timedelta(days=60)  # a placement that ended this recently can still be assessed and signed
_ASSESSMENT_IDS = uuid.UUID("9c4e2a71-0d3b-4f58-8e6a-2b7c1d9f5e40")


@dataclass(frozen=True)
class ShownEntry:
    entry_id: uuid.UUID
    revision: int
    placement_id: str
    work_date: str
    minutes: int
    activity: str
    description: str
    decision: str | None


@dataclass(frozen=True)
class ShownOutcome:
    outcome_id: str
    title: str
    kind: OutcomeKind
    at_workplace: bool
    latest_level: str | None


@dataclass(frozen=True)
class ShownPlacement:
    placement_id: str
    student_id: str
    outcomes: tuple[ShownOutcome, ...]
    signed: bool
    entries: tuple[ShownEntry, ...]


@dataclass(frozen=True)
class Batch:
    request_id: str
    mentor_id: str
    expires_at: datetime
    language: Language | None  # the mentor's preference, if known
    placements: tuple[ShownPlacement, ...]

    @property
    def entries(self) -> list[ShownEntry]:
        return [e for p in self.placements for e in p.entries]


_UNLOCKED = ("SELECT request_id, mentor_id, entry_ids, expires_at, used_at FROM mf_confirmation_requests"
             " WHERE request_id = $1 AND channel = 'link'")
_LOCKED = _UNLOCKED + " FOR UPDATE"
_ENTRIES = """
SELECT entry_id, revision, placement_id, work_date, minutes, activity, description,
       CASE WHEN decided_revision = revision THEN decision END AS decision
FROM mf_entries WHERE entry_id = ANY($1::uuid[]) AND NOT withdrawn AND work_date IS NOT NULL
ORDER BY work_date, logged_at
"""
_PLACEMENTS = """
SELECT p.placement_id, p.student_id, p.outcomes,
       p.workplace_signed_at IS NOT NULL OR EXISTS (SELECT 1 FROM mf_signatures s WHERE s.placement_id = p.placement_id
                                                     AND s.party = 'workplace') AS signed
FROM mf_placements p
WHERE p.mentor_id = $1 AND (p.ended_on IS NULL OR p.ended_on >= $2 OR p.placement_id = ANY($3::text[]))
ORDER BY p.student_id, p.placement_id LIMIT 100
"""
_ASSESSMENTS = ("SELECT placement_id, outcomes FROM mf_assessments WHERE placement_id = ANY($1::text[])"
                " ORDER BY assessed_on, recorded_at")


async def _request(conn: asyncpg.Connection | asyncpg.Pool, link: Link, *, lock: bool = False) -> asyncpg.Record:
    row = await conn.fetchrow(_LOCKED if lock else _UNLOCKED, link.request_id)
    if row is None:
        raise LinkRefused(LinkProblem.TAMPERED)  # a valid MAC for a request we never made: a leaked key
    if row["used_at"] is not None:
        raise LinkRefused(LinkProblem.USED)
    return row


async def mark_opened(pool: asyncpg.Pool, request_id: str) -> bool:
    """True the first time the link is opened (a metric: links opened vs used)."""
    return bool(await pool.fetchval("UPDATE mf_confirmation_requests SET first_opened_at = now() WHERE request_id = $1"
                                    " AND first_opened_at IS NULL RETURNING true", request_id))


async def open_link(pool: asyncpg.Pool, key: bytes, token: str, *, now: float) -> Batch:
    link = read_token(key, token, now=now)
    row = await _request(pool, link)
    entries = [ShownEntry(r["entry_id"], r["revision"], r["placement_id"], r["work_date"].isoformat(), r["minutes"],
                          r["activity"], r["description"], r["decision"])
               for r in await pool.fetch(_ENTRIES, row["entry_ids"])]
    today = datetime.fromtimestamp(now, UTC).date()
    rows = await pool.fetch(_PLACEMENTS, row["mentor_id"], today - RECENTLY_ENDED,
                            sorted({e.placement_id for e in entries}))
    latest = await _latest_levels(pool, [r["placement_id"] for r in rows])
    placements = tuple(_placement(r, entries, latest) for r in rows)
    lang = await pool.fetchval("SELECT language FROM mf_contacts WHERE kind = 'mentor' AND subject_id = $1",
                               row["mentor_id"])
    return Batch(row["request_id"], row["mentor_id"], row["expires_at"], Language(lang) if lang else None, placements)


async def _latest_levels(pool: asyncpg.Pool, placement_ids: list[str]) -> dict[tuple[str, str], str]:
    latest: dict[tuple[str, str], str] = {}
    for r in await pool.fetch(_ASSESSMENTS, placement_ids):
        for o in orjson.loads(r["outcomes"]):
            latest[(r["placement_id"], o["outcome_id"])] = o["level"]
    return latest


def _placement(row: asyncpg.Record, entries: list[ShownEntry], latest: dict[tuple[str, str], str]) -> ShownPlacement:
    pid = row["placement_id"]
    outcomes = tuple(ShownOutcome(o["outcome_id"], o.get("title") or o["outcome_id"], OutcomeKind(o["kind"]),
                                  o.get("acquired_at", "workplace") == "workplace", latest.get((pid, o["outcome_id"])))
                     for o in orjson.loads(row["outcomes"]))
    return ShownPlacement(pid, row["student_id"], outcomes, row["signed"],
                          tuple(e for e in entries if e.placement_id == pid))


@dataclass(frozen=True)
class Summary:
    confirmed: int = 0
    rejected: int = 0
    assessed: int = 0
    signed: int = 0


def summary(plan: Plan) -> Summary:
    return Summary(confirmed=sum(isinstance(e, TimeEntryConfirmed) for e in plan.events),
                   rejected=sum(isinstance(e, TimeEntryRejected) for e in plan.events),
                   assessed=sum(len(e.outcomes) for e in plan.events if isinstance(e, AssessmentRecorded)),
                   signed=sum(isinstance(e, LearningAgreementSigned) for e in plan.events))


async def decide_by_link(pool: asyncpg.Pool, key: bytes, token: str, form: Mapping[str, str], *,
                         now: float, today: date) -> Plan:
    """Apply the choices and use the link up, in one transaction; raises LinkRefused, FormInvalid or
    domain.Refused (then nothing is stored and the link stays usable)."""
    batch = await open_link(pool, key, token, now=now)
    choices = read_form(form, batch)
    at = datetime.fromtimestamp(now, UTC)
    total = Plan()
    async with pool.acquire() as conn, conn.transaction():
        row = await _request(conn, Link(batch.request_id, int(batch.expires_at.timestamp())), lock=True)
        unit = PgUnit(conn)
        for kind, payload in payloads(row["mentor_id"], batch, choices, at, today):
            plan = await apply_message(unit, kind, payload, source_id=None, channel=ConfirmationChannel.LINK)
            total.events.extend(plan.events)
            total.results.extend(plan.results)
        await conn.execute("UPDATE mf_confirmation_requests SET used_at = $2 WHERE request_id = $1",
                           batch.request_id, at)
    count_applied(total.events)
    return total


def payloads(mentor_id: str, batch: Batch, choices: Choices, at: datetime, today: date) -> list[tuple[Kind, Payload]]:
    """The webhook messages a tool would have sent for the same choices."""
    out: list[tuple[Kind, Payload]] = []
    if choices.confirm:
        out.append((Kind.HOURS_CONFIRMED, HoursConfirmed(mentor_id=mentor_id, entries=choices.confirm)))
    if choices.reject:
        out.append((Kind.HOURS_REJECTED, HoursRejected(mentor_id=mentor_id, entries=choices.reject)))
    for a in choices.assessments:
        assessment_id = "link-" + uuid.uuid5(_ASSESSMENT_IDS, f"{batch.request_id}:{a.placement_id}").hex
        out.append((Kind.ASSESSMENT_RECORDED, AssessmentPayload(
            mentor_id=mentor_id, assessment_id=assessment_id, placement_id=a.placement_id, moment=a.moment,
            assessed_on=today, outcomes=[AssessedOutcome(outcome_id=o, kind=k, level=lvl, comment=c)
                                         for o, k, lvl, c in a.outcomes])))
    for placement_id in choices.sign:
        out.append((Kind.AGREEMENT_SIGNED, AgreementSigned(mentor_id=mentor_id, placement_id=placement_id,
                                                           signed_at=at)))
    return out
