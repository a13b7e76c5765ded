"""The notifier process: consumes the events that call for a mail (its own consumer group), sends
the queued mails over SMTP, forms the daily digests and keeps the queue gauges, side by side until
a signal stops them, each a supervised part of a stream-runtime worker (health and metrics on the
metrics port). The consumer only queues (in the runtime's transaction, with the event's idempotency
record and the stored offsets); sending is separate, so SMTP being down never holds up a partition
and nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
from werkplek_common.runtime import Options, Worker
from werkplek_common.runtime.loop import sleep_unless_stopped

from .config import MentorFeedbackSettings
from .digests import run_digests
from .mailer import Mailer
from .metrics import MAILS_QUEUED
from .notifications import Notifications

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


def build(cfg: MentorFeedbackSettings) -> Worker:
    group = cfg.mentor_notifier_group
    worker = Worker(group, kafka_bootstrap=cfg.kafka_bootstrap, pg_dsn=cfg.pg_dsn, metrics_port=cfg.metrics_port,
                    metrics_host=cfg.metrics_host, pool_size=4, limits=cfg.pg_limits, lease_s=cfg.outbox_lease_s)
    worker.consumer(Notifications(cfg), Options(group=group), outbox_producer=None)

    async def mailer(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        await Mailer(worker.pool, cfg).run(stop)

    async def digests(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        await run_digests(worker.pool, cfg, stop)

    async def gauges(stop: asyncio.Event) -> None:
        assert worker.pool is not None
        while not stop.is_set():
            with contextlib.suppress(asyncpg.PostgresError, OSError):
                await refresh_gauges(worker.pool)
            await sleep_unless_stopped(stop, GAUGE_REFRESH_S)

    worker.task("mailer", mailer)
    worker.task("digests", digests)
    worker.task("mail-gauges", gauges)
    return worker


async def run_notifier(cfg: MentorFeedbackSettings) -> int:
    return await build(cfg).run()
