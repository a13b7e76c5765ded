"""The notifier process: the consumer of the events that call for a mail (a runtime processor in its
own group), the relay of its DLQ copies, the sender of the queued mails over SMTP, the daily digests
and the queue gauges, each supervised by the runtime's worker (health on /healthz and /readyz, metrics
on the metrics port) until a signal stops them. The consumer only queues (in the runtime's transaction
with its offsets); sending is separate, so SMTP being down never holds up a partition and nothing is
lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import asyncpg
from werkplek_common.runtime import Options, Worker

from . import SERVICE
from .config import MentorFeedbackSettings
from .digests import run_digests
from .mailer import Mailer
from .metrics import MAILS_QUEUED
from .notifications import NotifierProcessor

log = logging.getLogger(__name__)
GAUGE_REFRESH_S = 15.0
_STATES = """
SELECT state, count(*) AS n FROM mf_mails
WHERE state IN ('pending', 'undeliverable')
   OR (state IN ('bounced', 'failed') AND finished_at > now() - interval '7 days')
GROUP BY state
"""


async def refresh_gauges(pool: asyncpg.Pool) -> None:
    counts = {r["state"]: r["n"] for r in await pool.fetch(_STATES)}
    for state in ("pending", "undeliverable", "bounced", "failed"):
        MAILS_QUEUED.labels(state).set(counts.get(state, 0))


async def _gauges(pool: asyncpg.Pool, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(asyncpg.PostgresError, OSError):
            await refresh_gauges(pool)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), GAUGE_REFRESH_S)


def build(cfg: MentorFeedbackSettings) -> Worker:
    group, producer = cfg.notifier_consumer_group, f"{SERVICE}-notifier"
    worker = Worker(group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.service_dsn, metrics_port=cfg.metrics_port,
                    metrics_host=cfg.metrics_host, pool_size=4, limits=cfg.pg_limits, lease_s=cfg.outbox_lease_s)
    worker.consumer(NotifierProcessor(group, cfg), Options(group=group), outbox_producer=producer)
    worker.relay(producer)  # the DLQ copies of quarantined keys

    def on_pool(name: str, run: Callable[[asyncpg.Pool, asyncio.Event], Awaitable[None]]) -> None:
        async def part(stop: asyncio.Event) -> None:
            assert worker.pool is not None
            await run(worker.pool, stop)
        worker.task(name, part)

    on_pool("mailer", lambda pool, stop: Mailer(pool, cfg).run(stop))
    on_pool("digests", lambda pool, stop: run_digests(pool, cfg, stop))
    on_pool("mail-gauges", _gauges)
    return worker


async def run_notifier(cfg: MentorFeedbackSettings) -> int:
    return await build(cfg).run()
