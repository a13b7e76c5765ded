"""The worker process: the reference-data consumer, the outbox relay, the confirmation-request job
and the outbound deliveries, side by side until a signal stops them."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import httpx
from werkplek_common.db import create_pool
from werkplek_common.kafka import EventConsumer, new_producer
from werkplek_common.keystore import KeyStore, PoolKeys
from werkplek_common.metrics import serve_metrics
from werkplek_common.outbox import OutboxRelay
from werkplek_common.retention import run_retention
from werkplek_common.shutdown import bounded, unless_stopped

from . import SERVICE, retention
from .config import MentorFeedbackSettings
from .confirmations import run_requests
from .outbound import Deliverer
from .projection import TOPICS, Projection
from .sources import ensure_dev_sources, link_key

log = logging.getLogger(__name__)


async def run_worker(cfg: MentorFeedbackSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    serve_metrics(cfg.metrics_port, cfg.metrics_host)
    pool = await create_pool(cfg.pg_dsn)
    producer = new_producer(cfg.kafka_bootstrap, f"{SERVICE}-worker")
    if not await unless_stopped(producer.start(), stop):
        await bounded(producer.stop(), "producer stop")
        await pool.close()
        return
    if cfg.mentor_dev_sources:
        await ensure_dev_sources(pool, cfg.mentor_secrets_dir, cfg.mentor_dev_sources)
    consumer = EventConsumer(cfg.kafka_bootstrap, cfg.mentor_consumer_group, TOPICS,
                             batch_handler=Projection(pool).handle_batch, name=f"{SERVICE}-projection",
                             producer=producer, max_records=2000, keys=PoolKeys(KeyStore(), pool))
    if not await unless_stopped(consumer.start(), stop):  # joining the group waits for the broker, unbounded
        await consumer.stop()
        await bounded(producer.stop(), "producer stop")
        await pool.close()
        return
    relay = OutboxRelay(pool, producer, SERVICE)
    async with httpx.AsyncClient(follow_redirects=False) as client:
        tasks = [asyncio.create_task(consumer.run(), name="projection"),
                 asyncio.create_task(relay.run(), name="outbox-relay"),
                 asyncio.create_task(run_requests(pool, cfg, link_key(cfg.mentor_link_secret, cfg.mentor_secrets_dir),
                                                  stop), name="confirmation-requests"),
                 asyncio.create_task(Deliverer(pool, cfg, client).run(stop), name="outbound"),
                 asyncio.create_task(run_retention(pool, retention.rules(cfg), stop), name="retention")]
        log.info("mentor feedback worker running", extra={"fields": {"topics": TOPICS}})
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and task.exception():
                log.error("worker task crashed", exc_info=task.exception())
        stop.set()
        relay.stop()
        await consumer.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    await bounded(producer.stop(), "producer stop")
    await pool.close()
