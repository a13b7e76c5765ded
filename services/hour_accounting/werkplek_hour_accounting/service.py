"""What the worker and the rebuild share: the database pool, a producer (DLQ records, outbox relay),
the programme catalogue that follows its topic, and the engine over them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from werkplek_common.db import create_pool
from werkplek_common.kafka import client_options, new_producer, send_to_dlq
from werkplek_common.shutdown import bounded
from werkplek_events import BY_NAME

from .config import AccountingSettings
from .engine import INPUT_TOPICS, Engine
from .programmes import ProgrammeCatalogue, follow_programmes
from .store import Store

log = logging.getLogger(__name__)


class Service:
    def __init__(self, settings: AccountingSettings, *, rebuild: bool = False) -> None:
        self.settings, self.rebuild = settings, rebuild
        self.catalogue = ProgrammeCatalogue()
        self.changed_programmes: set[str] = set()
        self.pool: asyncpg.Pool | None = None
        self.producer: AIOKafkaProducer | None = None
        self.engine: Engine | None = None
        self._follower: asyncio.Task[None] | None = None

    def today(self) -> date:
        return self.settings.accounting_as_of or datetime.now(UTC).date()

    async def start(self) -> Engine:
        cfg = self.settings
        self.pool = await create_pool(cfg.pg_dsn, min_size=2, max_size=6, limits=cfg.pg_limits)
        self.producer = new_producer(cfg.kafka_bootstrap, cfg.accounting_app_id, linger_ms=2)
        await self.producer.start()
        store = Store(self.pool, cfg.accounting_app_id,
                      outbox_producer=None if self.rebuild else cfg.accounting_outbox_producer)
        self.engine = Engine(store, self.catalogue.programmes, self.today, self._dlq_batch, cfg.accounting_hot_students,
                             cfg.accounting_commit_students)
        self._follower = asyncio.create_task(follow_programmes(
            cfg.kafka_bootstrap, self.catalogue, self.changed_programmes.add, self._dlq_one))
        ready = asyncio.create_task(self.catalogue.ready.wait())
        await asyncio.wait([ready, self._follower], return_when=asyncio.FIRST_COMPLETED)
        if self._follower.done():
            ready.cancel()
            self._follower.result()  # raises what stopped the follower
        return self.engine

    async def stop(self) -> None:
        if self._follower is not None:
            self._follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follower
        if self.producer is not None:
            await bounded(self.producer.stop(), "producer stop")
        if self.pool is not None:
            await self.pool.close()

    async def recompute_changed(self) -> None:
        """Re-evaluate the students of programmes that arrived or changed since the last call."""
        if self.changed_programmes and self.engine is not None:
            changed = set(self.changed_programmes)
            self.changed_programmes.clear()
            n = await self.engine.recompute(changed)
            log.info("programmes changed; students re-evaluated", extra={"fields": {"programmes": len(changed),
                                                                                      "students": n}})

    async def _dlq_one(self, rec: ConsumerRecord, exc: Exception) -> None:
        await self._dlq_batch([(rec, exc)])

    async def _dlq_batch(self, dead: Sequence[tuple[ConsumerRecord, Exception]]) -> None:
        """Before the batch commits (at-least-once into the DLQ). A rebuild re-reads records the live
        worker has already sent there, so it sends none."""
        if self.rebuild:
            return
        assert self.producer is not None
        await asyncio.gather(*(send_to_dlq(self.producer, rec, exc, self.settings.accounting_app_id)
                               for rec, exc in dead))


async def input_partitions(bootstrap: str) -> list[TopicPartition]:
    """Every partition of the input topics (they must exist: `python -m werkplek_common.cli topics`)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, **client_options())
    await consumer.start()
    await asyncio.sleep(0)  # aiokafka 0.14: stop() right after start() raises CancelledError otherwise
    try:
        missing = [t for t in INPUT_TOPICS if t not in await consumer.topics()]
        if missing:
            raise RuntimeError(f"input topics missing: {missing}; run `python -m werkplek_common.cli topics`")
        return [TopicPartition(t, p) for t in INPUT_TOPICS for p in range(BY_NAME[t].partitions)]
    finally:
        await consumer.stop()
