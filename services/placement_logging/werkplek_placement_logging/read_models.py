"""Placement logging's own read models of what other services computed for a student: the share (from
hour accounting's `accounting.share.updated.v1`) and the outcome progress (from mentor feedback's
`feedback.outcome_progress.updated.v1`). Each service owns its data: the student's API answers from
these rows, never from the other services' tables.

The logic is a plain function over one event (`view_row`); `apply_views` stores its result, in the
transaction of the stream runtime's batch (`Views` is a stateless processor). A row is replaced only
by a higher version, so a redelivered or reordered event changes nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import asyncpg
from werkplek_common.runtime import Context, Processor
from werkplek_events import Event, OutcomeProgressUpdated, ShareUpdated, topic_for

from .metrics import VIEWS_APPLIED
from .replies import dumps

TOPICS = [topic_for(e).name for e in (ShareUpdated, OutcomeProgressUpdated)]
SHARE, OUTCOMES = "share", "outcomes"


@dataclass(frozen=True)
class ViewRow:
    view: str  # share / outcomes
    student_id: str
    version: int
    body: dict[str, Any]  # the event's document, as the student's API returns it
    programme_id: str | None = None
    status: str | None = None
    real_share: Decimal | None = None


def view_row(event: Event) -> ViewRow | None:
    """The row an event puts in a read model, or None for an event these views do not keep."""
    body = event.model_dump(mode="json")
    if isinstance(event, ShareUpdated):
        return ViewRow(SHARE, event.student_id, event.version, body, event.programme_id, event.status.value,
                       event.real_share)
    if isinstance(event, OutcomeProgressUpdated):
        return ViewRow(OUTCOMES, event.student_id, event.version, body)
    return None


def newest(rows: Sequence[ViewRow]) -> list[ViewRow]:
    """Of several rows for the same view and student (a batch of events), keep the highest version."""
    best: dict[tuple[str, str], ViewRow] = {}
    for row in rows:
        key = (row.view, row.student_id)
        if key not in best or row.version > best[key].version:
            best[key] = row
    return list(best.values())


_SHARE = """
INSERT INTO pl_share_view (student_id, programme_id, version, status, real_share, body)
VALUES ($1, $2, $3, $4, $5, $6::jsonb)
ON CONFLICT (student_id) DO UPDATE SET programme_id = EXCLUDED.programme_id, version = EXCLUDED.version,
  status = EXCLUDED.status, real_share = EXCLUDED.real_share, body = EXCLUDED.body, updated_at = now()
WHERE pl_share_view.version < EXCLUDED.version
RETURNING true
"""
_OUTCOMES = """
INSERT INTO pl_outcome_view (student_id, version, body) VALUES ($1, $2, $3::jsonb)
ON CONFLICT (student_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body, updated_at = now()
WHERE pl_outcome_view.version < EXCLUDED.version
RETURNING true
"""


async def apply_views(conn: asyncpg.Connection, rows: Sequence[ViewRow]) -> dict[str, int]:
    """Store the rows inside the caller's transaction; returns how many were applied and how many were
    stale (an older or equal version)."""
    effects = {"applied": 0, "stale": 0}
    for row in newest(rows):
        body = dumps(row.body).decode()
        if row.view == SHARE:
            fresh = await conn.fetchval(_SHARE, row.student_id, row.programme_id, row.version, row.status,
                                        row.real_share, body)
        else:
            fresh = await conn.fetchval(_OUTCOMES, row.student_id, row.version, body)
        effects["applied" if fresh else "stale"] += 1
    return effects


class Views(Processor[None]):
    """Stateless: a batch's events are its outputs, stored by `write` (the simulated cohort publishes
    hundreds at once: one transaction for all of them)."""

    topics = TOPICS
    stateful = False
    publish = False

    def __init__(self, group: str) -> None:
        self.name = group

    def handle(self, state: None, events: Sequence[Event], ctx: Context) -> tuple[None, Sequence[Event]]:
        return None, events

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        rows = [row for row in (view_row(event) for event in outputs) if row is not None]
        if rows:
            for effect, n in (await apply_views(conn, rows)).items():
                if n:
                    VIEWS_APPLIED.labels(effect).inc(n)  # at least once: a rolled-back batch counts again
