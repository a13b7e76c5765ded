"""Transactional outbox: no dual writes. `stage` adds events to the outbox inside the caller's
transaction; `OutboxRelay` publishes them in id order and deletes them in the same transaction
(`FOR UPDATE SKIP LOCKED`, batched). While Kafka is down rows stay and the relay retries; when it
returns the relay catches up. Only the relay holding the producer's advisory lock publishes, so
per-key order is kept. A crash between the broker's ack and the commit republishes a batch: consumers
dedupe by event_id."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
import zlib
from collections.abc import Sequence
from typing import NamedTuple

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from werkplek_events import Event, KafkaRecord, encode

from .kafka import send_record
from .keystore import KeyStore
from .metrics import OUTBOX_BACKLOG, OUTBOX_BATCH_SECONDS, OUTBOX_PUBLISHED, OUTBOX_RELAY_LAG

log = logging.getLogger(__name__)
CHANNEL = "werkplek_outbox"


class OutboxColumns(NamedTuple):
    """Outbox rows as one list per column, for `INSERT ... SELECT FROM unnest(...)` (see `insert_sql`)."""

    topics: list[str]
    keys: list[bytes]
    values: list[bytes]
    headers: list[str]  # JSON [[name, utf-8 value], ...], what `_headers` reads back
    event_ids: list[uuid.UUID]


def outbox_columns(events: Sequence[Event | KafkaRecord], *, source: str) -> OutboxColumns:
    """The one encoding of events as outbox rows: the Kafka record of `werkplek_events.encode` (topic,
    key, value, CloudEvents headers). `stage` uses it, and so does a service that folds its outbox
    insert into a statement of its own. A ready `KafkaRecord` (a DLQ copy a step made) is staged as
    it is, under a fresh id."""
    cols = OutboxColumns([], [], [], [], [])
    for event in events:
        rec = event if isinstance(event, KafkaRecord) else encode(event, source=source)
        cols.topics.append(rec.topic)
        cols.keys.append(rec.key)
        cols.values.append(rec.value)
        cols.headers.append(orjson.dumps([[k, v.decode(errors="backslashreplace")] for k, v in rec.headers]).decode())
        cols.event_ids.append(uuid.uuid4() if isinstance(event, KafkaRecord) else event.event_id)
    return cols


def insert_sql(first: int) -> str:
    """The outbox insert with its parameters numbered from `first`: the producer, then the five
    columns of `outbox_columns` in order. Usable as a statement or as a data-modifying CTE."""
    n = [f"${first + i}" for i in range(6)]
    return (f"INSERT INTO outbox (producer, topic, key, value, headers, event_id) SELECT {n[0]}::text, * FROM"  # noqa: S608 - parameter numbers only
            f" unnest({n[1]}::text[], {n[2]}::bytea[], {n[3]}::bytea[], {n[4]}::jsonb[], {n[5]}::uuid[])")


_STAGE = insert_sql(1)


async def stage(conn: asyncpg.Connection, events: Sequence[Event], *, producer: str, source: str) -> None:
    """Add events to the outbox; call inside the transaction that stores what they describe."""
    if events:
        await conn.execute(_STAGE, producer, *outbox_columns(events, source=source))
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, producer)


async def stage_tombstone(conn: asyncpg.Connection, topic: str, key: str, *, producer: str) -> None:
    """Add a tombstone (null value) for `key` on a compacted topic: compaction then drops every
    earlier record of the key (erasure of contact data, docs/adr/0072)."""
    await conn.execute("INSERT INTO outbox (producer, topic, key, value, headers, event_id)"
                       " VALUES ($1, $2, $3, '', '[]', $4)", producer, topic, key.encode(), uuid.uuid4())
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, producer)


BACKLOG_COUNT_EVERY_S = 5.0  # while the relay works through a backlog, how often it is counted


class OutboxRelay:
    def __init__(self, pool: asyncpg.Pool, kafka: AIOKafkaProducer, producer: str, *,
                 batch_size: int = 1000, idle_poll_s: float = 0.5, keys: KeyStore | None = None) -> None:
        self.pool, self.kafka, self.producer = pool, kafka, producer
        # personal fields are sealed here, on their way out (docs/adr/0070): the one place every
        # producer's events pass; the key is committed before the record is sent
        self.keys = keys or KeyStore()
        self.batch_size, self.idle_poll_s = batch_size, idle_poll_s
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._lock_id = zlib.crc32(f"outbox:{producer}".encode())
        self._counted_at = 0.0  # when the backlog was last counted (a full batch: more rows wait)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Hold the producer's advisory lock, then publish until stopped."""
        async with self.pool.acquire() as listen:
            while not await listen.fetchval("SELECT pg_try_advisory_lock($1)", self._lock_id):
                if await self._sleep(2.0):
                    return
            await listen.add_listener(CHANNEL, self._on_notify)
            try:
                await self._loop()
            finally:
                await listen.remove_listener(CHANNEL, self._on_notify)
                await listen.execute("SELECT pg_advisory_unlock($1)", self._lock_id)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload == self.producer:
            self._wake.set()

    async def _sleep(self, seconds: float) -> bool:
        """Wait for a notification, the stop signal or the timeout; True when stopping."""
        try:
            await asyncio.wait_for(self._wake.wait(), seconds)
        except TimeoutError:
            pass
        self._wake.clear()
        return self._stop.is_set()

    async def _loop(self) -> None:
        backoff = 0.1
        while not self._stop.is_set():
            try:
                published = await self.publish_batch()
                backoff = 0.1
            except Exception as exc:  # broker or database unreachable: the rows stay, retry with backoff
                log.warning("outbox relay cannot publish; will retry", extra={"fields": {"error": repr(exc)}})
                published, backoff = 0, min(backoff * 2, 5.0)
                if await self._sleep(backoff):
                    return
                continue
            if published < self.batch_size and await self._sleep(self.idle_poll_s):
                return

    async def publish_batch(self) -> int:
        """Publish one batch in id order and delete it, in one transaction. Returns rows published."""
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, topic, key, value, headers, created_at FROM outbox WHERE producer = $1"
                " ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED", self.producer, self.batch_size)
            await self._observe(conn, rows)
            if not rows:
                return 0
            # keys are created on the pool, committed at once, not in this transaction: a consumer may
            # read a record before this transaction commits, and must find its key then
            records = await self.keys.seal_records(
                self.pool, [KafkaRecord(r["topic"], r["key"], r["value"], _headers(r["headers"])) for r in rows])
            futures = [await send_record(self.kafka, rec) for rec in records]
            await asyncio.gather(*futures)
            await conn.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        OUTBOX_PUBLISHED.labels(self.producer).inc(len(rows))
        OUTBOX_BATCH_SECONDS.labels(self.producer).observe(time.perf_counter() - started)
        return len(rows)

    async def _observe(self, conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> None:
        if len(rows) < self.batch_size:
            OUTBOX_BACKLOG.labels(self.producer).set(len(rows))
        elif time.monotonic() - self._counted_at > BACKLOG_COUNT_EVERY_S:  # counting a deep backlog is a scan
            self._counted_at = time.monotonic()
            OUTBOX_BACKLOG.labels(self.producer).set(
                await conn.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", self.producer))
        oldest = rows[0]["created_at"].timestamp() if rows else None
        OUTBOX_RELAY_LAG.labels(self.producer).set(time.time() - oldest if oldest else 0)


def _headers(raw: str | list[list[str]]) -> list[tuple[str, bytes]]:
    items = orjson.loads(raw) if isinstance(raw, str) else raw
    return [(k, v.encode()) for k, v in items]

