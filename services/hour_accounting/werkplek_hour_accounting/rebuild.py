"""`rebuild`: stop the workers first. Drops the group's stored states and offsets, accounts every input
topic from its beginning up to the end offsets seen at start, and commits as the worker does (states,
offsets, read model) but stages no output events: their ids and versions are those already published.
The read model is overwritten with the result. A worker started afterwards continues from there."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from aiokafka import AIOKafkaConsumer
from werkplek_common.db import create_pool
from werkplek_common.runtime.faults import Outage
from werkplek_common.runtime.member import new_consumer
from werkplek_common.runtime.replay import own_assigned, replay_to_end

from .config import AccountingSettings
from .service import Accountant, input_partitions

log = logging.getLogger(__name__)


async def run_rebuild(cfg: AccountingSettings) -> int:
    """Returns the number of records accounted."""
    tps = await input_partitions(cfg.kafka_bootstrap)
    accountant = Accountant(cfg, rebuild=True)
    pool = await create_pool(cfg.service_dsn, min_size=2, max_size=6, limits=cfg.pg_limits)
    stop = asyncio.Event()
    programmes = accountant.catalogue.table()
    reader = asyncio.create_task(programmes.run(cfg.kafka_bootstrap, stop, Outage("kafka", log)))
    consumer: AIOKafkaConsumer = new_consumer(cfg.kafka_bootstrap, accountant.options(), None)
    await consumer.start()
    try:
        await programmes.wait_ready(stop)
        store = accountant.store(pool)
        await store.forget()
        ends = await consumer.end_offsets(tps)
        started = time.perf_counter()
        engine = accountant.engine(store)
        await own_assigned(engine, consumer, tps)
        total = await replay_to_end(engine, consumer, ends, batch_max=cfg.accounting_batch_max, tables=[programmes])
        log.warning("rebuild done", extra={"fields": {"records": total,
                                                      "seconds": round(time.perf_counter() - started, 1)}})
        return total
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
        await consumer.stop()
        await pool.close()
