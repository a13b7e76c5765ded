"""An in-memory stand-in for the runtime's store and a small counting processor, to drive the engine
without PostgreSQL (the real store has its integration tests). Records are built as a fetch returns
them."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from aiokafka import ConsumerRecord, TopicPartition
from werkplek_common.runtime import Context, Processor
from werkplek_common.runtime.store import Commit, Fenced, Store
from werkplek_events import Event, KafkaRecord, TimeEntryLogged, encode, topic_for

from tests.unit.hour_accounting.builders import logged

LOGGED = topic_for(TimeEntryLogged).name


def record(rec: KafkaRecord, partition: int, offset: int) -> ConsumerRecord:
    return ConsumerRecord(rec.topic, partition, offset, int(time.time() * 1000), 0, rec.key, rec.value, None,
                          len(rec.key), len(rec.value), rec.headers)


def batch(*items: tuple[int, Event | KafkaRecord], start: int = 0) -> dict[TopicPartition, list[ConsumerRecord]]:
    """(partition, event or raw record) in order, offsets counted per partition from `start`."""
    out: dict[TopicPartition, list[ConsumerRecord]] = {}
    for part, item in items:
        rec = item if isinstance(item, KafkaRecord) else encode(item, source="/test")
        recs = out.setdefault(TopicPartition(rec.topic, part), [])
        recs.append(record(rec, part, start + len(recs)))
    return out


class Minutes(Processor[tuple[int, frozenset[Any]]]):
    """Per student: total minutes logged, ids applied. Refuses students whose id contains "bad"."""

    name, source, topics = "test-minutes", "/test", [LOGGED]

    def initial(self, key: str) -> tuple[int, frozenset[Any]]:
        return 0, frozenset()

    def handle(self, state: tuple[int, frozenset[Any]], events: Sequence[Event],
               ctx: Context) -> tuple[tuple[int, frozenset[Any]], list[Event]]:
        total, seen = state
        for e in events:
            assert isinstance(e, TimeEntryLogged)
            if "bad" in e.student_id:
                raise ValueError(f"cannot account {e.student_id}")
            if e.event_id not in seen:
                total, seen = total + e.duration_minutes, seen | {e.event_id}
        return ((total, seen) if (total, seen) != state else state), []

    def dump(self, state: tuple[int, frozenset[Any]]) -> bytes:
        return orjson.dumps([state[0], sorted(map(str, state[1]))])

    def load(self, key: str, blob: bytes) -> tuple[int, frozenset[Any]]:
        total, ids = orjson.loads(blob)
        return total, frozenset(uuid.UUID(i) for i in ids)

    def tags(self, state: tuple[int, frozenset[Any]]) -> Iterable[str]:
        return ("big",) if state[0] > 1000 else ()


class MemoryStore(Store):
    def __init__(self, processor: Processor[Any], group: str = "test-group") -> None:
        super().__init__(None, group, processor, outbox_producer=group)
        self.offsets: dict[TopicPartition, int] = {}
        self.states: dict[str, tuple[int, bytes, str]] = {}
        self.quarantine: dict[str, tuple[str, int]] = {}
        self.dead: list[tuple[ConsumerRecord, Exception]] = []
        self.commits = 0

    async def unknown(self, tps: Iterable[TopicPartition]) -> set[TopicPartition]:
        return set(tps) - set(self.offsets)

    async def claim(self, tps: Iterable[TopicPartition], starts: dict[TopicPartition, int] | None = None,
                    default: int = 0) -> dict[TopicPartition, int]:
        for tp in tps:
            self.offsets.setdefault(tp, (starts or {}).get(tp, default))
        return {tp: self.offsets[tp] for tp in tps}

    async def load_states(self, keys: list[str]) -> dict[str, bytes]:
        return {k: self.states[k][1] for k in keys if k in self.states}

    async def quarantined(self) -> dict[str, str]:
        return {k: reason for k, (reason, _) in self.quarantine.items()}

    async def commit(self, c: Commit) -> None:
        for topic, part, expected, _ in c.offsets:
            if self.offsets.get(TopicPartition(topic, part)) != expected:
                raise Fenced("moved")
        for topic, part, _, new in c.offsets:
            self.offsets[TopicPartition(topic, part)] = new
        for k in c.keys:
            if k.state is not None:
                self.states[k.key] = (k.partition, k.state, k.tags)
        for key, _, reason, _, n in c.quarantine:
            old = self.quarantine.get(key, (reason, 0))
            self.quarantine[key] = (old[0], old[1] + n)
        self.dead.extend(c.dead)
        self.commits += 1


def minutes_of(student: str, *minutes: int) -> list[TimeEntryLogged]:
    return [logged(student, m) for m in minutes]
