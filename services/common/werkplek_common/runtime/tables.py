"""Reference data every worker keeps whole in memory: a small compacted topic keyed by something else
than the worker's keys (programmes, workplaces, mentors on one partition each), so it cannot be
co-partitioned with them. Every worker reads all of it (no group) from the beginning, with the same
loop as every consumer, and is `ready` once it has read up to the end offsets it saw when it started;
a group member subscribes only after its tables are ready, so no key is handled before the
reference data already published is known. After that, `apply` returns the tags whose keys a change
concerns; the member re-evaluates them between batches (`take_changes`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from werkplek_events import BY_NAME, DecodeError, Event, decode

from ..kafka import client_options
from ..shutdown import bounded
from .faults import Outage
from .health import Part
from .loop import Batch, fetch_loop, started

log = logging.getLogger(__name__)
Apply = Callable[[Event], set[str]]  # fold one event in; the tags whose keys it concerns
Dlq = Callable[[ConsumerRecord, Exception], Awaitable[None]]


class GlobalTable:
    def __init__(self, name: str, topics: Sequence[str], apply: Apply, dlq: Dlq | None = None) -> None:
        self.name, self.topics, self.apply, self.dlq = name, list(topics), apply, dlq
        self.ready = asyncio.Event()
        self._changed: set[str] = set()
        self._ends: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._part: Part | None = None

    def take_changes(self) -> set[str]:
        changed, self._changed = self._changed, set()
        return changed

    async def wait_ready(self, stop: asyncio.Event) -> None:
        waiter = asyncio.ensure_future(self.ready.wait())
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({waiter, stopping}, return_when=asyncio.FIRST_COMPLETED)
        for task in (waiter, stopping):
            task.cancel()

    async def run(self, bootstrap: str, stop: asyncio.Event, outage: Outage, part: Part | None = None) -> None:
        """Read the topics forever (one session; the supervisor starts another after a failure,
        which reads them again from the beginning: applying a fact twice changes nothing)."""
        consumer = await started(lambda: AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                                          group_id=None, isolation_level="read_committed",
                                                          **client_options()),
                                 stop, outage, part)
        if consumer is None:
            return
        self._consumer, self._part = consumer, part
        try:
            tps = [TopicPartition(t, p) for t in self.topics for p in range(BY_NAME[t].partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            self._ends = await consumer.end_offsets(tps)
            await self._check_ready()
            await fetch_loop(consumer, self._on_batch, stop, wait_ms=200, max_records=5000, part=part)
        finally:
            await bounded(consumer.stop(), f"{self.name} reader stop")

    async def _on_batch(self, batch: Batch) -> bool:
        for records in batch.values():
            for rec in records:
                try:
                    event = decode(rec.topic, rec.value, rec.headers)
                except DecodeError as exc:
                    if self.dlq is not None:
                        await self.dlq(rec, exc)
                    continue
                tags = self.apply(event)
                if self.ready.is_set():
                    self._changed |= tags
        await self._check_ready()
        return False

    async def _check_ready(self) -> None:
        if self._consumer is None:
            return
        if self.ready.is_set():
            if self._part is not None and self._part.reason:
                self._part.ready()  # a new session after a failure, caught up again
            return
        for tp, end in self._ends.items():
            if await self._consumer.position(tp) < end:
                return
        self.ready.set()
        if self._part is not None:
            self._part.ready()
        log.info("reference data read", extra={"fields": {"table": self.name, "topics": self.topics}})
