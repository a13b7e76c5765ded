"""Kafka helpers: topic creation from the registry, a producer of events, DLQ copies of records. The
one consumer loop every consumer runs is the stream runtime's (werkplek_common.runtime)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from werkplek_events import BY_NAME, TOPICS, Event, KafkaRecord, TopicSpec, encode

from .metrics import DLQ_RECORDS, EVENTS_PRODUCED
from .settings import CommonSettings
from .shutdown import unless_stopped

log = logging.getLogger(__name__)
LEADER_POLL_S = 0.2  # how often topic creation re-checks for partition leaders


@functools.cache
def client_options() -> dict[str, object]:
    """How this process's Kafka clients connect (werkplek_common.settings): nothing extra on the local
    plain listener; TLS and SCRAM-SHA-512 as the service's KafkaUser in the cluster. Every consumer,
    producer and admin client of the code base is built with these."""
    return CommonSettings().kafka_client_options()


def _wanted(specs: Iterable[TopicSpec]) -> dict[str, tuple[int, dict[str, str]]]:
    """Every topic with its partitions and configs; a DLQ has the partitions of its topic."""
    out: dict[str, tuple[int, dict[str, str]]] = {}
    for spec in specs:
        out[spec.name] = (spec.partitions, spec.configs())
        if spec.dlq:
            out[spec.dlq] = (spec.partitions, spec.dlq_configs(CommonSettings().dlq_retention_days))
    return out


async def ensure_topics(bootstrap: str, specs: Iterable[TopicSpec] = TOPICS) -> dict[str, str]:
    """Create missing topics, raise partition counts and reconcile configs. Idempotent.
    Returns what happened per topic: created / updated / unchanged."""
    wanted = _wanted(specs)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="werkplek-topics", **client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(n, p, 1, topic_configs=c) for n, (p, c) in wanted.items() if n not in existing]
        if missing:
            await admin.create_topics(missing)
        result = {t.name: "created" for t in missing}
        for name in sorted(set(wanted) & existing):
            result[name] = await _reconcile(admin, name, *wanted[name])
        await _await_leaders(admin, sorted(wanted))
        return result
    finally:
        await admin.close()


async def _await_leaders(admin: AIOKafkaAdminClient, names: list[str], seconds: float = 60.0) -> None:
    """Wait until every partition has a leader: services started right after topic creation would
    otherwise meet NotLeaderForPartition errors while the controller is still electing."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        described = await admin.describe_topics(names)
        leaderless = [d["topic"] for d in described for p in d["partitions"] if p["leader"] < 0 or p["error_code"]]
        if not leaderless and all(not d["error_code"] for d in described):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"partitions without a leader after {seconds}s: {sorted(set(leaderless))[:5]}")
        await asyncio.sleep(LEADER_POLL_S)


async def _reconcile(admin: AIOKafkaAdminClient, name: str, partitions: int, configs: dict[str, str]) -> str:
    changed = False
    described = await admin.describe_topics([name])
    if len(described[0]["partitions"]) < partitions:
        await admin.create_partitions({name: NewPartitions(partitions)})
        changed = True
    resource = ConfigResource(ConfigResourceType.TOPIC, name)
    response = (await admin.describe_configs([resource]))[0]
    current = {e[0]: e[1] for e in response.resources[0][4]}
    if any(current.get(k) != v for k, v in configs.items()):
        await admin.alter_configs([ConfigResource(ConfigResourceType.TOPIC, name, configs)])
        changed = True
    return "updated" if changed else "unchanged"


def new_producer(bootstrap: str, client_id: str, **overrides: object) -> AIOKafkaProducer:
    """Idempotent producer, acks from all in-sync replicas: a sent event is not lost by the broker."""
    opts: dict[str, object] = {"acks": "all", "enable_idempotence": True, "linger_ms": 5, "compression_type": None,
                               **client_options()}
    opts.update(overrides)
    return AIOKafkaProducer(bootstrap_servers=bootstrap, client_id=client_id, **opts)


async def send_record(producer: AIOKafkaProducer, record: KafkaRecord) -> asyncio.Future[object]:
    """Queue one record; await the returned future for the broker's acknowledgement. An empty value
    goes as null: the tombstone of a compacted topic (no event has an empty payload)."""
    fut = await producer.send(record.topic, record.value or None, key=record.key, headers=record.headers)
    EVENTS_PRODUCED.labels(record.topic).inc()
    return fut


async def publish(producer: AIOKafkaProducer, events: Sequence[Event], *, source: str) -> None:
    """Produce events and wait until the broker has acknowledged every one of them."""
    futures = [await send_record(producer, encode(e, source=source)) for e in events]
    await asyncio.gather(*futures)


class PoisonRecord(Exception):
    """Raised by a handler for a record that decodes but breaks the contract; it goes to the DLQ."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


async def getmany_or_stop(consumer: AIOKafkaConsumer, stop: asyncio.Event, *, timeout_ms: int,
                          max_records: int) -> dict[TopicPartition, list[ConsumerRecord]]:
    """`consumer.getmany`, or nothing as soon as `stop` is set. A group member's getmany ignores its
    timeout while the group rebalances, and with the coordinator gone that lasts until it returns:
    a loop that checks its stop flag between batches would never see SIGTERM."""
    fetch = asyncio.ensure_future(consumer.getmany(timeout_ms=timeout_ms, max_records=max_records))
    if await unless_stopped(fetch, stop):
        return fetch.result()
    return {}


def dlq_record(rec: ConsumerRecord, error: Exception, consumer: str) -> KafkaRecord:
    """The DLQ copy of a record: same key, value and headers, plus the error and where it came from."""
    field = getattr(error, "field", "")
    extra = [
        ("dlq_error", str(error).encode()),
        ("dlq_error_type", type(error).__name__.encode()),
        ("dlq_field", str(field).encode()),
        ("dlq_source_topic", rec.topic.encode()),
        ("dlq_source_partition", str(rec.partition).encode()),
        ("dlq_source_offset", str(rec.offset).encode()),
        ("dlq_consumer", consumer.encode()),
        ("dlq_failed_at", datetime.now(UTC).isoformat().encode()),
    ]
    spec = BY_NAME.get(rec.topic)
    target = spec.dlq if spec and spec.dlq else f"{rec.topic}.dlq"
    return KafkaRecord(target, rec.key or b"", rec.value or b"", [*list(rec.headers or ()), *extra])


async def send_to_dlq(producer: AIOKafkaProducer, rec: ConsumerRecord, error: Exception, consumer: str) -> None:
    dead = dlq_record(rec, error, consumer)
    await (await send_record(producer, dead))
    DLQ_RECORDS.labels(rec.topic, consumer).inc()
    log.warning("record sent to DLQ", extra={"fields": {"topic": rec.topic, "partition": rec.partition,
                                                         "offset": rec.offset, "error": str(error)}})
