"""Mentor decisions (from mentor feedback's events) applied to the ledger's current view, so a student
sees pending / confirmed / rejected (with the mentor's reason and comment) and a confirmed entry becomes
immutable. A processor of the
stream runtime without state of its own: the ledger's rows are the state, shared with the API. A
batch's decisions are applied together in the runtime's transaction (a handful of statements, not
one transaction per decision), in arrival order per student. Idempotent by event_id: a redelivered
event changes nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

import asyncpg
from werkplek_common.runtime import Context, Processor
from werkplek_events import Event, TimeEntryConfirmed, TimeEntryDecisionReversed, TimeEntryRejected, topic_for
from werkplek_events.vocabulary import EntryStatus

from . import domain
from .metrics import DECISIONS_APPLIED

log = logging.getLogger(__name__)
TOPICS = [topic_for(e).name for e in (TimeEntryConfirmed, TimeEntryRejected, TimeEntryDecisionReversed)]
Decision = domain.MentorDecision

_RECORD = """
INSERT INTO pl_entry_decision (event_id, entry_id, kind, entry_revision, mentor_id, occurred_at, reason, comment)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::int[], $5::text[], $6::timestamptz[], $7::text[],
                     $8::text[])
ON CONFLICT (event_id) DO NOTHING RETURNING event_id
"""
_CURRENT = """
SELECT entry_id, student_id, revision, decision, rejection_reason, rejection_comment FROM pl_entry
WHERE entry_id = ANY($1::uuid[]) ORDER BY entry_id FOR UPDATE
"""
_UPDATE = """
UPDATE pl_entry e SET decision = u.decision, rejection_reason = u.reason, rejection_comment = u.comment,
       version = e.version + u.changes, updated_at = now()
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[])
     AS u(entry_id, decision, reason, comment, changes)
WHERE e.entry_id = u.entry_id
"""


def kind_of(event: Event) -> str:
    """The kind a decision is stored and counted under: confirmed, rejected or reversed."""
    if isinstance(event, TimeEntryConfirmed | TimeEntryRejected):
        return event.DECISION.value
    return "reversed"


async def apply_decisions(conn: asyncpg.Connection, events: Sequence[Decision]) -> list[str]:
    """Apply decisions in order inside the caller's transaction. Returns each one's effect: applied,
    stale (an older revision was decided), duplicate or unknown_entry."""
    if not events:
        return []
    revisions = [getattr(e, "entry_revision", None) for e in events]
    reasons = [_reason(e) for e in events]
    fresh = {r["event_id"] for r in await conn.fetch(
        _RECORD, [e.event_id for e in events], [e.entry_id for e in events], [kind_of(e) for e in events], revisions,
        [e.mentor_id for e in events], [e.occurred_at for e in events], [r for r, _ in reasons],
        [c for _, c in reasons])}
    rows = {r["entry_id"]: r for r in await conn.fetch(_CURRENT, sorted({e.entry_id for e in events}))}
    current = {entry: (EntryStatus(row["decision"]), row["rejection_reason"], row["rejection_comment"])
               for entry, row in rows.items()}
    changes: dict[uuid.UUID, int] = {}
    effects = []
    for event, (reason, comment) in zip(events, reasons, strict=True):
        row = rows.get(event.entry_id)
        if event.event_id not in fresh:
            effects.append("duplicate")
        elif row is None or row["student_id"] != event.student_id:
            effects.append("unknown_entry")
        elif (new := domain.decide(current[event.entry_id][0], row["revision"], event)) is None:
            effects.append("stale")
        else:
            effects.append("applied")
            fresh.discard(event.event_id)  # the same event twice in one batch applies once
            if new is not domain.REJECTED:  # a reason belongs to a rejection only (a confirmation, reversal clears it)
                reason = comment = None
            elif not isinstance(event, TimeEntryRejected):  # a reversal of the other kind: the rejection stands
                _, reason, comment = current[event.entry_id]
            if (new, reason, comment) != current[event.entry_id]:
                current[event.entry_id] = (new, reason, comment)
                changes[event.entry_id] = changes.get(event.entry_id, 0) + 1
    if changes:
        await conn.execute(_UPDATE, list(changes), [current[e][0].value for e in changes],
                           *([current[e][i] for e in changes] for i in (1, 2)), list(changes.values()))
    return effects


def _reason(event: Decision) -> tuple[str | None, str | None]:
    return (str(event.reason), event.comment) if isinstance(event, TimeEntryRejected) else (None, None)


class Decisions(Processor[None]):
    """Stateless: each student's decisions of a batch are its outputs, applied by `write`."""

    topics = TOPICS
    stateful = False
    publish = False
    opens_personal = True  # descriptions, comments, addresses (docs/adr/0070)

    def __init__(self, group: str) -> None:
        self.name = group

    def handle(self, state: None, events: Sequence[Event], ctx: Context) -> tuple[None, Sequence[Event]]:
        return None, events

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        effects = await apply_decisions(conn, outputs)
        for event, effect in zip(outputs, effects, strict=True):
            DECISIONS_APPLIED.labels(kind_of(event), effect).inc()  # at least once: a rolled-back batch counts again
        unknown = effects.count("unknown_entry")
        if unknown:
            log.warning("decisions for entries this ledger does not have", extra={"fields": {"decisions": unknown}})
