"""What the worker, the rebuild and the benchmark share: the programme catalogue, the accounting
processor over it, and the runtime's engine and consumer options from the settings."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from werkplek_common.kafka import client_options
from werkplek_common.runtime import Engine, Options, Store
from werkplek_events import BY_NAME

from .config import AccountingSettings
from .processor import INPUT_TOPICS, Accounting
from .programmes import ProgrammeCatalogue


class Accountant:
    def __init__(self, cfg: AccountingSettings, *, rebuild: bool = False) -> None:
        self.cfg, self.rebuild = cfg, rebuild
        self.catalogue = ProgrammeCatalogue()
        self.processor = Accounting(cfg.consumer_group, self.catalogue.programmes, self.today, rebuild=rebuild)

    def today(self) -> date:
        return self.cfg.accounting_as_of or datetime.now(UTC).date()

    def options(self) -> Options:
        cfg = self.cfg
        return Options(group=cfg.consumer_group, batch_max=cfg.accounting_batch_max,
                       fetch_wait_ms=cfg.accounting_fetch_wait_ms, partition_fetch_mb=cfg.accounting_fetch_partition_mb,
                       session_timeout_s=cfg.accounting_session_timeout_s)

    def store(self, pool: asyncpg.Pool) -> Store:
        producer = None if self.rebuild else self.cfg.outbox_producer
        return Store(pool, self.cfg.consumer_group, self.processor, outbox_producer=producer)

    def engine(self, store: Store) -> Engine[Any]:
        return Engine(store, self.processor, hot_capacity=self.cfg.accounting_hot_students,
                      chunk=self.cfg.accounting_commit_students, today=self.today, rebuild=self.rebuild)


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
