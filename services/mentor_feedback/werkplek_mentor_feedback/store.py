"""PostgreSQL access for mentor feedback: load the facts a message is judged on (entries locked for
the decision), store what an accepted message changed, and the webhook idempotency ledger."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg
from werkplek_events import (
    AssessmentRecorded,
    Event,
    LearningAgreementSigned,
    TimeEntryConfirmed,
    TimeEntryDecisionReversed,
    TimeEntryRejected,
)
from werkplek_events.vocabulary import Decision, OutcomeKind

from .domain import Entry, Mentor, Placement


async def source_secrets(conn: asyncpg.Connection | asyncpg.Pool, source_id: str,
                         now: datetime | None = None) -> list[str]:
    """The secrets valid at `now`: not past the grace period of a rotation, of a source not retired."""
    rows = await conn.fetch(
        "SELECT k.secret FROM mf_source_secrets k JOIN mf_sources s USING (source_id) WHERE k.source_id = $1"
        " AND s.retired_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > COALESCE($2, now()))"
        " ORDER BY k.created_at", source_id, now)
    return [r["secret"] for r in rows]


async def mentor(conn: asyncpg.Connection, mentor_id: str) -> Mentor | None:
    row = await conn.fetchrow("SELECT mentor_id, webhook_source FROM mf_mentors WHERE mentor_id = $1", mentor_id)
    return Mentor(row["mentor_id"], row["webhook_source"]) if row else None


def _placement(row: asyncpg.Record) -> Placement:
    outcomes = json.loads(row["outcomes"]) if isinstance(row["outcomes"], str) else row["outcomes"]
    return Placement(row["placement_id"], row["student_id"], row["mentor_id"],
                     {o["outcome_id"]: OutcomeKind(o["kind"]) for o in outcomes})


async def placements(conn: asyncpg.Connection, ids: Iterable[str]) -> dict[str, Placement]:
    rows = await conn.fetch("SELECT placement_id, student_id, mentor_id, outcomes FROM mf_placements"
                            " WHERE placement_id = ANY($1::text[])", list(set(ids)))
    return {r["placement_id"]: _placement(r) for r in rows}


async def entries_for_update(conn: asyncpg.Connection, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entry]:
    """Lock the entries (in id order, so two messages never deadlock) for the rest of the transaction."""
    rows = await conn.fetch(
        "SELECT entry_id, student_id, placement_id, revision, withdrawn, decision, decided_revision"
        " FROM mf_entries WHERE entry_id = ANY($1::uuid[]) AND work_date IS NOT NULL"
        " ORDER BY entry_id FOR UPDATE", list(ids))
    return {r["entry_id"]: Entry(r["entry_id"], r["student_id"], r["placement_id"], r["revision"], r["withdrawn"],
                                 Decision(r["decision"]) if r["decision"] else None, r["decided_revision"])
            for r in rows}


async def assessment_exists(conn: asyncpg.Connection, assessment_id: str) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM mf_assessments WHERE assessment_id = $1", assessment_id))


async def workplace_signed(conn: asyncpg.Connection, placement_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT 1 FROM mf_signatures WHERE placement_id = $1 AND party = 'workplace'", placement_id))


async def record(conn: asyncpg.Connection, events: Sequence[Event]) -> None:
    """Store what the accepted events change (the caller stages them in the outbox, same transaction)."""
    for event in events:
        if isinstance(event, TimeEntryConfirmed | TimeEntryRejected):
            await _record_decision(conn, event)
        elif isinstance(event, TimeEntryDecisionReversed):
            await conn.execute("UPDATE mf_entries SET decision = NULL, decided_revision = NULL, decided_at = now()"
                               " WHERE entry_id = $1", event.entry_id)
            await _log(conn, event, "reversed", None, "webhook", event.comment)
        elif isinstance(event, AssessmentRecorded):
            await conn.execute(
                "INSERT INTO mf_assessments(assessment_id, student_id, placement_id, mentor_id, moment, assessed_on,"
                " outcomes, event_id) VALUES ($1,$2,$3,$4,$5,$6,$7::jsonb,$8)", event.assessment_id,
                event.student_id, event.placement_id, event.mentor_id, event.moment.value, event.assessed_on,
                json.dumps([o.model_dump(mode="json") for o in event.outcomes]), event.event_id)
        elif isinstance(event, LearningAgreementSigned):
            await conn.execute("INSERT INTO mf_signatures(placement_id, party, signed_by, signed_at, event_id)"
                               " VALUES ($1,$2,$3,$4,$5)", event.placement_id, event.party.value, event.signed_by,
                               event.signed_at, event.event_id)


async def _record_decision(conn: asyncpg.Connection, event: TimeEntryConfirmed | TimeEntryRejected) -> None:
    decision = event.DECISION
    await conn.execute("UPDATE mf_entries SET decision = $2, decided_revision = $3, decided_at = now()"
                       " WHERE entry_id = $1", event.entry_id, decision.value, event.entry_revision)
    reason = event.reason.value if isinstance(event, TimeEntryRejected) else None
    comment = event.comment if isinstance(event, TimeEntryRejected) else ""
    await _log(conn, event, decision.value, reason, event.channel.value, comment)


async def _log(conn: asyncpg.Connection, event: Any, action: str, reason: str | None, channel: str,
               comment: str) -> None:
    revision = getattr(event, "entry_revision", None)
    if revision is None:
        revision = await conn.fetchval("SELECT revision FROM mf_entries WHERE entry_id = $1", event.entry_id)
    await conn.execute("INSERT INTO mf_decision_log(event_id, entry_id, revision, action, mentor_id, channel,"
                       " reason, comment) VALUES ($1,$2,$3,$4,$5,$6,$7,$8)", event.event_id, event.entry_id,
                       revision, action, event.mentor_id, channel, reason, comment)


async def stored_answer(conn: asyncpg.Connection | asyncpg.Pool, source_id: str,
                        webhook_id: str) -> tuple[int, str, dict[str, Any]] | None:
    row = await conn.fetchrow("SELECT status, kind, response FROM mf_webhook_messages"
                              " WHERE source_id = $1 AND webhook_id = $2", source_id, webhook_id)
    if row is None:
        return None
    return row["status"], row["kind"], json.loads(row["response"])


async def store_answer(conn: asyncpg.Connection, source_id: str, webhook_id: str, kind: str, status: int,
                       response: dict[str, Any]) -> None:
    """Raises UniqueViolationError when a concurrent delivery of the same message committed first."""
    await conn.execute("INSERT INTO mf_webhook_messages(source_id, webhook_id, kind, status, response)"
                       " VALUES ($1,$2,$3,$4,$5::jsonb)", source_id, webhook_id, kind, status, json.dumps(response))
