"""The runtime's PostgreSQL state (migration common/0002): per consumer group the next offset of every
input partition, each key's state, and the quarantined keys.

`commit` writes one chunk in ONE transaction: the offsets (compare-and-set), the states, the
quarantine, the processor's own rows (`Processor.write`) and the outbox (outputs and DLQ copies). A
crash anywhere leaves all of them consistent, and the relay publishes only what was committed. The
compare-and-set fences a zombie: a worker whose partitions were given to another worker finds
offsets it did not write and rolls back (`Fenced`).

When a chunk's transaction fails on bad data (a value the database refuses, a failing step in
`write`), it is tried again with each key in a savepoint of its own: the keys that still fail are
quarantined, their records go to the DLQ, and the others commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition

from ..outbox import CHANNEL, OutboxColumns, insert_sql
from .dead import dead_columns, extend
from .processor import Context, Processor

log = logging.getLogger(__name__)
TAG_SEP = "\x1f"  # tags are sent joined by this (ids never contain it) and split by the database


class Fenced(Exception):
    """The stored offsets moved under this worker: another worker owns (or owned) the partitions."""


@dataclass(slots=True)
class KeyWrite:
    key: str
    partition: int
    state: bytes | None  # None: nothing to store (stateless, or unchanged)
    tags: str  # joined by TAG_SEP
    parts: Mapping[str, bytes | None]  # of a parted state: changed parts (None: delete)
    outputs: Sequence[Any]  # for Processor.write
    outbox: OutboxColumns | None  # the outputs to publish, encoded
    records: list[ConsumerRecord]  # the key's records of this chunk (to the DLQ if its write fails)


@dataclass
class Commit:
    ctx: Context
    offsets: list[tuple[str, int, int, int]] = field(default_factory=list)  # topic, partition, expected, new
    keys: list[KeyWrite] = field(default_factory=list)
    dead: list[tuple[ConsumerRecord, Exception]] = field(default_factory=list)
    quarantine: list[tuple[str, int, str, str, int]] = field(default_factory=list)  # key, part, reason, type, n
    failed: list[tuple[KeyWrite, Exception]] = field(default_factory=list)  # set by `commit`: quarantined there


_CLAIM = """
INSERT INTO runtime_offsets (consumer_group, topic, partition, next_offset)
SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[]) ON CONFLICT DO NOTHING
"""
_CAS = """
UPDATE runtime_offsets o SET next_offset = u.new
FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(topic, partition, expected, new)
WHERE o.consumer_group = $1 AND o.topic = u.topic AND o.partition = u.partition AND o.next_offset = u.expected
"""
_STATES = """
INSERT INTO runtime_state (consumer_group, key, partition, tags, state)
SELECT $1, u.key, u.partition, string_to_array(u.tags, E'\\x1f'), u.state
FROM unnest($2::text[], $3::int[], $4::text[], $5::bytea[]) AS u(key, partition, tags, state)
ON CONFLICT (consumer_group, key) DO UPDATE SET partition = excluded.partition, tags = excluded.tags,
  state = excluded.state, updated_at = now()
"""
_PARTS = """
INSERT INTO runtime_state_parts (consumer_group, key, part, state)
SELECT $1, * FROM unnest($2::text[], $3::text[], $4::bytea[])
ON CONFLICT (consumer_group, key, part) DO UPDATE SET state = excluded.state
"""
_DROP_PARTS = """
DELETE FROM runtime_state_parts p USING unnest($2::text[], $3::text[]) AS d(key, part)
WHERE p.consumer_group = $1 AND p.key = d.key AND p.part = d.part
"""
_QUARANTINE = """
INSERT INTO runtime_quarantine (consumer_group, key, partition, reason, error_type, records)
SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::bigint[])
ON CONFLICT (consumer_group, key) DO UPDATE SET records = runtime_quarantine.records + excluded.records
"""
_OUTBOX = insert_sql(1)
# refused values and failing steps of `write`; not connection loss, timeouts or conflicts between workers
_BAD_DATA = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, asyncpg.ProgramLimitExceededError,
             ValueError,  # includes what asyncpg itself refuses while encoding an argument
             TypeError, LookupError, AttributeError, ArithmeticError)


class Store:
    def __init__(self, pool: asyncpg.Pool, group: str, processor: Processor[Any], *,
                 outbox_producer: str | None) -> None:
        """`outbox_producer` None: stage nothing (a rebuild: outputs and dead records were already sent)."""
        self.pool, self.group, self.processor, self.outbox_producer = pool, group, processor, outbox_producer

    async def unknown(self, tps: Iterable[TopicPartition]) -> set[TopicPartition]:
        """The partitions without a stored offset (never processed by this group)."""
        rows = await self.pool.fetch("SELECT topic, partition FROM runtime_offsets WHERE consumer_group = $1",
                                     self.group)
        known = {TopicPartition(r["topic"], r["partition"]) for r in rows}
        return set(tps) - known

    async def claim(self, tps: Iterable[TopicPartition], starts: dict[TopicPartition, int] | None = None,
                    default: int = 0) -> dict[TopicPartition, int]:
        """The stored next offset of each partition; one never seen starts at `starts` (else `default`)."""
        tps = sorted(tps)
        starts = starts or {}
        async with self.pool.acquire() as conn:
            await conn.execute(_CLAIM, self.group, [t.topic for t in tps], [t.partition for t in tps],
                               [starts.get(t, default) for t in tps])
            rows = await conn.fetch("SELECT topic, partition, next_offset FROM runtime_offsets"
                                    " WHERE consumer_group = $1", self.group)
        stored = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        return {tp: stored[tp] for tp in tps}

    async def load_states(self, keys: list[str]) -> dict[str, bytes]:
        if not keys:
            return {}
        rows = await self.pool.fetch("SELECT key, state FROM runtime_state WHERE consumer_group = $1"
                                     " AND key = ANY($2::text[])", self.group, keys)
        return {r["key"]: r["state"] for r in rows}

    async def load_parts(self, keys: list[str]) -> dict[str, dict[str, bytes]]:
        """The stored parts of parted states, per key."""
        out: dict[str, dict[str, bytes]] = {k: {} for k in keys}
        if keys:
            for r in await self.pool.fetch("SELECT key, part, state FROM runtime_state_parts WHERE consumer_group = $1"
                                           " AND key = ANY($2::text[])", self.group, keys):
                out[r["key"]][r["part"]] = r["state"]
        return out

    async def tagged(self, tags: Iterable[str], partitions: Iterable[int]) -> list[asyncpg.Record]:
        """Key, partition and state of every key of `partitions` carrying one of `tags`."""
        return await self.pool.fetch(
            "SELECT key, partition, state FROM runtime_state WHERE consumer_group = $1"
            " AND tags && $2::text[] AND partition = ANY($3::int[]) ORDER BY key",
            self.group, sorted(tags), sorted(partitions))

    async def keys_after(self, after: str, partitions: Iterable[int], limit: int) -> list[asyncpg.Record]:
        """The next `limit` keys (key, partition, state) of `partitions` after `after`, by key."""
        return await self.pool.fetch(
            "SELECT key, partition, state FROM runtime_state WHERE consumer_group = $1"
            " AND partition = ANY($2::int[]) AND key > $3 ORDER BY key LIMIT $4",
            self.group, sorted(partitions), after, limit)

    async def tag_values(self, prefix: str, partitions: Iterable[int]) -> list[str]:
        """The distinct tags starting with `prefix` of the keys in `partitions`."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT t FROM runtime_state, unnest(tags) AS t WHERE consumer_group = $1"
            " AND partition = ANY($2::int[]) AND t LIKE $3", self.group, sorted(partitions), prefix + "%")
        return [r["t"] for r in rows]

    async def quarantined(self) -> dict[str, str]:
        rows = await self.pool.fetch("SELECT key, reason FROM runtime_quarantine WHERE consumer_group = $1",
                                     self.group)
        return {r["key"]: r["reason"] for r in rows}

    async def commit(self, c: Commit) -> None:
        """Raises `Fenced` when the stored offsets moved. Keys quarantined here end up in `c.failed`."""
        try:
            await self._transaction(c, isolate=False)
        except _BAD_DATA as exc:
            if not c.keys:
                raise
            log.warning("a chunk failed on its data; retrying key by key", extra={"fields": {
                "consumer": self.group, "keys": len(c.keys), "error": repr(exc)}})
            await self._transaction(c, isolate=True)

    async def _transaction(self, c: Commit, *, isolate: bool) -> None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await self._cas(conn, c.offsets)
                ok = await (self._isolated(conn, c) if isolate else self._together(conn, c))
                await self._quarantine(conn, c)
                await self._outbox(conn, ok, c)
        except asyncpg.DeadlockDetectedError as exc:  # two workers writing the same partitions
            raise Fenced(str(exc)) from exc

    async def _cas(self, conn: asyncpg.Connection, offsets: list[tuple[str, int, int, int]]) -> None:
        offsets = sorted(offsets)  # one lock order for every worker
        status = await conn.execute(_CAS, self.group, *([o[i] for o in offsets] for i in range(4)))
        if int(status.split()[-1]) != len(offsets):
            raise Fenced(f"stored offsets of {self.group} moved under this worker")

    async def _together(self, conn: asyncpg.Connection, c: Commit) -> list[KeyWrite]:
        await self._states(conn, [k for k in c.keys if k.state is not None])
        await self.processor.write(conn, [o for k in c.keys for o in k.outputs], c.ctx)
        return c.keys

    async def _isolated(self, conn: asyncpg.Connection, c: Commit) -> list[KeyWrite]:
        ok, c.failed = [], []
        for k in c.keys:
            try:
                async with conn.transaction():  # a savepoint: a failing key rolls back alone
                    await self._states(conn, [k] if k.state is not None else [])
                    await self.processor.write(conn, k.outputs, c.ctx)
                ok.append(k)
            except _BAD_DATA as exc:
                c.failed.append((k, exc))
        if not ok and len(c.keys) > 1:  # nothing about one key in particular: not a quarantine matter
            raise c.failed[0][1]
        for k, error in c.failed:
            c.quarantine.append((k.key, k.partition, _reason(error), type(error).__name__, len(k.records)))
            c.dead.extend((rec, error) for rec in k.records)
        return ok

    async def _states(self, conn: asyncpg.Connection, keys: Sequence[KeyWrite]) -> None:
        if keys:
            await conn.execute(_STATES, self.group, [k.key for k in keys], [k.partition for k in keys],
                               [k.tags for k in keys], [k.state for k in keys])
        parts = [(k.key, part, blob) for k in keys for part, blob in k.parts.items()]
        if put := [p for p in parts if p[2] is not None]:
            await conn.execute(_PARTS, self.group, *([p[i] for p in put] for i in range(3)))
        if drop := [p for p in parts if p[2] is None]:
            await conn.execute(_DROP_PARTS, self.group, [p[0] for p in drop], [p[1] for p in drop])

    async def _quarantine(self, conn: asyncpg.Connection, c: Commit) -> None:
        if c.quarantine:
            await conn.execute(_QUARANTINE, self.group, *([q[i] for q in c.quarantine] for i in range(5)))

    async def _outbox(self, conn: asyncpg.Connection, ok: Sequence[KeyWrite], c: Commit) -> None:
        if self.outbox_producer is None:
            return
        cols = OutboxColumns([], [], [], [], [])
        for k in ok:
            if k.outbox is not None:
                extend(cols, k.outbox)
        if c.dead:
            extend(cols, dead_columns(c.dead, self.group))
        if cols.topics:
            await conn.execute(_OUTBOX, self.outbox_producer, *cols)
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, self.outbox_producer)

    async def forget(self) -> None:
        """A rebuild starts from nothing: drop the group's states, offsets and quarantine."""
        async with self.pool.acquire() as conn, conn.transaction():
            for table in ("runtime_state", "runtime_state_parts", "runtime_offsets", "runtime_quarantine"):
                await conn.execute(f"DELETE FROM {table} WHERE consumer_group = $1", self.group)  # noqa: S608


def _reason(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
