"""The bench's peers compute what our engine computes (issue 16): the same 999 records (10 students × 56
entries with corrections, redeliveries and confirmations; bench/peers/records.py) give Quix Streams
(at-least-once and exactly-once) and faust-streaming the engine's per-student confirmed and pending
minutes and real share. So bench_peers compares programs doing the same work. The engine runs in-process
on the real PostgreSQL; each peer runs as the bench runs it, a process on the real broker. No timing."""

from __future__ import annotations

import uuid
from dataclasses import replace

import asyncpg
import orjson
import pytest
from aiokafka import TopicPartition
from werkplek_common.settings import CommonSettings
from werkplek_events import ShareUpdated, encode, topic_for
from werkplek_hour_accounting.domain import programme_from

from bench.bench_accounting import ends_of, produce_fast
from bench.bench_peers import PARTITIONS, PEERS, create_topic, final_outputs, missing_reason, run_peer
from bench.peers.records import SOURCE, catalogue_of, delivered, programme_of, students_of
from tests.support import dsn_of
from tests.unit.hour_accounting.builders import AS_OF

from .support import engine as accounting_engine
from .support import forget, records

SHARES = topic_for(ShareUpdated).name


def figures(out: dict) -> tuple[int, int, str]:
    return out["confirmed_minutes"], out["pending_minutes"], f"{float(out['real_share']):.4f}"


@pytest.fixture(scope="module")
def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def inputs(tag: str) -> tuple:
    prog, students = programme_of(tag), students_of(tag, 10)
    events = delivered(prog, students, 56)
    assert len(events) == 999  # 20 setup, 560 entries, 51 corrections, 320 confirmations; 48 of them twice
    return prog, students, events


@pytest.fixture(scope="module")
async def engine_totals(inputs: tuple, stack: CommonSettings) -> dict[str, tuple[int, int, str]]:
    prog, _students, events = inputs
    group = f"test-peers-{uuid.uuid4().hex[:8]}"
    pool = await asyncpg.create_pool(dsn_of(stack, "hour_accounting"), min_size=1, max_size=3)
    assert pool is not None
    try:
        eng = accounting_engine(pool, group, {prog.programme_id: programme_from(prog)}, lambda: AS_OF, chunk=50)
        batch = records(events)
        await eng.own(batch)
        await eng.account(batch)
        await eng.settle()  # the last commit runs in the background until settled
        rows = await pool.fetch("SELECT value FROM outbox WHERE producer = $1 AND topic = $2 ORDER BY id",
                                group, SHARES)
        last = {}
        for r in rows:
            out = orjson.loads(r["value"])
            last[out["student_id"]] = figures(out)
        async with pool.acquire() as conn:
            await forget(conn, group)
        return last
    finally:
        await pool.close()


@pytest.fixture(scope="module")
async def peer_input(inputs: tuple, tag: str, stack: CommonSettings) -> tuple[str, dict[int, int]]:
    _prog, _students, events = inputs
    topic = f"peers-test-{tag}-in"
    await create_topic(stack.kafka_bootstrap, topic)
    await produce_fast(stack.kafka_bootstrap, [replace(encode(e, source=SOURCE), topic=topic) for e in events])
    ends = await ends_of(stack.kafka_bootstrap, [TopicPartition(topic, p) for p in range(PARTITIONS)])
    counts = {tp.partition: n for tp, n in ends.items()}
    assert sum(counts.values()) == len(events)
    return topic, counts


def test_the_engine_accounts_every_student_of_the_records(inputs, engine_totals):
    _prog, students, _ = inputs
    assert set(engine_totals) == set(students)
    assert all(c > 0 and p > 0 for c, p, _ in engine_totals.values())  # confirmations and pending both counted


@pytest.mark.parametrize("peer", list(PEERS))
async def test_a_peer_gives_the_engine_s_per_student_totals(peer, inputs, engine_totals, peer_input, tag, stack):
    prog, _students, events = inputs
    reason = missing_reason(peer)
    assert reason is None, f"{peer} is not installed: {reason} (make install)"
    topic, ends = peer_input
    got = await run_peer(peer, stack.kafka_bootstrap, topic, ends, catalogue_of(prog), tag)
    assert "failed" not in got, got.get("failed")
    assert got["records"] == len(events)
    outputs = await final_outputs(stack.kafka_bootstrap, got["output_topic"])
    assert {s: figures(o) for s, o in outputs.items()} == engine_totals
