"""`worker`: a member of the consumer group (`accounting_app_id`) over the student topics. Kafka's
committed offsets are not the truth: on assignment the worker loads the stored offsets and states of
its partitions and seeks there; every batch commits state, offsets (compare-and-set), read model and
outbox in one transaction (store.py). The outbox relay runs here as a task. Offsets are also committed
to Kafka now and then, best effort, only so that KEDA and the Kafka Exporter see the group's lag."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import time

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from werkplek_common.kafka import client_options, getmany_or_stop
from werkplek_common.outbox import OutboxRelay
from werkplek_common.shutdown import bounded

from . import metrics
from .config import AccountingSettings
from .engine import INPUT_TOPICS, Engine
from .service import Service
from .store import Fenced

log = logging.getLogger(__name__)
KAFKA_COMMIT_EVERY_S = 2.0
GC_YOUNG = 200_000  # net allocations between young collections (CPython's default: 700)


class Rebalance(ConsumerRebalanceListener):
    """A batch in flight finishes (the lock) before partitions move; on assignment the engine loads what
    it newly owns and the consumer seeks to the stored offsets."""

    def __init__(self, engine: Engine, consumer: AIOKafkaConsumer, lock: asyncio.Lock) -> None:
        self.engine, self.consumer, self.lock = engine, consumer, lock

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        async with self.lock:
            # the commit in flight lands before another member claims the partitions (a failure
            # changes nothing stored: the partitions are claimed again from the stored offsets)
            await self.engine.settle(discard=True)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        async with self.lock:
            seek(self.consumer, await self.engine.own(assigned))
            for tp in set(_lag_labels()) - {(t.topic, str(t.partition)) for t in assigned}:
                metrics.LAG.remove(*tp)
        log.info("partitions assigned", extra={"fields": {"partitions": sorted({t.partition for t in assigned}),
                                                           "cached_students": len(self.engine.hot)}})


def _lag_labels() -> list[tuple[str, str]]:
    return [(s.labels["topic"], s.labels["partition"]) for m in metrics.LAG.collect() for s in m.samples]


def tune_gc() -> None:
    """The cached states are hundreds of thousands of small objects that die by reference counting,
    never in cycles. With CPython's default thresholds every batch's new states soon trigger a full
    collection that scans them all (about 100 ms per 1M objects, several times a second at 1,000
    students/s): that was the worker's largest latency spike. What exists at start (modules,
    schemas, the catalogue) is frozen out of the collector, young collections run less often, and
    full ones rarely; short-lived cycles are still collected young."""
    gc.freeze()
    gc.set_threshold(GC_YOUNG, 20, 100)


def seek(consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]) -> None:
    for tp, offset in positions.items():
        consumer.seek(tp, offset)


def new_consumer(cfg: AccountingSettings, group: str | None) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=cfg.kafka_bootstrap, group_id=group, client_id=cfg.accounting_app_id,
        enable_auto_commit=False, auto_offset_reset="earliest",
        # co-partitioning: the same partition number of every student topic goes to the same member
        partition_assignment_strategy=(RangePartitionAssignor,),
        session_timeout_ms=int(cfg.accounting_session_timeout_s * 1000), heartbeat_interval_ms=1000,
        max_partition_fetch_bytes=cfg.accounting_fetch_partition_mb * 2**20, **client_options(),
        fetch_max_bytes=8 * cfg.accounting_fetch_partition_mb * 2**20)


async def run_worker(cfg: AccountingSettings) -> None:
    service = Service(cfg)
    engine = await service.start()
    tune_gc()
    assert service.pool is not None and service.producer is not None
    relay = OutboxRelay(service.pool, service.producer, cfg.accounting_outbox_producer, lease_s=cfg.outbox_lease_s)
    tasks = [asyncio.create_task(relay.run()), asyncio.create_task(refresh_stats(service))]
    consumer, lock, stop = new_consumer(cfg, cfg.accounting_app_id), asyncio.Lock(), asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await consumer.start()
    log.info("joining the consumer group", extra={"fields": {"group": cfg.accounting_app_id}})
    consumer.subscribe(INPUT_TOPICS, listener=Rebalance(engine, consumer, lock))
    try:
        await consume(cfg, service, engine, consumer, lock, stop)
    finally:
        await bounded(engine.settle(discard=True), "the commit in flight")
        relay.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await bounded(consumer.stop(), "consumer stop")
        await service.stop()


async def consume(cfg: AccountingSettings, service: Service, engine: Engine, consumer: AIOKafkaConsumer,
                  lock: asyncio.Lock, stop: asyncio.Event) -> None:
    kafka_committed = time.monotonic()
    while not stop.is_set():
        batch = await getmany_or_stop(consumer, stop, timeout_ms=cfg.accounting_fetch_wait_ms,
                                      max_records=cfg.accounting_batch_max)
        if stop.is_set():
            break
        async with lock:
            try:
                await service.recompute_changed()
                if batch:
                    await engine.account(batch)
                await engine.reevaluate_step()
            except Fenced as exc:
                metrics.FENCED.inc()
                log.warning("fenced: reloading the owned partitions", extra={"fields": {"error": str(exc)}})
                seek(consumer, await engine.reload())
                continue
            _lag(consumer, engine)
        if time.monotonic() - kafka_committed > KAFKA_COMMIT_EVERY_S:
            kafka_committed = time.monotonic()
            await _commit_to_kafka(consumer, engine)


def _lag(consumer: AIOKafkaConsumer, engine: Engine) -> None:
    for tp, committed in engine.next.items():
        highwater = consumer.highwater(tp)
        if highwater is not None:
            metrics.LAG.labels(tp.topic, str(tp.partition)).set(max(0, highwater - committed))


async def _commit_to_kafka(consumer: AIOKafkaConsumer, engine: Engine) -> None:
    """Best effort, bounded: only for lag monitoring (the stored offsets are the truth). With the broker
    gone a commit retries indefinitely, and the loop would not see a stop signal."""
    offsets = {tp: n for tp, n in engine.next.items() if n > 0}
    if offsets:  # nothing owned yet (joining the group): nothing to report
        await bounded(consumer.commit(offsets), "kafka offset commit")


async def refresh_stats(service: Service) -> None:
    """Students by status per programme (from the read model, so every replica reports the same
    figure: the dashboard takes the max), and programmes that students wait for."""
    assert service.pool is not None and service.engine is not None
    while True:
        rows = await service.pool.fetch("SELECT programme_id, status, count(*) AS n FROM share_read_model"
                                        " GROUP BY 1, 2")
        metrics.STUDENTS_BY_STATUS.clear()
        for row in rows:
            metrics.STUDENTS_BY_STATUS.labels(row["programme_id"], row["status"]).set(row["n"])
        metrics.HELD_PROGRAMMES.set(await service.engine.waiting_for())
        await asyncio.sleep(service.settings.accounting_stats_interval_s)
