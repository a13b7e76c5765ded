"""The notifier process: consumes the events that call for a mail (its own consumer group), sends
the queued mails over SMTP, forms the daily digests and keeps the queue gauges, side by side until
a signal stops them. The consumer only queues (in the transaction of the event's idempotency record);
sending is separate, so SMTP being down never holds up a partition and nothing is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import asyncpg
from werkplek_common.db import create_pool
from werkplek_common.kafka import EventConsumer, new_producer
from werkplek_common.keystore import KeyStore, PoolKeys
from werkplek_common.metrics import serve_metrics
from werkplek_common.shutdown import bounded, unless_stopped

from . import SERVICE
from .config import MentorFeedbackSettings
from .digests import run_digests
from .mailer import Mailer
from .metrics import MAILS_QUEUED
from .notifications import TOPICS, Notifications

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


async def run_notifier(cfg: MentorFeedbackSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serve_metrics(cfg.metrics_port)
    pool = await create_pool(cfg.pg_dsn, min_size=1, max_size=4)
    producer = new_producer(cfg.kafka_bootstrap, f"{SERVICE}-notifier")  # for the DLQ only
    consumer = EventConsumer(cfg.kafka_bootstrap, cfg.mentor_notifier_group, TOPICS,
                             batch_handler=Notifications(pool, cfg).handle_batch, name=f"{SERVICE}-notifier",
                             producer=producer, keys=PoolKeys(KeyStore(), pool))
    # Sending and digests need only PostgreSQL and SMTP: they run while the broker is still awaited.
    tasks = [asyncio.create_task(Mailer(pool, cfg).run(stop), name="mailer"),
             asyncio.create_task(run_digests(pool, cfg, stop), name="digests"),
             asyncio.create_task(_gauges(pool, stop), name="gauges")]
    if await unless_stopped(producer.start(), stop) and await unless_stopped(consumer.start(), stop):
        tasks.append(asyncio.create_task(consumer.run(), name="notifications"))
        log.info("notifier running", extra={"fields": {"topics": TOPICS, "smtp": f"{cfg.mentor_smtp_host}:"
                                                                                  f"{cfg.mentor_smtp_port}"}})
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and task.exception():
            log.error("notifier task crashed", exc_info=task.exception())
    stop.set()
    await consumer.stop()
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    await bounded(producer.stop(), "producer stop")
    await pool.close()
