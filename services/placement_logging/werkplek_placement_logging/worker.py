"""The worker process: the outbox relay (events of the API to Kafka), the consumer of mentor decisions
and the consumer of shares and outcome progress (the student's read models), both on the stream
runtime, the retention of its short-lived tables and the sweep that finishes interrupted erasures.
Kafka and PostgreSQL may be down at start or go away: it waits, not ready, and says so on its
health endpoints."""

from __future__ import annotations

import asyncio

from werkplek_common.keystore import KeyStore
from werkplek_common.retention import Rule, run_retention
from werkplek_common.runtime import Options, Worker

from . import erasure
from .config import Settings
from .decisions import Decisions
from .read_models import Views
from .uow_pg import Registry


def _retention(cfg: Settings) -> list[Rule]:
    """Stored replies of POSTs go after some days (docs/privacy.md): entry_id dedupe still holds; the
    log of staff reads of personal data after its own period."""
    return [Rule("pl_idempotency", "created_at", cfg.idempotency_retention_days),
            Rule("pl_personal_reads", "at", cfg.personal_reads_retention_days)]


def build(cfg: Settings) -> Worker:
    worker = Worker(cfg.decisions_consumer_group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.service_dsn,
                    metrics_port=cfg.metrics_port, metrics_host=cfg.metrics_host, limits=cfg.pg_limits,
                    lease_s=cfg.outbox_lease_s, pool_size=4)
    worker.consumer(Decisions(cfg.decisions_consumer_group),
                    Options(group=cfg.decisions_consumer_group, batch_max=5_000),
                    outbox_producer=cfg.outbox_producer)
    worker.consumer(Views(cfg.views_consumer_group), Options(group=cfg.views_consumer_group, batch_max=5_000),
                    outbox_producer=cfg.outbox_producer)
    worker.relay(cfg.outbox_producer)

    async def retention(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        await run_retention(worker.pool, _retention(cfg), stop)

    async def erasures(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        await erasure.resume_loop(Registry(worker.pool, cfg.outbox_producer, cfg.event_source), KeyStore(), stop)

    worker.task("retention", retention)
    worker.task("erasure-sweep", erasures)
    return worker


async def main(cfg: Settings) -> int:
    return await build(cfg).run()
