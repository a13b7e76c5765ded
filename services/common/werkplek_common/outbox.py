"""Transactional outbox: no dual writes. `stage` adds events to the outbox inside the caller's
transaction; `OutboxRelay` publishes them in id order and deletes what the broker acknowledged. While
Kafka is down rows stay and the relay retries; when it returns the relay catches up.

One relay per producer publishes at a time: the holder of the producer's lease (werkplek_common.lease),
renewed while it is alive, so a paused or dead holder loses it within the lease's time to live and a
replica's relay takes over. Per-key order and the windows where a batch is published twice:
- a relay reads the oldest rows, checks that it still holds the lease, sends them, waits for the acks
  and only then deletes them: no transaction or row lock spans the broker round trip (a paused relay
  holds nothing in the database that the next holder would have to skip or wait for);
- the next holder starts again from the oldest row left, so what the previous one had sent but not
  deleted is published again before anything newer: the first copy of every event stays in id order,
  per key too, and a later copy (a paused relay's send that reaches the broker after it resumes) is a
  duplicate, which consumers ignore by event_id;
- a relay that resumes after losing the lease finds it invalid before its next batch and publishes
  nothing more; the rows it had sent and sees acknowledged it still deletes (they are on the broker).
A crash between the broker's ack and the delete republishes that batch the same way."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from typing import NamedTuple

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from werkplek_events import Event, KafkaRecord, encode

from .kafka import send_record
from .keystore import KeyStore
from .lease import LEASE_S, Lease
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
                 batch_size: int = 1000, idle_poll_s: float = 0.5, lease_s: float = LEASE_S,
                 keys: KeyStore | None = None) -> None:
        self.pool, self.kafka, self.producer = pool, kafka, producer
        # personal fields are sealed here, on their way out (docs/adr/0070): the one place every
        # producer's events pass; the key is committed before the record is sent
        self.keys = keys or KeyStore()
        self.batch_size, self.idle_poll_s = batch_size, idle_poll_s
        self.lease = Lease(pool, f"outbox:{producer}", ttl_s=lease_s)
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._counted_at = 0.0  # when the backlog was last counted (a full batch: more rows wait)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Keep the producer's lease (take it when free, renew it while held) and publish while it is
        held, until stopped; a stopping holder lets its lease go at once."""
        keeper = asyncio.create_task(self.lease.keep(self._stop, self._wake.set))
        try:
            async with self.pool.acquire() as listen:
                await listen.add_listener(CHANNEL, self._on_notify)
                try:
                    await self._loop()
                finally:
                    await listen.remove_listener(CHANNEL, self._on_notify)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.lease.release(), 5.0)

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
            if not self.lease.valid():  # a standby, or a holder whose renewals stopped: publish nothing
                if await self._sleep(self.lease.poll_s):
                    return
                continue
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
        """Publish the oldest rows, if the lease is still held once they are read, and delete them
        once the broker acknowledged every one. Returns rows published."""
        started = time.perf_counter()
        rows = await self.pool.fetch("SELECT id, topic, key, value, headers, created_at FROM outbox"
                                     " WHERE producer = $1 ORDER BY id LIMIT $2", self.producer, self.batch_size)
        await self._observe(rows)
        if not rows or not self.lease.valid():  # checked after the read: see the module's docstring
            return 0
        # personal fields sealed on their way out; keys created on the pool and committed at once, so
        # a consumer that reads a record finds its key
        records = await self.keys.seal_records(
            self.pool, [KafkaRecord(r["topic"], r["key"], r["value"], _headers(r["headers"])) for r in rows])
        futures = [await send_record(self.kafka, rec) for rec in records]
        acks = await asyncio.gather(*futures, return_exceptions=True)  # all of them: none left unretrieved
        failed = next((a for a in acks if isinstance(a, BaseException)), None)
        if failed is not None:
            raise failed
        # on the broker now, whoever holds the lease meanwhile: deleting them is right either way
        await self.pool.execute("DELETE FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in rows])
        OUTBOX_PUBLISHED.labels(self.producer).inc(len(rows))
        OUTBOX_BATCH_SECONDS.labels(self.producer).observe(time.perf_counter() - started)
        return len(rows)

    async def _observe(self, rows: Sequence[asyncpg.Record]) -> None:
        if len(rows) < self.batch_size:
            OUTBOX_BACKLOG.labels(self.producer).set(len(rows))
        elif time.monotonic() - self._counted_at > BACKLOG_COUNT_EVERY_S:  # counting a deep backlog is a scan
            self._counted_at = time.monotonic()
            OUTBOX_BACKLOG.labels(self.producer).set(
                await self.pool.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", self.producer))
        oldest = rows[0]["created_at"].timestamp() if rows else None
        OUTBOX_RELAY_LAG.labels(self.producer).set(time.time() - oldest if oldest else 0)


def _headers(raw: str | list[list[str]]) -> list[tuple[str, bytes]]:
    items = orjson.loads(raw) if isinstance(raw, str) else raw
    return [(k, v.encode()) for k, v in items]

