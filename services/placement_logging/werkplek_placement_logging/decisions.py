"""Mentor decisions (from mentor feedback's events) applied to the ledger's current view, so a student
sees pending / confirmed / rejected (with the mentor's reason and comment) and a confirmed entry becomes
immutable. Idempotent by event_id: a redelivered event changes nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg
from aiokafka import ConsumerRecord
from werkplek_events import Event, TimeEntryConfirmed, TimeEntryDecisionReversed, TimeEntryRejected, topic_for

from . import domain
from .metrics import DECISIONS_APPLIED

log = logging.getLogger(__name__)
TOPICS = [topic_for(e).name for e in (TimeEntryConfirmed, TimeEntryRejected, TimeEntryDecisionReversed)]


def _kind(event: Event) -> str:
    if isinstance(event, TimeEntryConfirmed):
        return "confirmed"
    if isinstance(event, TimeEntryRejected):
        return "rejected"
    return "reversed"


async def apply_decision(pool: asyncpg.Pool, event: Event) -> str:
    """Returns the effect: applied, stale (an older revision was decided), duplicate or unknown_entry."""
    assert isinstance(event, TimeEntryConfirmed | TimeEntryRejected | TimeEntryDecisionReversed)
    kind = _kind(event)
    revision = getattr(event, "entry_revision", None)
    reason, comment = (str(event.reason), event.comment) if isinstance(event, TimeEntryRejected) else (None, None)
    async with pool.acquire() as conn, conn.transaction():
        fresh = await conn.fetchval(
            "INSERT INTO pl_entry_decision (event_id, entry_id, kind, entry_revision, mentor_id, occurred_at,"
            " reason, comment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (event_id) DO NOTHING"
            " RETURNING true",
            event.event_id, event.entry_id, kind, revision, event.mentor_id, event.occurred_at, reason, comment)
        if not fresh:
            return "duplicate"
        row = await conn.fetchrow("SELECT revision, decision, rejection_reason, rejection_comment FROM pl_entry"
                                  " WHERE entry_id = $1 AND student_id = $2 FOR UPDATE",
                                  event.entry_id, event.student_id)
        if row is None:
            return "unknown_entry"
        new = domain.decide(kind, revision, row["revision"])
        if new is None:
            return "stale"
        if new != domain.REJECTED:  # the reason belongs to a rejection only (a confirmation or reversal clears it)
            reason = comment = None
        if (new, reason, comment) != (row["decision"], row["rejection_reason"], row["rejection_comment"]):
            await conn.execute("UPDATE pl_entry SET decision = $2, rejection_reason = $3, rejection_comment = $4,"
                               " version = version + 1, updated_at = now() WHERE entry_id = $1",
                               event.entry_id, new, reason, comment)
        return "applied"


def handler(pool: asyncpg.Pool) -> Callable[[Event, ConsumerRecord], Awaitable[None]]:
    async def handle(event: Event, rec: ConsumerRecord) -> None:
        effect = await apply_decision(pool, event)
        DECISIONS_APPLIED.labels(_kind(event), effect).inc()
        if effect == "unknown_entry":
            log.warning("decision for an entry this ledger does not have", extra={"fields": {
                "topic": rec.topic, "partition": rec.partition, "offset": rec.offset}})
    return handle
