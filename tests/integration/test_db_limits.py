"""Every session of a pool is bounded on the server (werkplek_common.db.SessionLimits), so a paused or
dead holder of a lock blocks the others for a bounded time. The holder here is a session that took
row locks inside a transaction and then sent nothing more: what PostgreSQL sees of a worker paused by
SIGSTOP in the middle of its commit (the server cannot tell the two apart). The locked rows are the
runtime's stored offsets (`runtime_offsets`, hour accounting's among them) and the statement that
waits is its partition claim, as in the incident of issue 17 (the other replica's claim blocked
until its own 30 s client timeout)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from werkplek_common.db import SessionLimits, create_pool
from werkplek_common.settings import CommonSettings

from tests.support import COMMON_TABLES_IN, dsn_of, eventually

PG_SERVICE = COMMON_TABLES_IN  # the schema whose tables the `pg` fixture reads (docs/adr/0009)

# a waiter outlasts a paused holder (idle 1 s < lock 2 s) but not a busy one (statement 3 s)
SHORT = SessionLimits(lock_timeout_s=2.0, statement_timeout_s=3.0, idle_in_transaction_s=1.0)
CLAIM = ("INSERT INTO runtime_offsets (consumer_group, topic, partition, next_offset) VALUES ($1, 't', 0, 0)"
         " ON CONFLICT DO NOTHING")


@pytest.fixture
async def short_pool(stack: CommonSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(dsn_of(stack, COMMON_TABLES_IN), min_size=1, max_size=3, limits=SHORT)
    yield pool
    await pool.close()


@pytest.fixture
async def group(pg: asyncpg.Connection) -> AsyncIterator[str]:
    name = f"test-limits-{uuid.uuid4().hex[:8]}"
    await pg.execute(CLAIM, name)
    yield name
    await pg.execute("DELETE FROM runtime_offsets WHERE consumer_group = $1", name)


async def _settings(conn: asyncpg.Connection) -> tuple[str, str, str]:
    return (await conn.fetchval("SHOW lock_timeout"), await conn.fetchval("SHOW statement_timeout"),
            await conn.fetchval("SHOW idle_in_transaction_session_timeout"))


async def test_every_session_has_the_bounds_also_after_a_reset(stack: CommonSettings) -> None:
    assert stack.pg_limits == SessionLimits()  # the defaults, unless WERKPLEK_PG_* say otherwise
    pool = await create_pool(dsn_of(stack, COMMON_TABLES_IN), min_size=2, max_size=2)
    try:
        async with pool.acquire() as a, pool.acquire() as b:
            await a.execute("SET lock_timeout = 0")  # a session that changes one: reset on release
            assert await _settings(b) == ("20s", "30s", "15s")
        for _ in range(2):
            async with pool.acquire() as conn:
                assert await _settings(conn) == ("20s", "30s", "15s")
    finally:
        await pool.close()


async def test_a_paused_holder_in_a_transaction_frees_its_locks_within_the_bound(
        short_pool: asyncpg.Pool, group: str) -> None:
    holder = await short_pool.acquire()
    try:
        holder_pid = await holder.fetchval("SELECT pg_backend_pid()")
        await holder.execute("BEGIN")
        await holder.execute("UPDATE runtime_offsets SET next_offset = 1 WHERE consumer_group = $1", group)
        # ... and the holder sends nothing more, as if paused: the claim waits, then goes through
        started = time.monotonic()
        async with short_pool.acquire() as claimer:
            await claimer.execute(CLAIM, group)
            waited = time.monotonic() - started
            # the server ended the holder's session and rolled its update back
            assert not await claimer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", holder_pid)
            assert await claimer.fetchval("SELECT next_offset FROM runtime_offsets WHERE consumer_group = $1",
                                          group) == 0
        assert SHORT.idle_in_transaction_s * 0.5 < waited < SHORT.lock_timeout_s  # freed by the holder's end
    finally:
        # its session is gone: the pool replaces it (asyncpg may have handed the dead connection back already)
        with contextlib.suppress(asyncpg.InterfaceError):
            holder.terminate()
            await short_pool.release(holder)


async def test_a_busy_holder_makes_waiters_fail_after_lock_timeout_and_is_cancelled_itself(
        short_pool: asyncpg.Pool, group: str) -> None:
    holder = await short_pool.acquire()
    try:
        async def hold() -> None:
            async with holder.transaction():
                await holder.execute("UPDATE runtime_offsets SET next_offset = 1 WHERE consumer_group = $1", group)
                await holder.execute("SELECT pg_sleep(60)")  # busy, not idle: ended by statement_timeout

        holding = asyncio.create_task(hold())
        async with short_pool.acquire() as other:
            async def sleeping() -> bool:  # the holder has its row lock and is busy
                return bool(await other.fetchval("SELECT count(*) FROM pg_stat_activity WHERE state = 'active'"
                                                 " AND query = 'SELECT pg_sleep(60)'"))

            await eventually(sleeping, timeout=10, what="the holder busy with its lock")
            started = time.monotonic()
            with pytest.raises(asyncpg.LockNotAvailableError):
                async with other.transaction():
                    await other.execute("SET LOCAL statement_timeout = 0")  # only lock_timeout may end the wait
                    await other.execute("SELECT 1 FROM runtime_offsets WHERE consumer_group = $1 FOR UPDATE", group)
            assert time.monotonic() - started < SHORT.lock_timeout_s + 1
        with pytest.raises(asyncpg.QueryCanceledError):
            await holding  # the holder's own statement was cancelled after statement_timeout
    finally:
        await short_pool.release(holder, timeout=5)
