"""The worker process: the reference-data consumer (on the stream runtime), the outbox relay, the
confirmation-request job and the outbound deliveries, each supervised, until a signal stops them."""

from __future__ import annotations

import asyncio

import httpx
from werkplek_common.retention import run_retention
from werkplek_common.runtime import Options, Worker

from . import SERVICE, retention
from .config import MentorFeedbackSettings
from .confirmations import run_requests
from .outbound import Deliverer
from .projection import Projection
from .sources import ensure_dev_sources, link_key


def build(cfg: MentorFeedbackSettings) -> Worker:
    worker = Worker(cfg.consumer_group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.service_dsn,
                    metrics_port=cfg.metrics_port, metrics_host=cfg.metrics_host, limits=cfg.pg_limits,
                    lease_s=cfg.outbox_lease_s, pool_size=10)
    worker.consumer(Projection(cfg.consumer_group), Options(group=cfg.consumer_group, batch_max=2000),
                    outbox_producer=SERVICE)
    worker.relay(SERVICE)

    async def requests(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        if cfg.mentor_dev_sources:
            await ensure_dev_sources(worker.pool, cfg.mentor_secrets_dir, cfg.mentor_dev_sources)
        await run_requests(worker.pool, cfg, link_key(cfg.mentor_link_secret, cfg.mentor_secrets_dir), stop)

    async def deliveries(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        async with httpx.AsyncClient(follow_redirects=False) as client:
            await Deliverer(worker.pool, cfg, client).run(stop)

    async def expiry(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        await run_retention(worker.pool, retention.rules(cfg), stop)

    worker.task("confirmation-requests", requests)
    worker.task("outbound", deliveries)
    worker.task("retention", expiry)
    return worker


async def run_worker(cfg: MentorFeedbackSettings) -> int:
    return await build(cfg).run()
