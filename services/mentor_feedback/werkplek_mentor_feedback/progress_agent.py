"""The learning-outcome progress agent (faust). Consumes assessments and placement terms keyed by
student (co-partitioned, 8 partitions), keeps each student's state in a table, and for every change
of progress upserts the read model and emits OutcomeProgressUpdated — before writing the table, so a
crash in between repeats the emission (same derived event id, same version) instead of losing it.
Records are decoded with the event contract (raw serializer, CloudEvents headers); an undecodable one
goes to its topic's DLQ and the partition keeps flowing."""

from __future__ import annotations

import json
import logging
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, cast

import asyncpg
import faust
from werkplek_common.db import SessionLimits, create_pool
from werkplek_common.kafka import PoisonRecord, client_options, dlq_record
from werkplek_common.metrics import DLQ_RECORDS
from werkplek_common.shutdown import exit_after
from werkplek_events import (
    BY_NAME,
    AssessmentRecorded,
    DecodeError,
    KafkaRecord,
    OutcomeProgressUpdated,
    PlacementAgreed,
    PlacementAmended,
    decode,
    encode,
    topic_for,
)
from werkplek_events.topics import BY_TYPE

from . import SOURCE
from .config import MentorFeedbackSettings
from .metrics import PROGRESS_UPDATES
from .progress import State, step

log = logging.getLogger(__name__)
CONSUMED = [topic_for(c).name for c in (PlacementAgreed, PlacementAmended, AssessmentRecorded)]
CONSUMER = "outcome-progress"

UPSERT = """
INSERT INTO outcome_progress_read_model(student_id, version, body, event_id, updated_at)
VALUES ($1, $2, $3::jsonb, $4, now())
ON CONFLICT (student_id) DO UPDATE SET version = EXCLUDED.version, body = EXCLUDED.body,
  event_id = EXCLUDED.event_id, updated_at = now()
WHERE outcome_progress_read_model.version < EXCLUDED.version
"""


class Sink(Protocol):
    async def progress(self, update: OutcomeProgressUpdated) -> None: ...
    async def dead_letter(self, record: KafkaRecord) -> None: ...


async def upsert_read_model(conn: asyncpg.Pool | asyncpg.Connection, update: OutcomeProgressUpdated) -> None:
    doc = update.model_dump(mode="json", exclude={"version"})
    await conn.execute(UPSERT, update.student_id, update.version, json.dumps(doc), update.event_id)


class KafkaPgSink:
    """The read model in PostgreSQL and the events through the faust app's producer."""

    def __init__(self, app: faust.App, dsn: str, limits: SessionLimits | None = None) -> None:
        self.app, self.dsn, self.limits = app, dsn, limits
        self._pool: asyncpg.Pool | None = None

    async def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await create_pool(self.dsn, min_size=1, max_size=4, limits=self.limits)
        assert self._pool is not None
        return self._pool

    async def progress(self, update: OutcomeProgressUpdated) -> None:
        await upsert_read_model(await self._db(), update)
        await self._send(encode(update, source=SOURCE))

    async def dead_letter(self, record: KafkaRecord) -> None:
        await self._send(record)

    async def _send(self, r: KafkaRecord) -> None:
        await self.app.producer.send_and_wait(r.topic, r.key, r.value, None, None, r.headers)


@dataclass
class _Rec:
    """What `dlq_record` needs of a consumer record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


def _headers(raw: Any) -> list[tuple[str, bytes]]:
    items = raw.items() if isinstance(raw, Mapping) else (raw or [])
    return [(k, v if isinstance(v, bytes) else str(v).encode()) for k, v in items]


def _topic(message: Any, headers: list[tuple[str, bytes]]) -> str:
    """The record's topic; in `agent.test_context()` messages carry no real topic, so fall back to the
    CloudEvents type, which names exactly one registry topic."""
    if message.topic in BY_NAME:
        return str(message.topic)
    spec = BY_TYPE.get(dict(headers).get("ce_type", b"").decode(errors="replace"))
    return spec.name if spec else str(message.topic)


def credentials() -> faust.SASLCredentials | None:
    """faust's form of the process's Kafka security (werkplek_common.kafka.client_options): none on the
    local plain listener, SCRAM-SHA-512 over TLS in the cluster."""
    opts = client_options()
    if not opts:
        return None
    return faust.SASLCredentials(username=str(opts["sasl_plain_username"]),
                                 password=str(opts["sasl_plain_password"]),
                                 ssl_context=cast(ssl.SSLContext, opts["ssl_context"]),
                                 mechanism=str(opts["sasl_mechanism"]))


@dataclass
class Progress:
    app: faust.App
    agent: Any
    table: Any


def build(cfg: MentorFeedbackSettings, sink: Sink | None = None, *, app_id: str | None = None) -> Progress:
    app = faust.App(app_id or cfg.mentor_progress_app_id, broker=f"kafka://{cfg.kafka_bootstrap}", store="memory://",
                    topic_partitions=8, web_port=cfg.mentor_progress_web_port, web_bind="127.0.0.1",
                    consumer_auto_offset_reset="earliest", producer_acks=-1, broker_credentials=credentials())
    source = app.topic(*CONSUMED, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    table = app.Table("outcome-progress-state", default=None, partitions=8, key_type=str, value_type=str)
    out = sink or KafkaPgSink(app, cfg.pg_dsn, cfg.pg_limits)

    async def handle(message: Any) -> None:
        headers = _headers(message.headers)
        topic = _topic(message, headers)
        try:
            event = decode(topic, message.value, headers)
            if not isinstance(event, PlacementAgreed | PlacementAmended | AssessmentRecorded):
                raise PoisonRecord("ce_type", f"{type(event).__name__} is not consumed by {CONSUMER}")
        except (DecodeError, PoisonRecord) as exc:
            rec = _Rec(topic, message.partition, message.offset, message.key, message.value, headers)
            await out.dead_letter(dlq_record(rec, exc, CONSUMER))
            DLQ_RECORDS.labels(topic, CONSUMER).inc()
            return
        student = event.student_id
        raw = table.get(student)
        state = State.model_validate_json(raw) if raw else State(student_id=student)
        after, update = step(state, event)
        if update is not None:
            await out.progress(update)
            PROGRESS_UPDATES.inc()
        if after != state:
            table[student] = after.model_dump_json()

    @app.agent(source, name="outcome-progress")
    async def progress(stream: Any) -> None:
        async for ev in stream.events():
            await handle(ev.message)

    return Progress(app, progress, table)


def run_progress(cfg: MentorFeedbackSettings) -> None:
    from werkplek_common.metrics import serve_metrics

    serve_metrics(cfg.metrics_port, cfg.metrics_host)
    built = build(cfg)
    built.app.finalize()
    worker = _Worker(built.app, loglevel=cfg.log_level.lower(), override_logging=False)
    worker.execute_from_commandline()


class _Worker(faust.Worker):
    """faust's services each wait up to 60 s to stop, and wait that long when the broker is gone: bound
    the whole stop (werkplek_common.shutdown). A stop cut short replays what was not committed, as
    after a crash."""

    def _on_sigterm(self) -> None:
        exit_after()
        super()._on_sigterm()

    def _on_sigint(self) -> None:
        exit_after()
        super()._on_sigint()
