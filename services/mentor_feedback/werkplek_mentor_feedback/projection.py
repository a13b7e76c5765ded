"""Keeps the facts mentor feedback judges messages on (mentors, placements, time entries) from the
placement-logging topics: a stateless processor of the stream runtime whose outputs are the events
themselves, applied by `write` in the runtime's transaction (one per batch chunk). Idempotent by
event_id; order between topics is not guaranteed, so each upsert keeps the newest terms (by
occurred_at) or the highest entry revision."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from werkplek_common.runtime import Context, Processor
from werkplek_events import (
    Event,
    MentorRegistered,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    SubjectErased,
    TimeEntryCorrected,
    TimeEntryLogged,
    TimeEntryWithdrawn,
    topic_for,
)

from .erasure import erase_in_projection

CONSUMED = (MentorRegistered, PlacementAgreed, PlacementAmended, PlacementEnded, TimeEntryLogged,
            TimeEntryCorrected, TimeEntryWithdrawn, SubjectErased)
TOPICS = [topic_for(c).name for c in CONSUMED]


class Projection(Processor[None]):
    topics = TOPICS
    stateful = False
    publish = False
    opens_personal = True  # descriptions, comments, addresses (docs/adr/0070)

    def __init__(self, group: str) -> None:
        self.name = group

    def handle(self, state: None, events: Sequence[Event], ctx: Context) -> tuple[None, Sequence[Event]]:
        return None, events

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        for event in await first_time(conn, "mf_applied_events", outputs):
            await apply_event(conn, event)


async def first_time(conn: asyncpg.Connection, ledger: str, events: Sequence[Event]) -> list[Event]:
    """The events not applied before, each once, recorded as applied in `ledger` (the caller's
    transaction): a consumer's idempotency by event id (redelivery, or an outbox relay that published
    a row twice)."""
    fresh = {r["event_id"] for r in await conn.fetch(
        f"INSERT INTO {ledger}(event_id) SELECT unnest($1::uuid[])"
        " ON CONFLICT DO NOTHING RETURNING event_id", [e.event_id for e in events])}
    out = []
    for event in events:
        if event.event_id in fresh:
            fresh.discard(event.event_id)  # a duplicate inside the batch applies once
            out.append(event)
    return out


async def apply_event(conn: asyncpg.Connection, event: Event) -> None:
    if isinstance(event, MentorRegistered):
        await save_mentor(conn, event)
    elif isinstance(event, PlacementAgreed | PlacementAmended):
        await save_placement(conn, event)
    elif isinstance(event, PlacementEnded):
        await conn.execute("UPDATE mf_placements SET ended_on = $2 WHERE placement_id = $1",
                           event.placement_id, event.ended_on)
    elif isinstance(event, TimeEntryLogged | TimeEntryCorrected):
        await save_entry(conn, event)
    elif isinstance(event, TimeEntryWithdrawn):
        await withdraw_entry(conn, event)
    elif isinstance(event, SubjectErased):
        await erase_in_projection(conn, event)


async def save_mentor(conn: asyncpg.Connection, e: MentorRegistered) -> None:
    await conn.execute(
        "INSERT INTO mf_mentors(mentor_id, workplace_id, institution_id, trained, webhook_source, registered_at)"
        " VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (mentor_id) DO UPDATE SET workplace_id = $2, institution_id = $3,"
        " trained = $4, webhook_source = $5, registered_at = $6 WHERE mf_mentors.registered_at <= $6",
        e.mentor_id, e.workplace_id, e.institution_id, e.trained, e.webhook_source, e.occurred_at)


_NEWER = "mf_placements.terms_at <= $6"  # the event carries terms at least as new as the stored ones
_SAVE_PLACEMENT = (
    "INSERT INTO mf_placements(placement_id, student_id, mentor_id, institution_id, outcomes, terms_at,"  # noqa: S608 - columns from the constants below
    " workplace_signed_at) VALUES ($1,$2,$3,$4,$5::jsonb,$6,$7) ON CONFLICT (placement_id) DO UPDATE SET"
    " institution_id = COALESCE($4, mf_placements.institution_id),"
    + "".join(f" {col} = CASE WHEN {_NEWER} THEN {val} ELSE mf_placements.{col} END,"
              for col, val in (("student_id", "$2"), ("mentor_id", "$3"), ("outcomes", "$5::jsonb"),
                               ("workplace_signed_at", "$7")))
    + " terms_at = GREATEST(mf_placements.terms_at, $6)")


async def save_placement(conn: asyncpg.Connection, e: PlacementAgreed | PlacementAmended) -> None:
    # titles and where each outcome is acquired are for the mentor page; the rules need id and kind
    outcomes = json.dumps([{"outcome_id": o.outcome_id, "kind": o.kind.value, "title": o.title,
                            "acquired_at": o.acquired_at.value} for o in e.learning_agreement.outcomes])
    institution = e.institution_id if isinstance(e, PlacementAgreed) else None
    await conn.execute(_SAVE_PLACEMENT,
        e.placement_id, e.student_id, e.mentor_id, institution, outcomes, e.occurred_at,
        e.learning_agreement.signed_by_workplace_at)


async def save_entry(conn: asyncpg.Connection, e: TimeEntryLogged | TimeEntryCorrected) -> None:
    await conn.execute(
        "INSERT INTO mf_entries(entry_id, student_id, placement_id, revision, work_date, minutes, activity,"
        " description, logged_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (entry_id) DO UPDATE SET"
        " placement_id = $3, revision = $4, work_date = $5, minutes = $6, activity = $7, description = $8,"
        " logged_at = $9 WHERE mf_entries.revision < $4 OR mf_entries.work_date IS NULL",
        e.entry_id, e.student_id, e.placement_id, e.revision, e.work_date, e.duration_minutes, e.activity.value,
        e.description, e.occurred_at)


async def withdraw_entry(conn: asyncpg.Connection, e: TimeEntryWithdrawn) -> None:
    """A withdrawal can overtake the entry it withdraws; then it leaves a placeholder without facts."""
    await conn.execute(
        "INSERT INTO mf_entries(entry_id, student_id, placement_id, revision, withdrawn, logged_at)"
        " VALUES ($1,$2,$3,$4,true,$5) ON CONFLICT (entry_id) DO UPDATE SET withdrawn = true",
        e.entry_id, e.student_id, e.placement_id, e.revision, e.occurred_at)
