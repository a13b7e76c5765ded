"""The engine: how a batch of records of the partitions this worker owns becomes committed
transactions (store.py). No consumer here: the loop (group member) and a rebuild (plain assignment)
feed it records.

PostgreSQL holds every key's state; memory holds only a bounded LRU of decoded states (`hot`), so a
worker's memory does not grow with the number of keys it owns. A batch loads the states it misses
with one query per chunk. Each key of a batch is decoded, handled and encoded in turn, and only its
bytes are kept until the commit.

A batch that touches more than `chunk` keys commits in several transactions: each chunk's states and
outputs with the offsets unchanged (compare-and-set still fences), the last one also advancing the
offsets. A crash in between replays the batch; the keys already committed have applied its events,
so they change nothing and publish nothing twice.

Commits are pipelined: a transaction runs in the background while the next batch is fetched, decoded
and handled, at most one in flight. The next commit waits for it first, so transactions stay in
order and each one's compare-and-set expects the offsets the one before it wrote. The in-flight
commit's states (`_pending`) are what the next batch builds on. If it fails, nothing of it or after it
reaches memory (its error surfaces at the next `settle`, `account` or commit); the caller reloads
(`reload`), as after `Fenced`. `settle()` waits for it: before stopping and before reading stored states.

A key whose step raises, or whose outputs cannot be encoded or stored, is quarantined: its records of
the batch and every later one go to the DLQ with the reason, and the other keys keep flowing."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar

from aiokafka import ConsumerRecord, TopicPartition
from werkplek_events.personal import KeyLookup

from ..keystore import KeyStore
from ..metrics import DLQ_RECORDS
from ..outbox import outbox_columns
from . import metrics
from .batch import decode_all, group
from .dead import Quarantined
from .processor import Context, Processor
from .store import TAG_SEP, Commit, Fenced, KeyWrite, Store

log = logging.getLogger(__name__)
S = TypeVar("S")
YIELD_EVERY = 200  # keys handled between two turns of the event loop
LATENCY_SAMPLES = 512  # per batch: records whose latency is observed (evenly spaced), not every record
Fresh = dict[str, tuple[int, Any]]  # key -> (partition, decoded state) of a commit, for the cache


def utc_now() -> datetime:
    return datetime.now(UTC)


def _late(task: asyncio.Task[None]) -> None:
    """A commit abandoned by `disown`: its outcome changes nothing in memory; a failure is only logged."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("an abandoned commit failed", exc_info=task.exception())


def _with_positions(ctx: Context, records: Sequence[ConsumerRecord]) -> Context:
    positions: dict[str, int] = {}
    for rec in records:
        positions[f"{rec.topic}:{rec.partition}"] = max(positions.get(f"{rec.topic}:{rec.partition}", 0),
                                                        rec.offset + 1)
    return replace(ctx, positions=positions)


class Engine(Generic[S]):
    def __init__(self, store: Store, processor: Processor[S], *, hot_capacity: int = 10_000, chunk: int = 5_000,
                 now: Callable[[], datetime] = utc_now, today: Callable[[], date] | None = None,
                 rebuild: bool = False) -> None:
        self.store, self.processor, self.chunk, self.hot_capacity = store, processor, chunk, hot_capacity
        self.now, self.today = now, today or (lambda: now().date())
        self.rebuild = rebuild
        self.label = store.group  # metrics label
        for counter in (metrics.QUARANTINED, metrics.REEVALUATED, metrics.FENCED, metrics.REBALANCES):
            counter.labels(self.label).inc(0)  # a series from the start: the panels' increase() shows 0, not nothing
        self.hot: OrderedDict[str, tuple[int, S]] = OrderedDict()  # committed states, LRU
        self.next: dict[TopicPartition, int] = {}  # committed next offset of every owned partition
        self.quarantined: dict[str, str] = {}  # key -> reason
        self.passed: str | None = None  # the period every owned key was last evaluated for
        self._pass: tuple[str, str] | None = None  # the pass in progress: its period, the last key
        self._generation = 0  # bumped when ownership is dropped: a late commit then changes no memory
        self._inflight: asyncio.Task[None] | None = None
        self._pending: Fresh = {}  # the in-flight commit's states kept decoded (see `_state`)
        self._pending_keys: set[str] = set()  # every key it writes
        self._keystore: KeyStore | None = None  # made on first use, for a processor that opens personal fields

    @property
    def partitions(self) -> set[int]:
        return {tp.partition for tp in self.next}

    def context(self, *, reevaluate: bool = False) -> Context:
        return Context(self.now(), self.today(), reevaluate, self.rebuild)

    # --- ownership -----------------------------------------------------------------------------

    async def own(self, tps: Iterable[TopicPartition], starts: dict[TopicPartition, int] | None = None,
                  default: int = 0) -> dict[TopicPartition, int]:
        """Own exactly `tps`: keep the cached keys of partitions still owned (unless the stored
        offsets moved meanwhile), forget the others. States load lazily. Returns where to seek."""
        tps = set(tps)
        # a failed commit in flight changed nothing stored and nothing in memory: claiming again from
        # the stored offsets is the recovery, so its error is logged here, not raised
        await self.settle(discard=True)
        stored = await self.store.claim(tps, starts, default)
        self.quarantined = await self.store.quarantined()
        metrics.QUARANTINED_NOW.labels(self.label).set(len(self.quarantined))
        stale = {tp.partition for tp, n in self.next.items() if stored.get(tp, n) != n}
        kept = self.partitions & {tp.partition for tp in tps} - stale
        self.drop(self.partitions - kept)
        self.next = stored
        self.passed, self._pass = None, None  # owned keys changed: evaluate them all again
        return dict(self.next)

    def disown(self) -> None:
        """Own nothing (a rebalance handler that could not finish): memory forgets every partition,
        and a commit still in flight, should it land, changes no memory."""
        self._generation += 1
        self.drop(self.partitions)
        self.hot.clear()
        self.next = {}
        self._pending, self._pending_keys = {}, set()
        if self._inflight is not None:
            self._inflight.add_done_callback(_late)
        self._inflight = None

    def drop(self, partitions: set[int]) -> None:
        if partitions:
            for key in [k for k, (part, _) in self.hot.items() if part in partitions]:
                del self.hot[key]
        metrics.KEYS_HELD.labels(self.label).set(len(self.hot))

    async def reload(self) -> dict[TopicPartition, int]:
        """After `Fenced` or a failed commit: forget memory and claim the owned partitions again."""
        owned = set(self.next)
        await self.settle(discard=True)
        self.hot.clear()
        self.next = {}
        return await self.own(owned)

    # --- a batch of records --------------------------------------------------------------------

    async def account(self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> int:
        """Decode, handle and commit one batch. Returns the number of records consumed."""
        started = time.perf_counter()
        groups, advanced = group(batch, self.next)
        if not advanced:
            await self.settle()  # nothing new: let the commit in flight land meanwhile
            return 0
        ctx, key_of = self.context(), self.processor.key_of
        opener = await self._keys_for(batch)
        c, n = Commit(ctx), 0
        fresh: Fresh = {}
        types: dict[str, int] = defaultdict(int)
        keys = list(groups)
        for i in range(0, len(keys), self.chunk):
            chunk = keys[i:i + self.chunk]
            names = [k.decode(errors="replace") if k is not None else None for k in chunk]
            blobs = await self._blobs(names)
            for j, (raw, key) in enumerate(zip(chunk, names, strict=True)):
                if j % YIELD_EVERY == YIELD_EVERY - 1:
                    await asyncio.sleep(0)  # let the consumer's fetcher prefetch the next batch meanwhile
                part, records = groups[raw]
                n += len(records)
                if key is not None and key in self.quarantined:
                    self._still_quarantined(key, part, records, c)
                    continue
                events, good, dead = decode_all(records, key, key_of, opener)
                c.dead.extend(dead)
                for e in events:
                    types[e.EVENT_TYPE] += 1
                if events and key is not None:
                    step_ctx = _with_positions(ctx, good) if self.processor.positions else ctx
                    self._step(key, part, self._state(key, blobs), events, step_ctx, c, fresh, good)
            if i + self.chunk < len(keys):  # not the last chunk: states and outputs, offsets unchanged
                await self._commit(c, {}, fresh)
                c, fresh = Commit(ctx), Fresh()
        await self._commit(c, advanced, fresh)
        self._observe(types, batch, started)
        return n

    async def _keys_for(self, batch: Mapping[TopicPartition, Sequence[ConsumerRecord]]) -> KeyLookup | None:
        """The data keys of the batch's sealed records, for a processor that opens personal fields:
        one query per batch, never cached, so a key destroyed by an erasure is gone at once."""
        if not self.processor.opens_personal:
            return None
        if self._keystore is None:
            self._keystore = KeyStore()
        return await self._keystore.lookup_for(self.store.pool, (r.headers for recs in batch.values() for r in recs))

    async def _blobs(self, keys: list[str | None]) -> dict[str, Any]:
        if not self.processor.stateful:
            return {}
        missing = [k for k in keys if k is not None and k not in self.hot and k not in self._pending]
        if self._pending_keys.intersection(missing):
            await self.settle()  # its stored state is about to change: read it after the commit
        return await self._stored(missing, await self.store.load_states(missing))

    async def _stored(self, keys: list[str], heads: Mapping[str, bytes]) -> dict[str, Any]:
        """Stored states as `_state` takes them: bytes, or (head, parts) for a parted processor."""
        if not self.processor.parted:
            return dict(heads)
        parts = await self.store.load_parts([k for k in keys if k in heads])
        return {k: (head, parts.get(k, {})) for k, head in heads.items()}

    async def reevaluate_tagged(self, tags: set[str]) -> int:
        """Reference data changed: evaluate again the owned keys carrying one of `tags`."""
        await self.settle()  # stored states are read: none may be in flight
        rows = await self.store.tagged(tags, self.partitions)
        ctx = self.context(reevaluate=True)
        for i in range(0, len(rows), self.chunk):
            await self._evaluate(rows[i:i + self.chunk], ctx)
        metrics.REEVALUATED.labels(self.label).inc(len(rows))
        return len(rows)

    async def pass_step(self) -> int:
        """One chunk of the periodic pass: when the processor's period changes (a new day, a new month),
        and after every change of the owned partitions, each owned key is evaluated once on the new
        period without any event, a chunk per call between batches. Returns the keys evaluated."""
        ctx = self.context(reevaluate=True)
        period = self.processor.period(ctx.now)
        if period is None or self.passed == period or not self.next:
            return 0
        if self._pass is None or self._pass[0] != period:
            self._pass = (period, "")  # a new period restarts the pass: all of it on one period
        await self.settle()  # stored states are read: none may be in flight
        rows = await self.store.keys_after(self._pass[1], self.partitions, self.chunk)
        if not rows:
            self.passed, self._pass = period, None
            return 0
        await self._evaluate(rows, ctx)
        self._pass = (period, rows[-1]["key"])
        metrics.REEVALUATED.labels(self.label).inc(len(rows))
        return len(rows)

    async def _evaluate(self, rows: Sequence[Mapping[str, Any]], ctx: Context) -> None:
        """Evaluate stored keys (key, partition, state) without new events and commit those whose
        state or outputs changed, offsets unchanged."""
        c, fresh = Commit(ctx), Fresh()
        keys = [row["key"] for row in rows if row["key"] not in self.quarantined]
        stored = await self._stored(keys, {row["key"]: row["state"] for row in rows})
        for row in rows:
            key = row["key"]
            if key in stored:
                self._step(key, row["partition"], self._state(key, stored), [], ctx, c, fresh, [])
        await self._commit(c, {}, fresh)

    def _state(self, key: str, blobs: Mapping[str, Any]) -> Any:
        if not self.processor.stateful:
            return None
        cached = self._pending.get(key) or self.hot.get(key)
        if cached is not None:
            return cached[1]
        blob = blobs.get(key)
        if blob is None:
            return self.processor.initial(key)
        return self.processor.load_parted(key, *blob) if self.processor.parted else self.processor.load(key, blob)

    def _step(self, key: str, part: int, state: Any, events: Sequence[Any], ctx: Context, c: Commit, fresh: Fresh,
              records: list[ConsumerRecord]) -> None:
        """One key: handle, encode right away, keep the decoded state only while the cache has room."""
        p = self.processor
        try:
            new, outputs = p.handle(state, events, ctx)
            changed = p.stateful and new is not state
            if not changed and not outputs:
                return
            blob = p.dump(new) if changed else None
            parts = p.dump_parts(new) if changed and p.parted else {}
            tags = TAG_SEP.join(p.tags(new)) if changed else ""
            outbox = outbox_columns(outputs, source=p.source) if outputs and p.publish and not self.rebuild else None
        except Exception as exc:  # a bug or an input the rules cannot take: this key only
            self._quarantine(key, part, records, exc, c)
            return
        c.keys.append(KeyWrite(key, part, blob, tags, parts, outputs, outbox, records))
        if not changed:
            return
        if len(fresh) < self.hot_capacity:
            fresh[key] = (part, new)
        else:  # its cached state is about to be outdated, and so is the in-flight commit's
            self.hot.pop(key, None)
            self._pending.pop(key, None)  # the very dict that commit merges into `hot` when done

    def _quarantine(self, key: str, part: int, records: list[ConsumerRecord], exc: Exception, c: Commit) -> None:
        reason = f"{type(exc).__name__}: {exc}"[:2000]
        c.dead.extend((rec, exc) for rec in records)
        c.quarantine.append((key, part, reason, type(exc).__name__, len(records)))
        self._quarantined(key, reason, exc)

    def _quarantined(self, key: str, reason: str, exc: BaseException) -> None:
        self.quarantined[key] = reason
        self.hot.pop(key, None)
        metrics.QUARANTINED.labels(self.label).inc()
        metrics.QUARANTINED_NOW.labels(self.label).set(len(self.quarantined))
        log.error("key quarantined: its records go to the DLQ until it is released", exc_info=exc, extra={
            "fields": {"consumer": self.label, "key": key, "reason": reason}})

    def _still_quarantined(self, key: str, part: int, records: list[ConsumerRecord], c: Commit) -> None:
        reason = self.quarantined[key]
        c.dead.extend((rec, Quarantined(key, reason)) for rec in records)
        c.quarantine.append((key, part, reason, "Quarantined", len(records)))

    async def _commit(self, c: Commit, advanced: dict[TopicPartition, int], fresh: Fresh) -> None:
        """Start committing `c` in the background, once the commit before it has succeeded."""
        await self.settle()
        parts = ({tp.partition for tp in advanced} | {k.partition for k in c.keys} | {q[1] for q in c.quarantine}
                 | {rec.partition for rec, _ in c.dead})
        # compare-and-set every input partition of the partition numbers written, advanced or not:
        # a key's events come from all of them, so any other writer of the key conflicts here
        c.offsets = [(tp.topic, tp.partition, n, advanced.get(tp, n)) for tp, n in self.next.items()
                     if tp.partition in parts]
        if not c.offsets:
            return  # nothing to write, or nothing owned any more that it would write
        self._pending, self._pending_keys = fresh, {k.key for k in c.keys}
        self._inflight = asyncio.create_task(self._write(c, advanced, fresh, self._generation))

    async def settle(self, discard: bool = False) -> None:
        """Wait for the commit in flight. Its error is raised here (unless `discard`: the caller
        reloads anyway)."""
        task, self._inflight = self._inflight, None
        if task is None:
            return
        try:
            await task
        except Fenced as exc:
            if not discard:
                raise  # the member counts it and reloads
            # a zombie's stale commit met in a rebalance (a paused worker resumed): rolled back, counted
            metrics.FENCED.labels(self.store.group).inc()
            log.warning("fenced: another worker moved the stored offsets; the commit in flight is rolled back",
                        extra={"fields": {"consumer": self.store.group, "error": str(exc)}})
        except Exception:
            if not discard:
                raise
            log.warning("a commit failed before a reload", exc_info=True)
        finally:
            self._pending, self._pending_keys = {}, set()

    async def _write(self, c: Commit, advanced: dict[TopicPartition, int], fresh: Fresh, generation: int) -> None:
        await self.store.commit(c)
        if generation != self._generation:
            return  # ownership was dropped meanwhile: memory starts again from the store
        self.next.update(advanced)
        for k, exc in c.failed:  # quarantined by the commit itself (their data could not be stored)
            fresh.pop(k.key, None)
            self._quarantined(k.key, f"{type(exc).__name__}: {exc}"[:2000], exc)
        for key, entry in fresh.items():
            self.hot[key] = entry
            self.hot.move_to_end(key)
        while len(self.hot) > self.hot_capacity:
            self.hot.popitem(last=False)
        metrics.KEYS_HELD.labels(self.label).set(len(self.hot))
        self.committed(c)

    def committed(self, c: Commit) -> None:
        """After each commit landed: metrics of what it staged."""
        failed = {k.key for k, _ in c.failed}
        self.processor.committed([o for k in c.keys if k.key not in failed for o in k.outputs])
        if self.store.outbox_producer is None:
            return
        counts: dict[str, int] = defaultdict(int)
        for rec, _ in c.dead:
            counts[rec.topic] += 1
        for topic, k in counts.items():
            DLQ_RECORDS.labels(topic, self.label).inc(k)
        if c.dead:
            log.warning("records sent to the DLQ", extra={"fields": {"consumer": self.label, "records": len(c.dead),
                                                                     "first_error": str(c.dead[0][1])}})

    def _observe(self, types: dict[str, int], batch: Mapping[TopicPartition, Sequence[ConsumerRecord]],
                 started: float) -> None:
        """Counts per type; latency of a sample of the batch's records, evenly spaced (a histogram
        observation per record cost more than the handling of a small event)."""
        for kind, k in types.items():
            metrics.EVENTS.labels(self.label, kind).inc(k)
        stamps = [rec.timestamp for records in batch.values() for rec in records]
        now_ms = time.time() * 1000
        observe = metrics.LATENCY_SECONDS.labels(self.label).observe
        for ts in stamps[::max(1, len(stamps) // LATENCY_SAMPLES)]:
            observe(max(0.0, (now_ms - ts) / 1000))
        metrics.BATCH_SECONDS.labels(self.label).observe(time.perf_counter() - started)
