"""`progress`: each student's learning-outcome progress on the stream runtime. Consumes assessments
and placement terms keyed by student (co-partitioned, 8 partitions); per student the runtime keeps
the progress state (progress.py, pure) in PostgreSQL, and commits with it, in one transaction per
chunk, the read model `outcome_progress_read_model` and the OutcomeProgressUpdated to publish
(outbox, relayed by this process). Only a batch's last change per student is published: versions
still rise with every change, and the read model keeps the highest."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import asyncpg
from werkplek_common.runtime import Context, Options, Processor, Worker
from werkplek_events import (
    AssessmentRecorded,
    Event,
    OutcomeProgressUpdated,
    PlacementAgreed,
    PlacementAmended,
    topic_for,
)

from . import SOURCE
from .config import MentorFeedbackSettings
from .metrics import PROGRESS_UPDATES
from .progress import State, step

CONSUMED = [topic_for(c).name for c in (PlacementAgreed, PlacementAmended, AssessmentRecorded)]

UPSERT = """
INSERT INTO outcome_progress_read_model(student_id, version, body, event_id, updated_at)
SELECT u.student_id, u.version, u.body, u.event_id, now()
FROM unnest($1::text[], $2::int[], $3::jsonb[], $4::uuid[]) AS u(student_id, version, body, event_id)
ON CONFLICT (student_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body,
  event_id = EXCLUDED.event_id, updated_at = now()
WHERE outcome_progress_read_model.version < EXCLUDED.version
"""


async def upsert_read_model(conn: asyncpg.Pool | asyncpg.Connection, updates: Sequence[OutcomeProgressUpdated]) -> None:
    """A row is replaced only by a higher version: a stale or repeated update changes nothing."""
    if updates:
        docs = [json.dumps(u.model_dump(mode="json", exclude={"version"})) for u in updates]
        await conn.execute(UPSERT, [u.student_id for u in updates], [u.version for u in updates], docs,
                           [u.event_id for u in updates])


class OutcomeProgress(Processor[State]):
    topics = CONSUMED
    source = SOURCE

    def __init__(self, group: str) -> None:
        self.name = group

    def initial(self, key: str) -> State:
        return State(student_id=key)

    def handle(self, state: State, events: Sequence[Event], ctx: Context) -> tuple[State, list[Event]]:
        last = None
        for event in events:
            state, update = step(state, event, now=ctx.now)
            last = update or last
        return state, [last] if last is not None else []

    def dump(self, state: State) -> bytes:
        return state.model_dump_json().encode()

    def load(self, key: str, blob: bytes) -> State:
        return State.model_validate_json(blob)

    async def write(self, conn: asyncpg.Connection, outputs: Sequence[Any], ctx: Context) -> None:
        await upsert_read_model(conn, [o for o in outputs if isinstance(o, OutcomeProgressUpdated)])

    def committed(self, outputs: Sequence[Any]) -> None:
        PROGRESS_UPDATES.inc(len(outputs))


async def run_progress(cfg: MentorFeedbackSettings) -> int:
    worker = Worker(cfg.progress_consumer_group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.service_dsn,
                    metrics_port=cfg.metrics_port, metrics_host=cfg.metrics_host, limits=cfg.pg_limits,
                    lease_s=cfg.outbox_lease_s)
    worker.consumer(OutcomeProgress(cfg.progress_consumer_group), Options(group=cfg.progress_consumer_group),
                    outbox_producer=cfg.progress_outbox_producer)
    worker.relay(cfg.progress_outbox_producer)
    return await worker.run()
