"""Programme facts for accounting. ProgrammeRegistered is keyed by programme on a 1-partition compacted
topic while students are keyed by student on 8, so it cannot be co-partitioned: every worker reads the
whole topic itself (a plain assigned consumer, no group) into memory, from the beginning, and is
`ready` once it has read up to the end offset it saw at start. Student batches wait for `ready`, so a
student is never accounted before the programmes already registered are known; later arrivals and
changes are handed to `on_changed` (the worker re-evaluates that programme's students)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from werkplek_common.kafka import client_options
from werkplek_events import DecodeError, ProgrammeRegistered, decode, topic_for

from .domain import Programme, programme_from

log = logging.getLogger(__name__)
TOPIC = topic_for(ProgrammeRegistered).name


class ProgrammeCatalogue:
    def __init__(self) -> None:
        self.programmes: dict[str, Programme] = {}
        self.ready = asyncio.Event()

    def register(self, event: ProgrammeRegistered) -> bool:
        """Record a programme; True when it changed what accounting computes."""
        new = programme_from(event)
        changed = self.programmes.get(new.programme_id) != new
        self.programmes[new.programme_id] = new
        return changed


async def follow_programmes(bootstrap: str, catalogue: ProgrammeCatalogue, on_changed: Callable[[str], None],
                            dlq: Callable[[ConsumerRecord, Exception], Awaitable[None]]) -> None:
    """Read the programme topic forever."""
    tp = TopicPartition(TOPIC, 0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                **client_options())
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        while True:
            if not catalogue.ready.is_set() and await consumer.position(tp) >= end:
                catalogue.ready.set()
            for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for rec in records:
                    try:
                        event = decode(rec.topic, rec.value, rec.headers)
                    except DecodeError as exc:
                        await dlq(rec, exc)
                        continue
                    assert isinstance(event, ProgrammeRegistered)
                    if catalogue.register(event) and catalogue.ready.is_set():
                        on_changed(event.programme_id)
    finally:
        await consumer.stop()
