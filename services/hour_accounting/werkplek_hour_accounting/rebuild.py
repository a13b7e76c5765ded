"""`rebuild`: stop the workers first. Drops the group's stored states and offsets, accounts every input
topic from its beginning up to the end offsets seen at start, and commits as the worker does (states,
offsets, read model) but stages no output events: their ids and versions are those already published.
The read model is overwritten with the result. A worker started afterwards continues from there."""

from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

from .config import AccountingSettings
from .service import Service, input_partitions
from .worker import new_consumer, seek

log = logging.getLogger(__name__)


async def run_rebuild(cfg: AccountingSettings) -> int:
    """Returns the number of records accounted."""
    tps = await input_partitions(cfg.kafka_bootstrap)
    service = Service(cfg, rebuild=True)
    engine = await service.start()
    consumer = new_consumer(cfg, None)
    await consumer.start()
    try:
        await engine.store.forget()
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
        seek(consumer, await engine.own(tps, start=0))
        for tp in tps:  # start of the log, where retention ever removed records
            consumer.seek(tp, max(starts[tp], engine.next[tp]))
        started, total = time.perf_counter(), 0
        while await _behind(consumer, ends):
            batch = await consumer.getmany(timeout_ms=500, max_records=cfg.accounting_batch_max)
            await service.recompute_changed()
            total += await engine.account({tp: [r for r in recs if r.offset < ends[tp]] for tp, recs in batch.items()})
        await engine.settle()
        took = round(time.perf_counter() - started, 1)
        fields = {"records": total, "seconds": took}
        log.warning("rebuild done", extra={"fields": fields})
        return total
    finally:
        await consumer.stop()
        await service.stop()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False
