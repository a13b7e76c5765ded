"""The consumer loop, the one every consumer of the project runs: fetch a batch, hand it over, until
stopped (or, for a reader, until done). Group members, readers of reference data and rebuilds differ
only in what they do with a batch. Also how a Kafka client is started when the broker may be away:
with capped backoff, reporting not-ready meanwhile, logging the outage once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Protocol, TypeVar

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from ..kafka import getmany_or_stop
from ..shutdown import bounded, unless_stopped
from .backoff import Backoff
from .faults import Outage
from .health import Part

log = logging.getLogger(__name__)
Batch = Mapping[TopicPartition, Sequence[ConsumerRecord]]
OnBatch = Callable[[Batch], Awaitable[bool]]  # True: done (a reader that caught up)


class Startable(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


C = TypeVar("C", bound=Startable)


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep, or return early when stopped. True when stopped."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
    return stop.is_set()


async def periodically(job: Callable[[], Awaitable[object]], stop: asyncio.Event, every_s: float, what: str) -> None:
    """Run `job` now and then every `every_s` until stopped (a worker's side task: retention, a
    sweep); an unreachable database or network is logged and tried again next time."""
    while not stop.is_set():
        try:
            await job()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning(f"{what} failed; will retry", extra={"fields": {"error": repr(exc)}})
        if await sleep_unless_stopped(stop, every_s):
            return


async def started(make: Callable[[], C], stop: asyncio.Event, outage: Outage, part: Part | None,
                  backoff: Backoff | None = None) -> C | None:
    """A started client (consumer, producer, admin), retrying with capped backoff while the broker
    cannot be reached; None when stopped first."""
    backoff = backoff or Backoff()
    while not stop.is_set():
        client = make()
        try:
            # a start waits for the broker's answers (40 s with a frozen broker): a stop ends it
            if await unless_stopped(client.start(), stop):
                outage.ok()
                return client
            await bounded(client.stop(), "stopping a client that was starting", timeout=2)
            return None
        except (KafkaError, OSError) as exc:
            outage.failed(exc)
            if part is not None:
                part.not_ready(f"{outage.what} unreachable")
            await bounded(client.stop(), "stopping a client that did not start", timeout=2)
            if await sleep_unless_stopped(stop, backoff.delay()):
                break
    return None


async def fetch_loop(consumer: AIOKafkaConsumer, on_batch: OnBatch, stop: asyncio.Event, *, wait_ms: int,
                     max_records: int, linger_ms: int = 0, part: Part | None = None) -> None:
    """Hand every fetched batch (also an empty one: time passes) to `on_batch` until stopped or done.
    With `linger_ms`, a batch keeps collecting records for that long after its first record (for
    consumers that would rather see fewer, larger batches: a report recomputed once per interval)."""
    while not stop.is_set():
        batch = await getmany_or_stop(consumer, stop, timeout_ms=wait_ms, max_records=max_records)
        if batch and linger_ms:
            batch = await _linger(consumer, batch, stop, linger_ms, max_records)
        if stop.is_set():
            return
        if part is not None:
            part.beat()
        if await on_batch(batch):
            return


async def _linger(consumer: AIOKafkaConsumer, batch: dict[TopicPartition, list[ConsumerRecord]],
                  stop: asyncio.Event, linger_ms: int, max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
    deadline = time.monotonic() + linger_ms / 1000
    n = sum(len(r) for r in batch.values())
    while n < max_records and not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        more = await getmany_or_stop(consumer, stop, timeout_ms=max(1, int(left * 1000)), max_records=max_records - n)
        for tp, records in more.items():
            batch.setdefault(tp, []).extend(records)
            n += len(records)
    return batch


def seek(consumer: AIOKafkaConsumer, positions: Mapping[TopicPartition, int]) -> None:
    for tp, offset in positions.items():
        consumer.seek(tp, offset)
