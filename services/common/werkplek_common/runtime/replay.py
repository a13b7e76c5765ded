"""Working through a fixed stretch of topics with the engine, outside any group (a rebuild from the
beginning, a benchmark): the partitions are assigned, not subscribed, and the loop ends once every
partition has been handled up to `ends`."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from .engine import Engine
from .loop import Batch, fetch_loop, seek
from .tables import GlobalTable


async def behind(consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


async def own_assigned(engine: Engine[Any], consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition],
                       start: int = 0) -> None:
    """Assign `tps` and seek each to its stored offset (one never stored starts at `start`), or to the
    first offset the broker still has where retention removed records."""
    consumer.assign(list(tps))
    firsts = await consumer.beginning_offsets(list(tps))
    seek(consumer, {tp: max(firsts[tp], n) for tp, n in (await engine.own(tps, default=start)).items()})


async def replay_to_end(engine: Engine[Any], consumer: AIOKafkaConsumer, ends: Mapping[TopicPartition, int], *,
                        batch_max: int, tables: Sequence[GlobalTable] = ()) -> int:
    """Account the owned, assigned partitions (`own_assigned`) up to `ends` and wait for the last
    commit. Returns the number of records handled."""
    handled = 0

    async def on_batch(batch: Batch) -> bool:
        nonlocal handled
        for table in tables:
            if changed := table.take_changes():
                await engine.reevaluate_tagged(changed)
        handled += await engine.account({tp: [r for r in recs if r.offset < ends[tp]] for tp, recs in batch.items()})
        return not await behind(consumer, ends)

    if await behind(consumer, ends):
        await fetch_loop(consumer, on_batch, asyncio.Event(), wait_ms=200, max_records=batch_max)
    await engine.settle()  # the last commit runs in the background until settled
    return handled
