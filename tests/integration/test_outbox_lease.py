"""Two replicas of an outbox relay on the real broker and database: a relay paused (SIGSTOP) past its
lease loses it, the other publishes within seconds, and the paused one, resumed, publishes nothing
more. Nothing staged is lost, the first copy of every event is in the order it was staged (per key
as well), and what is published twice is at most what the paused relay had already sent, a
duplicate that consumers ignore by event_id. Each relay is a process of its own
(tests/integration/relay_process.py: the services' relay and nothing else)."""

from __future__ import annotations

import asyncio
import signal
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from werkplek_common.outbox import stage
from werkplek_common.settings import CommonSettings
from werkplek_events import StudentEnrolled, topic_for

from tests.e2e.stack import free_port
from tests.integration.child import Child
from tests.support import COMMON_TABLES_IN, dsn_of, eventually, read_until

PG_SERVICE = COMMON_TABLES_IN  # the schema whose tables the `pg` fixture reads (docs/adr/0009)

LEASE_S = 3.0
BATCH = 10
TOPIC = topic_for(StudentEnrolled).name


class Relay(Child):
    def __init__(self, producer: str, log_dir: Path, **env: str) -> None:
        port = free_port()
        super().__init__("tests.integration.relay_process", [producer, str(BATCH)],
                         log_dir / f"relay-{uuid.uuid4().hex[:6]}.log",
                         {"WERKPLEK_METRICS_PORT": str(port), "WERKPLEK_LOG_JSON": "false",
                          "WERKPLEK_LOG_LEVEL": "INFO", "WERKPLEK_OUTBOX_LEASE_S": str(LEASE_S), **env}, port)

    def published(self) -> float:
        """This process's werkplek_outbox_published_total (rows it published and then deleted)."""
        return self.counter("werkplek_outbox_published_total")

    def stop(self, timeout: float = 20) -> int:
        return super().stop(timeout)


@pytest.fixture
def relays(tmp_path: Path) -> Iterator[list[Relay]]:
    started: list[Relay] = []
    yield started
    codes = [r.stop() for r in started]
    assert codes == [0] * len(codes), [r.text()[-2000:] for r in started]


class Stream:
    """Events staged in order, a few keys (students) taking turns; the order per key is the staging order."""

    def __init__(self, pg: asyncpg.Connection, producer: str, keys: int = 3) -> None:
        self.pg, self.producer = pg, producer
        self.keys = [f"lease-{uuid.uuid4().hex[:8]}-{k}" for k in range(keys)]
        self.staged: list[StudentEnrolled] = []

    async def stage(self, n: int) -> None:
        events = [StudentEnrolled(student_id=self.keys[(len(self.staged) + i) % len(self.keys)],
                                  programme_id=f"prog-{len(self.staged) + i}", institution_id="inst-1",
                                  academic_year="2026-2027", phase=1, status="regular", age_band="over_25")
                  for i in range(n)]
        async with self.pg.transaction():
            await stage(self.pg, events, producer=self.producer, source="/test")
        self.staged += events

    async def backlog(self) -> int:
        return int(await self.pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1", self.producer))

    async def drained(self) -> bool:
        return await self.backlog() == 0

    async def published(self, bootstrap: str) -> list[uuid.UUID]:
        """The ids on the topic of this stream's keys, in topic order per key (read until all are there)."""
        keys = {k.encode() for k in self.keys}
        want = {e.event_id for e in self.staged}

        def ids(recs: list) -> list[uuid.UUID]:
            return [uuid.UUID(dict(r.headers)["ce_id"].decode()) for r in recs if r.key in keys]

        recs = await read_until(bootstrap, [TOPIC], lambda rs: set(ids(rs)) >= want, timeout=60)
        return ids(recs)

    def check(self, published: list[uuid.UUID]) -> Counter[uuid.UUID]:
        """Nothing lost, nothing foreign, first copies in staging order per key; returns the copies."""
        copies = Counter(published)
        assert set(copies) == {e.event_id for e in self.staged}
        for key in self.keys:
            mine = [e.event_id for e in self.staged if e.student_id == key]
            first = list(dict.fromkeys(i for i in published if i in set(mine)))
            assert first == mine, f"per-key order broken for {key}"
        return copies


async def holder_pid(pg: asyncpg.Connection, producer: str) -> int | None:
    """The process holding the producer's lease, if it is unexpired."""
    holder = await pg.fetchval("SELECT holder FROM leases WHERE name = $1 AND expires_at > clock_timestamp()",
                               f"outbox:{producer}")
    return None if holder is None else int(holder.split(":")[1])


async def test_a_paused_relay_loses_its_lease_and_the_other_takes_over_within_seconds(
        stack: CommonSettings, pg: asyncpg.Connection, relays: list[Relay], tmp_path: Path) -> None:
    producer = f"lease-test-{uuid.uuid4().hex[:8]}"
    # its own session: it stages meanwhile
    stream = Stream(await asyncpg.connect(dsn_of(stack, COMMON_TABLES_IN)), producer)
    relays += [Relay(producer, tmp_path), Relay(producer, tmp_path)]
    by_pid = {r.pid: r for r in relays}

    async def held() -> bool:
        return await holder_pid(pg, producer) in by_pid

    await eventually(held, timeout=30, what="one relay holding the lease")
    stop = asyncio.Event()

    async def keep_staging() -> None:  # a steady stream while the relays change over
        while not stop.is_set():
            await stream.stage(3)
            await asyncio.sleep(0.02)

    staging = asyncio.create_task(keep_staging())
    try:
        await eventually(lambda: len(stream.staged) > 150, timeout=30, what="a stream under way")
        paused = by_pid[await holder_pid(pg, producer)]  # type: ignore[index]
        other = next(r for r in relays if r is not paused)
        paused.signal(signal.SIGSTOP)
        stopped_at = time.monotonic()

        async def taken_over() -> bool:
            return await holder_pid(pg, producer) == other.pid

        await eventually(taken_over, timeout=LEASE_S + 10, what="the other relay holding the lease")
        took = time.monotonic() - stopped_at
        staged_then = len(stream.staged)

        async def other_publishes() -> bool:  # what was staged since the pause goes out meanwhile
            return await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1 AND event_id = ANY($2)",
                                     producer, [e.event_id for e in stream.staged[:staged_then]]) == 0

        await eventually(other_publishes, timeout=30, what="the other relay publishing the stream")

        async def long_past_the_lease() -> bool:  # the paused one stays paused until the other held it a while
            return bool(await pg.fetchval("SELECT clock_timestamp() - acquired_at > make_interval(secs => $2)"
                                          " FROM leases WHERE name = $1", f"outbox:{producer}", LEASE_S))

        await eventually(long_past_the_lease, timeout=30, what="the other relay holding the lease a while")
        paused.signal(signal.SIGCONT)
        await eventually(lambda: "lease lost" in paused.text(), timeout=30, what="the resumed relay's lease lost")
        resumed_with = len(stream.staged)
        await eventually(lambda: len(stream.staged) > resumed_with + 60, timeout=30, what="more of the stream")
    finally:
        stop.set()
        await staging
    await eventually(stream.drained, timeout=30, what="the outbox drained")
    await stream.pg.close()
    assert await holder_pid(pg, producer) == other.pid
    copies = stream.check(await stream.published(stack.kafka_bootstrap))
    twice = [i for i, n in copies.items() if n > 1]
    assert max(copies.values()) <= 2 and len(twice) <= 2 * BATCH  # only what the paused relay had in flight
    print(f"\nlease {LEASE_S}s: taken over {took:.1f}s after the pause; {len(stream.staged)} events,"
          f" {len(twice)} published twice")
    assert took < LEASE_S + 3


async def test_a_relay_paused_between_the_brokers_ack_and_its_delete_publishes_nothing_after_resuming(
        stack: CommonSettings, pg: asyncpg.Connection, relays: list[Relay], tmp_path: Path) -> None:
    """The window of a relay that sent a batch, got the acks and is paused before deleting the rows: it
    is held there by a row lock the test takes (its delete waits, then fails after its lock_timeout),
    frozen there by SIGSTOP, and only then does another relay start."""
    producer = f"lease-test-{uuid.uuid4().hex[:8]}"
    stream = Stream(pg, producer)
    first = Relay(producer, tmp_path, WERKPLEK_PG_LOCK_TIMEOUT_S="2")
    relays.append(first)
    await stream.stage(25)
    await eventually(stream.drained, timeout=30, what="the first batches published")
    # the window's batch: staged while the relay is frozen for a moment (well within its lease), and
    # row-locked by the test before it may read them
    first.signal(signal.SIGSTOP)
    await stream.stage(BATCH)
    window = [e.event_id for e in stream.staged[-BATCH:]]
    lock = await asyncpg.connect(dsn_of(stack, COMMON_TABLES_IN))
    try:
        tx = lock.transaction()
        await tx.start()
        await lock.execute("SELECT 1 FROM outbox WHERE producer = $1 FOR UPDATE", producer)
        first.signal(signal.SIGCONT)
        lock_pid = await lock.fetchval("SELECT pg_backend_pid()")

        async def delete_waits() -> int | None:
            return await pg.fetchval("SELECT pid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))"
                                     " AND query LIKE 'DELETE FROM outbox%'", lock_pid)

        async def delete_blocked() -> bool:
            return await delete_waits() is not None

        await eventually(delete_blocked, timeout=10, what="the relay's delete waiting (its batch acknowledged)")
        before = first.published()
        waiting = await delete_waits()
        first.signal(signal.SIGSTOP)

        async def delete_failed() -> bool:  # its lock_timeout, on the server: the rows stay
            return await pg.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", waiting) != "active"

        await eventually(delete_failed, timeout=10, what="the frozen relay's delete ended by lock_timeout")
        await tx.rollback()
    finally:
        await lock.close()
    assert await stream.backlog() == BATCH  # sent, acknowledged, not deleted
    second = Relay(producer, tmp_path)
    relays.append(second)

    async def second_holds() -> bool:
        return await holder_pid(pg, producer) == second.pid

    await eventually(second_holds, timeout=LEASE_S + 15, what="the second relay taking the lease")
    await eventually(stream.drained, timeout=30, what="the second relay publishing the window's batch again")
    await stream.stage(12)
    first.signal(signal.SIGCONT)
    await eventually(lambda: "lease lost" in first.text(), timeout=30, what="the resumed relay's lease lost")
    await stream.stage(12)
    await eventually(stream.drained, timeout=30, what="the outbox drained")
    copies = stream.check(await stream.published(stack.kafka_bootstrap))
    assert sorted(i for i, n in copies.items() if n > 1) == sorted(window)  # the window's batch, twice
    assert max(copies.values()) == 2
    assert first.published() == before  # the resumed relay published nothing
    assert await holder_pid(pg, producer) == second.pid
