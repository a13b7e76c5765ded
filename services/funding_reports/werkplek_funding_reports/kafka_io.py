"""Reading whole topics: every partition assigned by hand (no group membership), from the beginning
to the end offsets seen at the start. Used to rebuild the cohort and to read reports without
committing anything."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from werkplek_common.kafka import client_options
from werkplek_common.runtime.loop import Batch, fetch_loop

OnRecord = Callable[[ConsumerRecord], Awaitable[None]]


async def open_reader(bootstrap: str, topics: Sequence[str], *, client_id: str,
                      group_id: str | None = None) -> AIOKafkaConsumer:
    """A started consumer on all partitions of `topics`, at their beginning. With a `group_id` it can
    commit (for lag and bookkeeping) but takes no part in rebalancing: each reader sees everything."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, client_id=client_id,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                isolation_level="read_committed", **client_options())
    parts = await partitions(bootstrap, topics)
    await consumer.start()
    try:
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
    except BaseException:
        await consumer.stop()
        raise
    return consumer


async def partitions(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="werkplek-reports-meta", **client_options())
    await admin.start()
    try:
        described = {t["topic"]: t for t in await admin.describe_topics(list(topics))}
    finally:
        await admin.close()
    missing = [t for t in topics if t not in described or described[t]["error_code"] or not described[t]["partitions"]]
    if missing:
        raise LookupError(f"topics not found on {bootstrap}: {', '.join(missing)}")
    return [TopicPartition(t, p["partition"]) for t in topics for p in described[t]["partitions"]]


async def read_to_end(consumer: AIOKafkaConsumer, on_record: OnRecord, *, timeout: float = 300.0,
                      progress: Callable[[int], None] | None = None, stop: asyncio.Event | None = None) -> int:
    """Hand every record up to the end offsets of now to `on_record` (with the runtime's one loop);
    the number of records read. A set `stop` ends the read early."""
    parts = list(consumer.assignment())
    end = await consumer.end_offsets(parts)
    pending = {tp for tp in parts if await consumer.position(tp) < end[tp]}
    deadline, n = time.monotonic() + timeout, 0

    async def on_batch(batch: Batch) -> bool:
        nonlocal n, pending
        for records in batch.values():
            for rec in records:
                await on_record(rec)
            n += len(records)
        pending = {tp for tp in pending if await consumer.position(tp) < end[tp]}
        if progress:
            progress(n)
        if pending and time.monotonic() > deadline:
            raise TimeoutError(f"not at the end of {len(pending)} partitions after {timeout}s")
        return not pending

    if pending:
        await fetch_loop(consumer, on_batch, stop or asyncio.Event(), wait_ms=200, max_records=5000)
    return n
