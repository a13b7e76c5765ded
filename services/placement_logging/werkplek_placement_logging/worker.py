"""The worker process: the outbox relay (events of the API to Kafka), the consumer of mentor decisions
and the consumer of shares and outcome progress (the student's read models), both on the stream
runtime, and the clean-up of old Idempotency-Key records. Kafka and PostgreSQL may be down at start
or go away: it waits, not ready, and says so on its health endpoints."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from werkplek_common.runtime import Options, Worker
from werkplek_common.runtime.loop import sleep_unless_stopped

from .config import Settings
from .decisions import Decisions
from .read_models import Views

IDEMPOTENCY_TTL = timedelta(days=7)  # longer than a phone stays offline; after it, entry_id dedupe still holds
EXPIRE_EVERY_S = 600


def build(cfg: Settings) -> Worker:
    worker = Worker(cfg.decisions_group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.pg_dsn,
                    metrics_port=cfg.worker_metrics_port, metrics_host=cfg.metrics_host, limits=cfg.pg_limits,
                    lease_s=cfg.outbox_lease_s, pool_size=4)
    worker.consumer(Decisions(cfg.decisions_group), Options(group=cfg.decisions_group, batch_max=5_000),
                    outbox_producer=cfg.outbox_producer)
    worker.consumer(Views(cfg.views_group), Options(group=cfg.views_group, batch_max=5_000),
                    outbox_producer=cfg.outbox_producer)
    worker.relay(cfg.outbox_producer)

    async def expire_keys(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        while not stop.is_set():
            await worker.pool.execute("DELETE FROM pl_idempotency WHERE created_at < now() - $1::interval",
                                      IDEMPOTENCY_TTL)
            await sleep_unless_stopped(stop, EXPIRE_EVERY_S)

    worker.task("idempotency-expiry", expire_keys)
    return worker


async def main(cfg: Settings) -> int:
    return await build(cfg).run()
