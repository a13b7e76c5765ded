"""The accounting engine: how a batch of records of the partitions this worker owns becomes one
committed transaction (store.py). No consumer here: the worker (group member) and the rebuild (plain
assignment) feed it records.

PostgreSQL holds every student's state (`ha_student_state`); memory holds only a bounded LRU of
decoded states (`hot`, `accounting_hot_students`), so the worker's memory does not grow with the
number of students it owns. A batch loads the states it misses with one query. Each student of a
batch is decoded, accounted and encoded in turn, and only its bytes are kept until the commit: a
large batch costs the records and the encoded states, not every touched student decoded at once.

A batch that touches more than `chunk` students commits in several transactions: each chunk's states
and outputs with the offsets unchanged (compare-and-set still fences), the last one also advancing
the offsets. A crash in between replays the batch; the students already committed have applied its
events (their `applied` ids), so they change nothing and publish nothing twice.
Memory changes only after its transaction committed; on `Fenced` the caller reloads from the store.

Commits are pipelined: a transaction runs in the background while the next batch is fetched, decoded
and accounted (PostgreSQL works on another core meanwhile), and at most one is in flight. The next
commit waits for it first, so transactions stay in order and each one's compare-and-set expects the
offsets the one before it wrote. The in-flight commit's states (`_pending`) are what the next batch
builds on. If it fails, nothing of it or after it reaches memory or the store (its error surfaces at
the next `settle`, `account` or commit); the caller reloads as for `Fenced`. `settle()` waits for it:
callers do before they stop, and before reading stored states.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from werkplek_common.kafka import PoisonRecord
from werkplek_events import DecodeError, Event, decode, topic_for

from . import metrics, statecodec
from .domain import STUDENT_EVENTS, Programme, StudentState, new_state
from .process import BatchResult, account_student
from .store import Commit, Store

log = logging.getLogger(__name__)
INPUT_TOPICS = [topic_for(cls).name for cls in STUDENT_EVENTS]
Dlq = Callable[[Sequence[tuple[ConsumerRecord, Exception]]], Awaitable[None]]
YIELD_EVERY = 200  # students accounted between two turns of the event loop
LATENCY_SAMPLES = 512  # per batch: records whose latency is observed (evenly spaced), not every record


class Engine:
    def __init__(self, store: Store, programmes: Mapping[str, Programme], clock: Callable[[], date], dlq: Dlq,
                 hot_capacity: int, chunk: int = 5_000) -> None:
        self.store, self.programmes, self.clock, self.dlq = store, programmes, clock, dlq
        self.chunk = chunk  # students per transaction
        self.hot: OrderedDict[str, tuple[int, StudentState]] = OrderedDict()  # committed states, LRU
        self.hot_capacity = hot_capacity
        self.next: dict[TopicPartition, int] = {}  # committed next offset of every owned partition
        self.evaluated_on: date | None = None  # the day every owned student was last evaluated for
        self._pass: tuple[date, str] | None = None  # the daily pass in progress: its day, the last student
        self._inflight: asyncio.Task[None] | None = None  # the commit running in the background
        self._pending: dict[str, tuple[int, StudentState]] = {}  # its states kept decoded (see `_state`)
        self._pending_students: set[str] = set()  # every student it writes

    @property
    def partitions(self) -> set[int]:
        return {tp.partition for tp in self.next}

    # --- ownership -----------------------------------------------------------------------------

    async def own(self, tps: Iterable[TopicPartition], start: int = 0) -> dict[TopicPartition, int]:
        """Own exactly `tps`: keep the cached students of partitions still owned (unless the stored
        offsets moved meanwhile), forget the others. States load lazily. Returns where to seek."""
        tps = set(tps)
        # a failed commit in flight changed nothing stored and nothing in memory: claiming again from
        # the stored offsets is the recovery, so its error is logged here, not raised into the
        # consumer's rebalance listener
        await self.settle(discard=True)
        stored = await self.store.claim(tps, start)
        stale = {tp.partition for tp, n in self.next.items() if stored.get(tp, n) != n}
        kept = self.partitions & {tp.partition for tp in tps} - stale
        self.drop(self.partitions - kept)
        self.next = stored
        self.evaluated_on, self._pass = None, None  # owned students changed: evaluate them all again
        return dict(self.next)

    def drop(self, partitions: set[int]) -> None:
        if partitions:
            for sid in [s for s, (part, _) in self.hot.items() if part in partitions]:
                del self.hot[sid]
        metrics.STUDENTS_HELD.set(len(self.hot))

    async def reload(self) -> dict[TopicPartition, int]:
        """After `Fenced`: forget everything in memory and claim the owned partitions again."""
        owned = set(self.next)
        await self.settle(discard=True)
        self.hot.clear()
        self.next = {}
        return await self.own(owned)

    # --- a batch of records --------------------------------------------------------------------

    async def account(self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> int:
        """Decode, account and commit one batch. Returns the number of records consumed."""
        started = time.perf_counter()
        by_key: dict[bytes | None, tuple[int, list[ConsumerRecord]]] = {}
        advanced: dict[TopicPartition, int] = {}
        for tp, records in batch.items():
            expected = self.next.get(tp)
            if expected is None or not records or records[-1].offset < expected:
                continue  # revoked while fetched, or all committed already (a fetch from before a seek)
            advanced[tp] = records[-1].offset + 1
            for rec in records if records[0].offset >= expected else [r for r in records if r.offset >= expected]:
                group = by_key.get(rec.key)
                if group is None:
                    by_key[rec.key] = (tp.partition, [rec])
                else:
                    group[1].append(rec)
        if not advanced:
            await self.settle()  # nothing new: let the commit in flight land (offsets, memory) meanwhile
            return 0
        c, dead, n = Commit(), [], 0
        fresh: dict[str, tuple[int, StudentState]] = {}
        types: dict[str, int] = defaultdict(int)
        as_of, keys = self.clock(), list(by_key)
        for i in range(0, len(keys), self.chunk):
            chunk = keys[i:i + self.chunk]
            missing = [sid for sid in (k.decode(errors="replace") for k in chunk if k)
                       if sid not in self.hot and sid not in self._pending]
            if self._pending_students.intersection(missing):
                await self.settle()  # its stored state is about to change: read it after the commit
            blobs = await self.store.load_states(missing)
            for j, key in enumerate(chunk):
                if j % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)  # let the consumer's fetcher prefetch the next batch meanwhile
                part, records = by_key[key]
                events = []
                for rec in records:
                    try:
                        events.append(_decode(rec))
                        types[rec.topic] += 1
                    except (DecodeError, PoisonRecord) as exc:
                        dead.append((rec, exc))
                n += len(records)
                if events:
                    sid = events[0].student_id  # type: ignore[attr-defined]
                    self._account(sid, part, self._state(sid, blobs), events, as_of, c, fresh)
            if dead:
                await self.dlq(dead)
                dead = []
            if i + self.chunk < len(keys):  # not the last chunk: states and outputs, offsets unchanged
                await self._commit(c, {}, fresh)
                c, fresh = Commit(), {}
        await self._commit(c, advanced, fresh)
        _observe(types, batch, started)
        return n

    async def recompute(self, programme_ids: set[str]) -> int:
        """A programme arrived or changed: re-evaluate its students (they may have waited for it)."""
        await self.settle()  # stored states are read: none may be in flight
        rows = await self.store.students_of(programme_ids, self.partitions)
        as_of = self.clock()
        for i in range(0, len(rows), self.chunk):
            await self._evaluate(rows[i:i + self.chunk], as_of)
        return len(rows)

    async def reevaluate_step(self) -> int:
        """One chunk of the daily pass. A day passing moves targets to date, projections and statuses
        without any event, so once a day (and after every change of the owned partitions) each owned
        student is evaluated on today's date, a chunk per call between batches; outputs follow only
        where a published value changed. Returns the students evaluated (0: nothing to do)."""
        today = self.clock()
        if self.evaluated_on == today or not self.next:
            return 0
        if self._pass is None or self._pass[0] != today:
            self._pass = (today, "")  # a new day restarts the pass: all of it on one date
        await self.settle()  # stored states are read: none may be in flight
        rows = await self.store.students_after(self._pass[1], self.partitions, self.chunk)
        if not rows:
            self.evaluated_on, self._pass = today, None
            return 0
        await self._evaluate(rows, today)
        self._pass = (today, rows[-1]["student_id"])
        metrics.REEVALUATED.inc(len(rows))
        return len(rows)

    async def _evaluate(self, rows: Sequence[Mapping[str, Any]], as_of: date) -> None:
        """Evaluate stored students (student_id, partition, state) on `as_of` without new events and
        commit those whose values changed, offsets unchanged."""
        c = Commit()
        fresh: dict[str, tuple[int, StudentState]] = {}
        for row in rows:
            sid = row["student_id"]
            self._account(sid, row["partition"], self._state(sid, {sid: row["state"]}), [], as_of, c, fresh,
                          force=True)
        await self._commit(c, {}, fresh)

    async def waiting_for(self) -> int:
        """Programmes that students are enrolled in but that have not been registered (yet)."""
        return len(set(await self.store.programmes_of(self.partitions)) - set(self.programmes))

    def _state(self, sid: str, blobs: Mapping[str, bytes]) -> StudentState:
        cached = self._pending.get(sid) or self.hot.get(sid)
        if cached is not None:
            return cached[1]
        blob = blobs.get(sid)
        return new_state(sid) if blob is None else statecodec.load(sid, blob)

    def _account(self, sid: str, part: int, state: StudentState, events: list[Event], as_of: date, c: Commit,
                 fresh: dict[str, tuple[int, StudentState]], force: bool = False) -> None:
        """One student: account, encode right away, keep the decoded state only while the cache has room."""
        result = BatchResult()
        account_student(state, events, self.programmes, as_of, result, force=force)
        new = result.states.get(sid)
        if new is None or new is state:
            return  # nothing changed: nothing to write
        enrolment = new.current_enrolment()
        c.states.append((sid, part, enrolment.programme_id if enrolment else None, statecodec.dump(new)))
        c.updates.extend(result.updates)
        c.risks.extend(result.risks)
        if len(fresh) < self.hot_capacity:
            fresh[sid] = (part, new)
        else:  # its cached state is about to be outdated, and so is the in-flight commit's
            self.hot.pop(sid, None)
            self._pending.pop(sid, None)  # the very dict that commit merges into `hot` when done

    async def _commit(self, c: Commit, advanced: dict[TopicPartition, int],
                      fresh: dict[str, tuple[int, StudentState]]) -> None:
        """Start committing `c` in the background, once the commit before it has succeeded."""
        await self.settle()
        parts = {tp.partition for tp in advanced} | {s[1] for s in c.states}
        # compare-and-set every input partition of the partition numbers written, advanced or not:
        # a student's events come from all of them, so any other writer of the student conflicts here
        c.offsets = [(tp.topic, tp.partition, n, advanced.get(tp, n)) for tp, n in self.next.items()
                     if tp.partition in parts]
        self._pending, self._pending_students = fresh, {s[0] for s in c.states}
        self._inflight = asyncio.create_task(self._write(c, advanced, fresh))

    async def settle(self, discard: bool = False) -> None:
        """Wait for the commit in flight. Its error is raised here (unless `discard`: the caller
        reloads anyway)."""
        task, self._inflight = self._inflight, None
        if task is None:
            return
        try:
            await task
        except Exception:
            if not discard:
                raise
            log.warning("a commit failed before a reload", exc_info=True)
        finally:
            self._pending, self._pending_students = {}, set()

    async def _write(self, c: Commit, advanced: dict[TopicPartition, int],
                     fresh: dict[str, tuple[int, StudentState]]) -> None:
        await self.store.commit(c)
        self.next.update(advanced)
        for sid, entry in fresh.items():
            self.hot[sid] = entry
            self.hot.move_to_end(sid)
        while len(self.hot) > self.hot_capacity:
            self.hot.popitem(last=False)
        metrics.STUDENTS_HELD.set(len(self.hot))
        metrics.SHARES.inc(len(c.updates) if self.store.outbox_producer else 0)
        for risk in c.risks if self.store.outbox_producer else ():
            metrics.RISKS.labels(str(risk.worsened).lower()).inc()


def _decode(rec: ConsumerRecord) -> Event:
    event = decode(rec.topic, rec.value, rec.headers)
    if rec.key != event.student_id.encode():  # type: ignore[attr-defined]
        raise PoisonRecord("key", f"record key {rec.key!r} is not the event's student_id")
    return event


def _observe(types: dict[str, int], batch: Mapping[TopicPartition, Sequence[ConsumerRecord]],
             started: float) -> None:
    """Counts per type; latency of a sample of the batch's records, evenly spaced (a histogram
    observation per record cost more than the accounting of a small event)."""
    for topic, n in types.items():
        metrics.EVENTS.labels(_TYPE_OF[topic]).inc(n)
    stamps = [rec.timestamp for records in batch.values() for rec in records]
    now_ms = time.time() * 1000
    step = max(1, len(stamps) // LATENCY_SAMPLES)
    observe = metrics.LATENCY_SECONDS.observe
    for ts in stamps[::step]:
        observe(max(0.0, (now_ms - ts) / 1000))
    metrics.BATCH_SECONDS.observe(time.perf_counter() - started)


_TYPE_OF: dict[str, Any] = {topic_for(cls).name: cls.EVENT_TYPE for cls in STUDENT_EVENTS}
