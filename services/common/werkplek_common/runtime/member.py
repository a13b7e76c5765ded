"""A consumer-group member: one session of a processor in its group. Kafka's committed offsets are not
the truth: on assignment the member claims the stored offsets of its partitions (a partition the
group never stored starts where Kafka's committed offset says, else at the beginning) and seeks
there; each batch goes through the engine (one transaction per chunk). Offsets are also committed to
Kafka now and then, best effort, only so that lag monitors (KEDA, the Kafka exporter) see the group.

The rebalance handler waits for the batch in flight (a lock) and the commit in flight, each with a
bound. A handler that cannot finish leaves the member owning nothing (`Engine.disown`), says so in
health, and ends the session: the supervisor (worker.py) starts a new one, which rejoins the group
and reloads what it is given. A `Fenced` commit reloads the owned partitions and counts it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from ..kafka import client_options
from ..shutdown import bounded
from . import metrics
from .engine import Engine
from .faults import Outage
from .health import Part
from .loop import Batch, fetch_loop, seek, started
from .store import Fenced
from .tables import GlobalTable

log = logging.getLogger(__name__)
KAFKA_COMMIT_EVERY_S = 2.0
PROBE_EVERY_S = 5.0  # how often the broker is asked for metadata, to notice it is gone


@dataclass(frozen=True)
class Options:
    """How a consumer fetches. Batches: one step per key per batch, so a backlog is worked through
    in few large batches; memory stays bounded by the fetch size, the chunk and the cache."""

    group: str
    batch_max: int = 5_000  # records per getmany
    fetch_wait_ms: int = 200  # max wait to fill a batch: bounds the added latency
    linger_ms: int = 0  # keep filling a non-empty batch this long (see loop.fetch_loop)
    partition_fetch_mb: int = 1  # bytes fetched ahead per partition
    session_timeout_s: float = 10.0  # how long a crashed member's partitions stay taken
    rebalance_timeout_s: float = 60.0  # bound of the rebalance handler (batch in flight + claiming)


class RebalanceFailed(Exception):
    pass


def new_consumer(bootstrap: str, opts: Options, group: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, client_id=opts.group,
        enable_auto_commit=False, auto_offset_reset="earliest", isolation_level="read_committed",
        # co-partitioning: the same partition number of every input topic goes to the same member
        partition_assignment_strategy=(RangePartitionAssignor,),
        session_timeout_ms=int(opts.session_timeout_s * 1000), heartbeat_interval_ms=1000,
        max_poll_interval_ms=max(300_000, int(opts.rebalance_timeout_s * 2000)),
        max_partition_fetch_bytes=opts.partition_fetch_mb * 2**20,
        fetch_max_bytes=max(8, opts.partition_fetch_mb * 8) * 2**20,
        **client_options())  # TLS and SCRAM in the cluster (settings), plain on the local stack


class Rebalance(ConsumerRebalanceListener):
    def __init__(self, member: Member) -> None:
        self.m = member
        self.failed: BaseException | None = None
        self.assigned = False

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._bounded(self._revoke(), "revoke")

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        await self._bounded(self._assign(assigned), "assign")

    async def _bounded(self, step: Any, what: str) -> None:
        try:
            await asyncio.wait_for(step, self.m.opts.rebalance_timeout_s)
        except Exception as exc:  # never raise into aiokafka: it would log it and carry on half-assigned
            self.m.engine.disown()
            self.failed = exc
            metrics.ERRORS.labels(self.m.name, f"rebalance_{what}").inc()
            self.m.part.not_ready(f"rebalance {what} failed: owning no partitions, rejoining")
            log.error("rebalance handler failed: owning no partitions; the session will rejoin", exc_info=exc,
                      extra={"fields": {"consumer": self.m.name, "step": what}})

    async def _revoke(self) -> None:
        async with self.m.lock:
            # the commit in flight lands before another member claims the partitions (a failure
            # changes nothing stored: the partitions are claimed again from the stored offsets)
            await self.m.engine.settle(discard=True)

    async def _assign(self, assigned: list[TopicPartition]) -> None:
        async with self.m.lock:
            consumer, engine = self.m.consumer, self.m.engine
            assert consumer is not None
            starts = {}
            for tp in await engine.store.unknown(assigned):
                committed = await consumer.committed(tp)
                if committed is not None:
                    starts[tp] = committed
            seek(consumer, await engine.own(assigned, starts))
            for labels in set(_lag_labels(self.m.name)) - {(t.topic, str(t.partition)) for t in assigned}:
                metrics.LAG.remove(self.m.name, *labels)
        self.assigned = True
        metrics.REBALANCES.labels(self.m.name).inc()
        self.m.update_health()
        log.info("partitions assigned", extra={"fields": {"consumer": self.m.name, "partitions": sorted(
            {t.partition for t in assigned}), "cached_keys": len(engine.hot)}})


def _lag_labels(consumer: str) -> list[tuple[str, str]]:
    return [(s.labels["topic"], s.labels["partition"]) for m in metrics.LAG.collect() for s in m.samples
            if s.labels["consumer"] == consumer]


class Member:
    def __init__(self, engine: Engine[Any], topics: Sequence[str], opts: Options, bootstrap: str, part: Part,
                 outage: Outage, tables: Sequence[GlobalTable] = ()) -> None:
        self.engine, self.topics, self.opts, self.bootstrap = engine, list(topics), opts, bootstrap
        self.part, self.outage, self.tables = part, outage, list(tables)
        self.name = opts.group
        self.lock = asyncio.Lock()
        self.consumer: AIOKafkaConsumer | None = None
        self.listener = Rebalance(self)
        self.broker_ok = True
        self._kafka_committed = time.monotonic()

    async def run(self, stop: asyncio.Event) -> None:
        """One session; returns when stopped, raises what ended it otherwise."""
        self.listener = Rebalance(self)
        for table in self.tables:  # reference data first: no key is handled before it is known
            self.part.not_ready(f"reading {table.name}")
            await table.wait_ready(stop)
        self.consumer = await started(lambda: new_consumer(self.bootstrap, self.opts, self.opts.group), stop,
                                      self.outage, self.part)
        if self.consumer is None:
            return
        probe = asyncio.create_task(self._probe(stop), name=f"{self.name}-probe")
        try:
            self.part.not_ready("joining the consumer group")
            log.info("joining the consumer group", extra={"fields": {"group": self.name, "topics": self.topics}})
            self.consumer.subscribe(self.topics, listener=self.listener)
            await fetch_loop(self.consumer, self._on_batch, stop, wait_ms=self.opts.fetch_wait_ms,
                             max_records=self.opts.batch_max, linger_ms=self.opts.linger_ms, part=self.part)
        finally:
            probe.cancel()
            await bounded(self.engine.settle(discard=True), "the commit in flight")
            await bounded(self.consumer.stop(), f"{self.name} consumer stop")

    async def _on_batch(self, batch: Batch) -> bool:
        if self.listener.failed is not None:
            raise RebalanceFailed(repr(self.listener.failed)) from self.listener.failed
        assert self.consumer is not None
        async with self.lock:
            try:
                for table in self.tables:
                    if changed := table.take_changes():
                        await self.engine.reevaluate_tagged(changed)
                if batch:
                    await self.engine.account(batch)
                await self.engine.pass_step()
            except Fenced as exc:
                await self._fenced(exc)
                return False
            self._lag()
        if time.monotonic() - self._kafka_committed > KAFKA_COMMIT_EVERY_S:
            self._kafka_committed = time.monotonic()
            offsets = {tp: n for tp, n in self.engine.next.items() if n > 0}
            if offsets:  # best effort, bounded: with the broker gone a commit retries indefinitely
                await bounded(self.consumer.commit(offsets), "kafka offset commit")
        return False

    async def _fenced(self, exc: Fenced) -> None:
        assert self.consumer is not None
        metrics.FENCED.labels(self.name).inc()
        self.part.not_ready("fenced: reloading the owned partitions")
        log.warning("fenced: another worker moved the stored offsets; reloading the owned partitions",
                    extra={"fields": {"consumer": self.name, "error": str(exc)}})
        seek(self.consumer, await self.engine.reload())
        self.update_health()

    def _lag(self) -> None:
        assert self.consumer is not None
        for tp, committed in self.engine.next.items():
            highwater = self.consumer.highwater(tp)
            if highwater is not None:
                metrics.LAG.labels(self.name, tp.topic, str(tp.partition)).set(max(0, highwater - committed))

    async def _probe(self, stop: asyncio.Event) -> None:
        """Ask the broker for metadata now and then: the group session alone notices a lost broker
        only when the session times out, and aiokafka retries silently (or loudly) meanwhile."""
        assert self.consumer is not None
        while not stop.is_set():
            await asyncio.sleep(PROBE_EVERY_S)
            try:
                await asyncio.wait_for(self.consumer.topics(), PROBE_EVERY_S)
                self.broker_ok = True
                self.outage.ok()
            except Exception as exc:  # unreachable, timed out
                self.broker_ok = False
                self.outage.failed(exc)
            self.update_health()

    def update_health(self) -> None:
        if self.listener.failed is not None:
            return  # already said why
        if not self.broker_ok:
            self.part.not_ready("broker unreachable")
        elif not self.listener.assigned:
            self.part.not_ready("joining the consumer group")
        else:
            self.part.ready()
