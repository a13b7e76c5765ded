"""Test helpers: read a topic until a condition holds, with a deadline (never a fixed sleep)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord

POLL_S = 0.05  # poll interval of `eventually`; the deadline, not this, bounds a wait


async def read_until(bootstrap: str, topics: list[str], done: Callable[[list[ConsumerRecord]], bool], *,
                     timeout: float = 30.0, from_beginning: bool = True) -> list[ConsumerRecord]:
    """Consume `topics` with a fresh group until `done(records)` is true; fail at the deadline."""
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, group_id=f"test-{uuid.uuid4()}",
                                auto_offset_reset="earliest" if from_beginning else "latest",
                                enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord] = []
    deadline = time.monotonic() + timeout
    try:
        while not done(records):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s on {topics}; read {len(records)} records")
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def eventually(check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, what: str = "condition") -> None:
    """Poll an async check until it is true; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(POLL_S)
