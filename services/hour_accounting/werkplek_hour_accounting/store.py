"""Hour accounting's PostgreSQL state: per consumer group the next offset of every input partition
(`ha_offsets`) and each student's state (`ha_student_state`), migration 0002.

`commit` writes one batch in ONE transaction: the offsets (compare-and-set), the students' states, the
read model and the output events (outbox). A crash anywhere leaves all four consistent, and the relay
publishes only what was committed. The compare-and-set fences a zombie: a worker whose partitions were
given to another worker finds offsets it did not write and rolls back (`Fenced`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
from aiokafka import TopicPartition
from werkplek_common.outbox import stage
from werkplek_events import ShareUpdated, StudentRiskStatusChanged

from .readmodel import upsert_shares

SOURCE = "/werkplek/hour-accounting"  # ce_source of the outputs: this, "/", the consumer group


class Fenced(Exception):
    """The stored offsets moved under this worker: another worker owns (or owned) the partitions."""


@dataclass
class Commit:
    offsets: list[tuple[str, int, int, int]] = field(default_factory=list)  # topic, partition, expected, new
    # student, partition, programme of the current enrolment, state
    states: list[tuple[str, int, str | None, bytes]] = field(default_factory=list)
    updates: list[ShareUpdated] = field(default_factory=list)
    risks: list[StudentRiskStatusChanged] = field(default_factory=list)


_CLAIM = """
INSERT INTO ha_offsets (consumer_group, topic, partition, next_offset)
SELECT $1, * FROM unnest($2::text[], $3::int[], $4::bigint[]) ON CONFLICT DO NOTHING
"""
_CAS = """
UPDATE ha_offsets o SET next_offset = u.new
FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS u(topic, partition, expected, new)
WHERE o.consumer_group = $1 AND o.topic = u.topic AND o.partition = u.partition AND o.next_offset = u.expected
"""
_STATES = """
INSERT INTO ha_student_state (consumer_group, student_id, partition, programme_id, state)
SELECT $1, * FROM unnest($2::text[], $3::int[], $4::text[], $5::bytea[])
ON CONFLICT (consumer_group, student_id) DO UPDATE SET partition = excluded.partition,
  programme_id = excluded.programme_id, state = excluded.state, updated_at = now()
"""


class Store:
    def __init__(self, pool: asyncpg.Pool, group: str, *, outbox_producer: str | None) -> None:
        """`outbox_producer` None: stage no events (a rebuild), and overwrite read-model rows of the same
        or a lower version."""
        self.pool, self.group, self.outbox_producer = pool, group, outbox_producer

    async def claim(self, tps: Iterable[TopicPartition], start: int = 0) -> dict[TopicPartition, int]:
        """The stored next offset of each partition; a partition never seen starts at `start`."""
        tps = sorted(tps)
        async with self.pool.acquire() as conn:
            await conn.execute(_CLAIM, self.group, [t.topic for t in tps], [t.partition for t in tps],
                               [start] * len(tps))
            rows = await conn.fetch("SELECT topic, partition, next_offset FROM ha_offsets WHERE consumer_group = $1",
                                    self.group)
        stored = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
        return {tp: stored[tp] for tp in tps}

    async def load_states(self, students: list[str]) -> dict[str, bytes]:
        """The stored states of `students` (those never stored are absent)."""
        if not students:
            return {}
        rows = await self.pool.fetch("SELECT student_id, state FROM ha_student_state WHERE consumer_group = $1"
                                     " AND student_id = ANY($2::text[])", self.group, students)
        return {r["student_id"]: r["state"] for r in rows}

    async def students_of(self, programmes: Iterable[str], partitions: Iterable[int]) -> list[asyncpg.Record]:
        """Student, partition and state of every student of `programmes` in `partitions`."""
        return await self.pool.fetch(
            "SELECT student_id, partition, state FROM ha_student_state WHERE consumer_group = $1"
            " AND programme_id = ANY($2::text[]) AND partition = ANY($3::int[]) ORDER BY student_id",
            self.group, sorted(programmes), sorted(partitions))

    async def students_after(self, after: str, partitions: Iterable[int], limit: int) -> list[asyncpg.Record]:
        """The next `limit` students (id, partition, state) of `partitions` after `after`, by id."""
        return await self.pool.fetch(
            "SELECT student_id, partition, state FROM ha_student_state WHERE consumer_group = $1"
            " AND partition = ANY($2::int[]) AND student_id > $3 ORDER BY student_id LIMIT $4",
            self.group, sorted(partitions), after, limit)

    async def programmes_of(self, partitions: Iterable[int]) -> list[str]:
        """The programmes of the current enrolments of the students in `partitions`."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT programme_id FROM ha_student_state WHERE consumer_group = $1"
            " AND partition = ANY($2::int[]) AND programme_id IS NOT NULL", self.group, sorted(partitions))
        return [r["programme_id"] for r in rows]

    async def commit(self, c: Commit) -> None:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                await self._write(conn, c)
        except asyncpg.DeadlockDetectedError as exc:  # two workers writing the same partitions
            raise Fenced(str(exc)) from exc

    async def _write(self, conn: asyncpg.Connection, c: Commit) -> None:
        offsets = sorted(c.offsets)  # one lock order for every worker
        status = await conn.execute(_CAS, self.group, *([o[i] for o in offsets] for i in range(4)))
        if int(status.split()[-1]) != len(offsets):
            raise Fenced(f"stored offsets of {self.group} moved under this worker")
        if c.states:
            await conn.execute(_STATES, self.group, *([s[i] for s in c.states] for i in range(4)))
        await upsert_shares(conn, c.updates, force=self.outbox_producer is None)
        if self.outbox_producer is not None and (c.updates or c.risks):
            await stage(conn, [*c.updates, *c.risks], producer=self.outbox_producer,
                        source=f"{SOURCE}/{self.group}")

    async def forget(self) -> None:
        """A rebuild starts from nothing: drop the group's states and offsets."""
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM ha_student_state WHERE consumer_group = $1", self.group)
            await conn.execute("DELETE FROM ha_offsets WHERE consumer_group = $1", self.group)
