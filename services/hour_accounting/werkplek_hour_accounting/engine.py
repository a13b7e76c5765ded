"""The accounting engine: the students of the partitions this worker owns, kept in memory, and how a
batch of records becomes one committed transaction (store.py). No consumer here: the worker (group
member) and the rebuild (plain assignment) feed it records.

In memory every student is a `Slot` holding its committed state as bytes; the most recently used
states are also kept decoded (`hot`), so a busy student is not decoded again every batch. Everything
in memory changes only after its transaction committed; on `Fenced` the caller reloads from the store.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from werkplek_common.kafka import PoisonRecord
from werkplek_events import DecodeError, Event, decode, topic_for

from . import metrics, statecodec
from .domain import STUDENT_EVENTS, Programme, StudentState
from .process import BatchResult, account_batch
from .store import Commit, Store

log = logging.getLogger(__name__)
INPUT_TOPICS = [topic_for(cls).name for cls in STUDENT_EVENTS]
Dlq = Callable[[Sequence[tuple[ConsumerRecord, Exception]]], Awaitable[None]]


@dataclass(slots=True)
class Slot:
    partition: int
    programme: str | None
    blob: bytes | None


class Engine:
    def __init__(self, store: Store, programmes: Mapping[str, Programme], clock: Callable[[], date], dlq: Dlq,
                 hot_capacity: int) -> None:
        self.store, self.programmes, self.clock, self.dlq = store, programmes, clock, dlq
        self.slots: dict[str, Slot] = {}
        self.hot: OrderedDict[str, StudentState] = OrderedDict()
        self.hot_capacity = hot_capacity
        self.next: dict[TopicPartition, int] = {}  # committed next offset of every owned partition

    # --- ownership -----------------------------------------------------------------------------

    async def own(self, tps: Iterable[TopicPartition], start: int = 0) -> dict[TopicPartition, int]:
        """Own exactly `tps`: keep the students of partitions still owned (unless the stored offsets
        moved meanwhile), drop the others, load new ones from the store. Returns where to seek."""
        tps = set(tps)
        stored = await self.store.claim(tps, start)
        stale = {tp.partition for tp, n in self.next.items() if stored.get(tp, n) != n}
        kept = {tp.partition for tp in self.next} & {tp.partition for tp in tps} - stale
        self.drop({tp.partition for tp in self.next} - kept)
        for part in sorted({tp.partition for tp in tps} - kept):  # one partition at a time: a lower peak
            for row in await self.store.states({part}):
                self.slots[row["student_id"]] = Slot(row["partition"], row["programme_id"], row["state"])
        self.next = stored
        metrics.STUDENTS_HELD.set(len(self.slots))
        return dict(self.next)

    def drop(self, partitions: set[int]) -> None:
        if not partitions:
            return
        for sid in [s for s, slot in self.slots.items() if slot.partition in partitions]:
            del self.slots[sid]
            self.hot.pop(sid, None)
        metrics.STUDENTS_HELD.set(len(self.slots))

    async def reload(self) -> dict[TopicPartition, int]:
        """After `Fenced`: forget everything in memory and load the owned partitions again."""
        owned = set(self.next)
        self.drop({tp.partition for tp in owned})
        self.next = {}
        return await self.own(owned)

    # --- a batch of records --------------------------------------------------------------------

    async def account(self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> int:
        """Decode, account and commit one batch. Returns the number of records consumed."""
        started = time.perf_counter()
        by_student: dict[str, list[Event]] = {}
        partition_of: dict[str, int] = {}
        dead: list[tuple[ConsumerRecord, Exception]] = []
        advanced: dict[TopicPartition, int] = {}
        stamps: list[int] = []
        types: dict[str, int] = defaultdict(int)
        for tp, records in batch.items():
            expected = self.next.get(tp)
            if expected is None:
                continue  # revoked while fetched
            for rec in records:
                if rec.offset < expected:
                    continue  # already committed (a fetch from before a seek)
                try:
                    event = _decode(rec)
                except (DecodeError, PoisonRecord) as exc:
                    dead.append((rec, exc))
                    continue
                sid = event.student_id  # type: ignore[attr-defined]
                by_student.setdefault(sid, []).append(event)
                partition_of.setdefault(sid, tp.partition)
                stamps.append(rec.timestamp)
                types[rec.topic] += 1
            if records and records[-1].offset >= expected:
                advanced[tp] = records[-1].offset + 1
        if not advanced:
            return 0
        if dead:
            await self.dlq(dead)
        result = account_batch(by_student, self._load, self.programmes, self.clock())
        await self._commit(result, advanced, partition_of)
        _observe(types, stamps, started)
        return len(stamps) + len(dead)

    async def recompute(self, programme_ids: set[str]) -> int:
        """A programme arrived or changed: re-evaluate its students (they may have waited for it)."""
        students = sorted(s for s, slot in self.slots.items() if slot.programme in programme_ids)
        if not students:
            return 0
        result = account_batch({}, self._load, self.programmes, self.clock(), students)
        await self._commit(result, {}, {})
        return len(students)

    def _load(self, student_id: str) -> StudentState:
        state = self.hot.get(student_id)
        if state is not None:
            return state
        slot = self.slots.get(student_id)
        return statecodec.load(student_id, slot.blob if slot else None)

    async def _commit(self, result: BatchResult, advanced: dict[TopicPartition, int],
                      partition_of: dict[str, int]) -> None:
        c = Commit(updates=result.updates, risks=result.risks)
        parts = {tp.partition for tp in advanced}
        for sid, state in result.states.items():
            slot = self.slots.get(sid)
            part = slot.partition if slot else partition_of[sid]
            c.states.append((sid, part, _programme(state), statecodec.dump(state)))
            parts.add(part)
        # compare-and-set every input partition of the partition numbers written, advanced or not:
        # a student's events come from all of them, so any other writer of the student conflicts here
        c.offsets = [(tp.topic, tp.partition, n, advanced.get(tp, n)) for tp, n in self.next.items()
                     if tp.partition in parts]
        await self.store.commit(c)
        self.next.update(advanced)
        for (sid, part, programme, blob), state in zip(c.states, result.states.values(), strict=True):
            self.slots[sid] = Slot(part, programme, blob)
            self._remember(sid, state)
        metrics.STUDENTS_HELD.set(len(self.slots))
        metrics.SHARES.inc(len(c.updates) if self.store.outbox_producer else 0)
        for risk in c.risks if self.store.outbox_producer else ():
            metrics.RISKS.labels(str(risk.worsened).lower()).inc()

    def _remember(self, sid: str, state: StudentState) -> None:
        self.hot[sid] = state
        self.hot.move_to_end(sid)
        if len(self.hot) > self.hot_capacity:
            self.hot.popitem(last=False)

    def waiting_for(self) -> int:
        """Programmes that students are enrolled in but that have not been registered (yet)."""
        return len({s.programme for s in self.slots.values() if s.programme} - set(self.programmes))


def _programme(state: StudentState) -> str | None:
    enrolment = state.current_enrolment()
    return enrolment.programme_id if enrolment else None


def _decode(rec: ConsumerRecord) -> Event:
    event = decode(rec.topic, rec.value, rec.headers)
    if rec.key != event.student_id.encode():  # type: ignore[attr-defined]
        raise PoisonRecord("key", f"record key {rec.key!r} is not the event's student_id")
    return event


def _observe(types: dict[str, int], stamps: list[int], started: float) -> None:
    now_ms = time.time() * 1000
    for topic, n in types.items():
        metrics.EVENTS.labels(_TYPE_OF[topic]).inc(n)
    observe = metrics.LATENCY_SECONDS.observe
    for ts in stamps:
        observe(max(0.0, (now_ms - ts) / 1000))
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)


_TYPE_OF: dict[str, Any] = {topic_for(cls).name: cls.EVENT_TYPE for cls in STUDENT_EVENTS}
