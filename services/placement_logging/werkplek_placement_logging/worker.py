"""The worker process: the outbox relay (events of the API to Kafka), the consumer of mentor
decisions, the consumer of shares and outcome progress (the student's read models), and the
clean-up of old Idempotency-Key records. Kafka may be down at start: it waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiokafka import AIOKafkaProducer
from werkplek_common.db import create_pool
from werkplek_common.kafka import EventConsumer, new_producer
from werkplek_common.keystore import KeyStore, PoolKeys
from werkplek_common.metrics import serve_metrics
from werkplek_common.outbox import OutboxRelay
from werkplek_common.retention import Rule, run_retention
from werkplek_common.shutdown import bounded, unless_stopped

from . import decisions, erasure, read_models
from .config import SERVICE, Settings
from .registry import Registry

log = logging.getLogger(__name__)


async def _started_producer(cfg: Settings, stop: asyncio.Event) -> AIOKafkaProducer | None:
    delay = 0.5
    while not stop.is_set():
        producer = new_producer(cfg.kafka_bootstrap, f"{SERVICE}-relay")
        try:
            await producer.start()
            return producer
        except Exception as exc:
            log.warning("kafka unreachable; retrying", extra={"fields": {"error": repr(exc)}})
            await producer.stop()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(delay * 2, 10)
    return None


def _retention(cfg: Settings) -> list[Rule]:
    """Stored replies of POSTs go after some days (docs/privacy.md): entry_id dedupe still holds; the
    log of staff reads of personal data after its own period."""
    return [Rule("pl_idempotency", "created_at", cfg.idempotency_retention_days),
            Rule("pl_personal_reads", "at", cfg.personal_reads_retention_days)]


async def run(cfg: Settings, stop: asyncio.Event) -> None:
    pool = await create_pool(cfg.pg_dsn, min_size=2, max_size=4)
    producer = await _started_producer(cfg, stop)
    if producer is None:
        await pool.close()
        return
    keys = KeyStore()
    relay = OutboxRelay(pool, producer, cfg.outbox_producer, keys=keys)
    consumer = EventConsumer(cfg.kafka_bootstrap, cfg.decisions_group, decisions.TOPICS, decisions.handler(pool),
                             name=f"{SERVICE}-decisions", producer=producer, keys=PoolKeys(keys, pool))
    views = EventConsumer(cfg.kafka_bootstrap, cfg.views_group, read_models.TOPICS,
                          batch_handler=read_models.batch_handler(pool), name=f"{SERVICE}-views", producer=producer)
    tasks = []
    # joining a group waits for the broker, unbounded; both groups are joined at once
    if await unless_stopped(asyncio.gather(consumer.start(), views.start()), stop):
        tasks = [asyncio.create_task(relay.run()), asyncio.create_task(consumer.run()),
                 asyncio.create_task(views.run()), asyncio.create_task(run_retention(pool, _retention(cfg), stop)),
                 asyncio.create_task(erasure.resume_loop(Registry(pool, cfg.outbox_producer, cfg.event_source), keys,
                                                         stop))]
        log.info("worker running", extra={"fields": {"producer": cfg.outbox_producer}})
        await stop.wait()
    relay.stop()
    # together: each is bounded, and one after the other would double the wait with the broker gone
    await asyncio.gather(consumer.stop(), views.stop())
    await asyncio.gather(*tasks, return_exceptions=True)
    await bounded(producer.stop(), "producer stop")
    await pool.close()


async def main(cfg: Settings) -> None:
    serve_metrics(cfg.worker_metrics_port, cfg.metrics_host)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await run(cfg, stop)
