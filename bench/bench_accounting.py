"""Hour accounting benchmark (`make bench`; not a test). Runs against the RUN stack (default settings).

On one broker, the topic placement.time_entry.logged.v1 (8 partitions), the same N entries:
  (a) raw aiokafka consumption of the N records, decode included           -> raw_consume_events_per_s
  (b) the accounting engine working through the same N records, from the first fetch to the last
      ShareUpdated published by the outbox relay (same code as the worker: Engine + Store + relay,
      in this process; assigned partitions instead of a group join, which costs nothing per record)
                                                                           -> accounting_events_per_s
  (c) a rebuild (no outputs staged) from the stored start offsets over setup + N records and as
      many more entries of the same students as make BENCH_REBUILD_EVENTS (1,000,000) in all
                                                                           -> rebuild_events_per_s
  (d) a worker subprocess owning 200,000 students (states seeded in PostgreSQL, then one new entry
      each), its peak RSS                                                  -> peak_rss_mb_200k_students
  (e) freshness at 1,000 entries/s: entries committed to PostgreSQL (outbox, as placement logging
      does) and relayed; a worker subprocess accounts them; from each entry's commit to the
      ShareUpdated it caused arriving on Kafka                             -> freshness_p50/p99_ms
BENCH_STUDENTS (2000) × BENCH_ENTRIES (100) = N; BENCH_REBUILD_EVENTS (1000000); BENCH_RSS_STUDENTS (200000);
BENCH_FRESH_S (20);
BENCH_PROFILE=1 profiles (b) with pyinstrument into bench/out/accounting_profile.txt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from werkplek_common.kafka import new_producer, publish, send_record
from werkplek_common.outbox import OutboxRelay, stage
from werkplek_common.runtime.collector import tune_gc
from werkplek_common.runtime.faults import Outage
from werkplek_common.runtime.loop import seek
from werkplek_common.runtime.member import new_consumer
from werkplek_common.runtime.replay import own_assigned, replay_to_end
from werkplek_events import ShareUpdated, decode, encode, topic_for
from werkplek_hour_accounting import statecodec
from werkplek_hour_accounting.config import AccountingSettings
from werkplek_hour_accounting.domain import apply, new_state
from werkplek_hour_accounting.processor import programme_tag
from werkplek_hour_accounting.service import Accountant, input_partitions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.unit.hour_accounting.builders import AS_OF, agreed, confirmed, enrolled, logged, programme  # noqa: E402

OUT = ROOT / "bench" / "out" / "accounting.json"
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "2000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "100"))
RSS_STUDENTS = int(os.environ.get("BENCH_RSS_STUDENTS", "200000"))
FRESH_S = float(os.environ.get("BENCH_FRESH_S", "20"))
REBUILD_EVENTS = int(os.environ.get("BENCH_REBUILD_EVENTS", "1000000"))
PROFILE = os.environ.get("BENCH_PROFILE") == "1"
LOGGED = topic_for(logged("x")).name


def say(msg: str) -> None:
    print(f"[bench_accounting] {msg}", flush=True)


async def ends_of(bootstrap: str, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    await asyncio.sleep(0)
    try:
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


async def seed_offsets(pg: asyncpg.Pool, group: str, at: dict[TopicPartition, int]) -> None:
    await pg.executemany("INSERT INTO runtime_offsets VALUES ($1, $2, $3, $4)"
                         " ON CONFLICT (consumer_group, topic, partition)"
                         " DO UPDATE SET next_offset = excluded.next_offset",
                         [(group, tp.topic, tp.partition, n) for tp, n in at.items()])


async def produce_fast(bootstrap: str, records: list[Any]) -> None:
    producer = new_producer(bootstrap, "bench-accounting", linger_ms=20, max_batch_size=512 * 1024)
    await producer.start()
    try:
        futures = [await send_record(producer, r) for r in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def cleanup(pool: asyncpg.Pool, group: str, student_prefix: str | None = None) -> None:
    """What a measurement left in the RUN database: the group's states, offsets and unpublished outbox
    rows, and its students' read-model rows. Left behind, they slowed the measurements after them."""
    await pool.execute("DELETE FROM runtime_state WHERE consumer_group = $1", group)
    await pool.execute("DELETE FROM runtime_offsets WHERE consumer_group = $1", group)
    await pool.execute("DELETE FROM outbox WHERE producer = $1", group)
    if student_prefix:
        await pool.execute("DELETE FROM share_read_model WHERE student_id LIKE $1", f"{student_prefix}%")


# --- (a) raw consumption ---------------------------------------------------------------------------

async def raw_consume(bootstrap: str, starts: dict[TopicPartition, int], ends: dict[TopicPartition, int]) -> float:
    cfg = AccountingSettings(kafka_bootstrap=bootstrap)
    consumer = new_consumer(bootstrap, Accountant(cfg).options(), None)
    await consumer.start()
    try:
        consumer.assign(list(starts))
        seek(consumer, starts)
        n, want = 0, sum(ends[tp] - starts[tp] for tp in starts)
        t0 = time.perf_counter()
        while n < want:
            for tp, recs in (await consumer.getmany(timeout_ms=500, max_records=20_000)).items():
                for rec in recs:
                    if rec.offset < ends[tp]:
                        decode(rec.topic, rec.value, rec.headers)
                        n += 1
        return n / (time.perf_counter() - t0)
    finally:
        await consumer.stop()


# --- (b) and (c): the engine over a stretch of the topics -------------------------------------------

async def run_engine(cfg: AccountingSettings, ends: dict[TopicPartition, int], *, rebuild: bool) -> tuple[int, float]:
    """Account from the group's stored offsets up to `ends` (and, unless rebuilding, until the relay
    has published every output). Returns (records, seconds from the first fetch)."""
    accountant = Accountant(cfg, rebuild=rebuild)
    pool = await asyncpg.create_pool(cfg.service_dsn, min_size=2, max_size=6)
    producer = new_producer(cfg.kafka_bootstrap, cfg.consumer_group, linger_ms=2)
    await producer.start()
    stop = asyncio.Event()
    programmes = accountant.catalogue.table()
    reader = asyncio.create_task(programmes.run(cfg.kafka_bootstrap, stop, Outage("kafka", logging.getLogger())))
    await programmes.wait_ready(stop)
    engine = accountant.engine(accountant.store(pool))
    relay = None if rebuild else OutboxRelay(pool, producer, cfg.outbox_producer)
    relay_task = asyncio.create_task(relay.run()) if relay else None
    consumer = new_consumer(cfg.kafka_bootstrap, accountant.options(), None)
    await consumer.start()
    try:
        await own_assigned(engine, consumer, list(ends))
        t0 = time.perf_counter()
        n = await replay_to_end(engine, consumer, ends, batch_max=cfg.accounting_batch_max)
        while relay and await pool.fetchval("SELECT count(*) FROM outbox WHERE producer = $1",  # noqa: ASYNC110
                                            cfg.outbox_producer):
            await asyncio.sleep(0.01)  # polling the database until the relay has published every output
        return n, time.perf_counter() - t0
    finally:
        if relay and relay_task:
            relay.stop()
            await relay_task
        stop.set()
        await reader
        await consumer.stop()
        await producer.stop()
        await pool.close()


# --- (d) peak RSS with 200,000 students -------------------------------------------------------------

def template_state(prog: str) -> Any:
    s = "tmpl"
    entries = [logged(s, 300 + i) for i in range(10)]
    state = new_state(s)
    for e in [enrolled(s, prog), agreed(s, programme_id=prog), *entries, *[confirmed(e) for e in entries[::2]]]:
        state = apply(state, e)
    return state


async def seed_students(pool: asyncpg.Pool, group: str, prog: str, students: list[str]) -> None:
    """Each student: the template's facts under its own id and event ids (as the worker would store)."""
    tmpl = template_state(prog)
    rows = []
    for i, sid in enumerate(students):
        applied = frozenset(uuid.uuid4().int for _ in tmpl.applied)
        blob = statecodec.dump(replace(tmpl, student_id=sid, applied=applied))
        rows.append((group, sid, i % 8, [programme_tag(prog)], blob))
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("runtime_state", records=rows,
                                         columns=["consumer_group", "key", "partition", "tags", "state"])


def start_worker(group: str, extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WERKPLEK_CONSUMER_GROUP": group, "WERKPLEK_OUTBOX_PRODUCER": group,
           "WERKPLEK_METRICS_PORT": "0", "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "WARNING",
           "WERKPLEK_ACCOUNTING_AS_OF": AS_OF.isoformat(), **(extra or {})}
    log = open(ROOT / "bench" / "out" / f"{group}.log", "ab")  # the child keeps it
    return subprocess.Popen([sys.executable, "-m", "werkplek_hour_accounting", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


async def caught_up(pool: asyncpg.Pool, group: str, ends: dict[TopicPartition, int]) -> bool:
    rows = await pool.fetch("SELECT topic, partition, next_offset FROM runtime_offsets WHERE consumer_group = $1",
                            group)
    stored = {TopicPartition(r["topic"], r["partition"]): r["next_offset"] for r in rows}
    return all(stored.get(tp, 0) >= n for tp, n in ends.items())


async def peak_rss(cfg: AccountingSettings, pool: asyncpg.Pool, tps: list[TopicPartition], prog: str) -> float:
    group = f"bench-ha-rss-{uuid.uuid4().hex[:8]}"
    students = [f"{group}-{i}" for i in range(RSS_STUDENTS)]
    await seed_students(pool, group, prog, students)
    await seed_offsets(pool, group, await ends_of(cfg.kafka_bootstrap, tps))
    proc = start_worker(group)
    ps, peak = psutil.Process(proc.pid), 0
    try:
        records = [encode(logged(s, 120), source="/bench") for s in students]
        producing = asyncio.create_task(produce_fast(cfg.kafka_bootstrap, records))
        deadline = time.monotonic() + 300
        while not producing.done() or not await caught_up(pool, group, await ends_of(cfg.kafka_bootstrap, tps)):
            peak = max(peak, ps.memory_info().rss)
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the 200k-student worker did not catch up")
            await asyncio.sleep(0.2)
        await producing
        return peak / 2**20
    finally:
        proc.terminate()
        proc.wait(30)
        await cleanup(pool, group, f"{group}-")


# --- (e) freshness ------------------------------------------------------------------------------------

async def freshness(cfg: AccountingSettings, pool: asyncpg.Pool, tps: list[TopicPartition],
                    students: list[str], prog_group: str) -> tuple[float, float, int]:
    """The worker owns the (b) students; entries are committed at 1,000/s in batches of 10 per 10 ms."""
    group = f"bench-ha-fresh-{uuid.uuid4().hex[:8]}"
    await pool.execute("INSERT INTO runtime_state SELECT $1, key, partition, tags, state, now()"
                       " FROM runtime_state WHERE consumer_group = $2", group, prog_group)
    await seed_offsets(pool, group, await ends_of(cfg.kafka_bootstrap, tps))
    proc = start_worker(group)
    upstream = f"bench-upstream-{uuid.uuid4().hex[:8]}"
    producer = new_producer(cfg.kafka_bootstrap, "bench-upstream", linger_ms=0)
    await producer.start()
    relay = OutboxRelay(pool, producer, upstream, idle_poll_s=0.05)
    relay_task = asyncio.create_task(relay.run())
    committed: dict[uuid.UUID, float] = {}
    seen: list[float] = []
    consumer = AIOKafkaConsumer(topic_for(ShareUpdated).name, bootstrap_servers=cfg.kafka_bootstrap,
                                group_id=f"bench-{uuid.uuid4()}", auto_offset_reset="latest")
    await consumer.start()
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            for recs in (await consumer.getmany(timeout_ms=100)).values():
                now = time.time()
                for rec in recs:
                    caused = ShareUpdated.model_validate_json(rec.value).caused_by
                    if caused in committed:
                        seen.append(now - committed.pop(caused))

    watcher = asyncio.create_task(watch())
    try:
        await asyncio.sleep(15)  # the worker joins its group and loads its students (startup, not measured)
        t0, i = time.monotonic(), 0
        while time.monotonic() - t0 < FRESH_S:
            events = [logged(students[(i + k) % len(students)], 60) for k in range(10)]
            i += 10
            async with pool.acquire() as conn, conn.transaction():
                await stage(conn, events, producer=upstream, source="/bench")
            now = time.time()
            committed.update({e.event_id: now for e in events})
            await asyncio.sleep(max(0.0, t0 + i / 1000 - time.monotonic()))
        deadline = time.monotonic() + 30
        while committed and time.monotonic() < deadline and len(seen) < i * 0.95:  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # the watcher task fills `seen`
        stop.set()
        await watcher
        seen.sort()
        return seen[len(seen) // 2] * 1000, seen[int(len(seen) * 0.99)] * 1000, len(seen)
    finally:
        relay.stop()
        await relay_task
        await consumer.stop()
        await producer.stop()
        proc.terminate()
        proc.wait(30)
        await cleanup(pool, group)
        await pool.execute("DELETE FROM outbox WHERE producer = $1", upstream)


# --- the run --------------------------------------------------------------------------------------------

async def main() -> dict[str, Any]:
    tune_gc()  # as the worker does; (a) runs under the same collector settings as (b)
    cfg = AccountingSettings(accounting_as_of=AS_OF)
    subprocess.run([sys.executable, "-m", "werkplek_common.cli", "migrate"], check=True)  # noqa: ASYNC221
    tps = await input_partitions(cfg.kafka_bootstrap)
    logged_tps = [tp for tp in tps if tp.topic == LOGGED]
    pool = await asyncpg.create_pool(cfg.service_dsn, min_size=1, max_size=4)
    assert pool is not None
    tag = uuid.uuid4().hex[:8]
    prog, group = f"bench-prog-{tag}", f"bench-ha-{tag}"
    students = [f"bench-{tag}-{i}" for i in range(STUDENTS)]
    bench_cfg = cfg.model_copy(update={"consumer_group": group, "outbox_producer": group})
    before_setup = await ends_of(cfg.kafka_bootstrap, tps)
    await seed_offsets(pool, group, before_setup)
    await seed_offsets(pool, group + "-rebuild", before_setup)
    say(f"setup: programme, {STUDENTS} enrolments and placements")
    producer = new_producer(cfg.kafka_bootstrap, "bench-accounting")
    await producer.start()
    await publish(producer, [programme(prog)], source="/bench")
    await producer.stop()
    await produce_fast(cfg.kafka_bootstrap, [encode(e, source="/bench") for s in students
                                             for e in (enrolled(s, prog), agreed(s, programme_id=prog))])
    n_setup, _ = await run_engine(bench_cfg, await ends_of(cfg.kafka_bootstrap, tps), rebuild=False)
    start_entries = await ends_of(cfg.kafka_bootstrap, logged_tps)
    n = STUDENTS * ENTRIES
    say(f"producing N = {n:,} time entries ({STUDENTS} students × {ENTRIES})")
    await produce_fast(cfg.kafka_bootstrap, [encode(logged(s, 30 + j % 50), source="/bench")
                                             for j in range(ENTRIES) for s in students])
    ends = await ends_of(cfg.kafka_bootstrap, tps)
    end_entries = {tp: ends[tp] for tp in logged_tps}
    raw = await raw_consume(cfg.kafka_bootstrap, start_entries, end_entries)
    say(f"(a) raw consume + decode: {raw:,.0f} events/s")
    profiler = None
    if PROFILE:
        from pyinstrument import Profiler
        profiler = Profiler(async_mode="enabled")
        profiler.start()
    n_b, secs = await run_engine(bench_cfg, ends, rebuild=False)
    if profiler:
        profiler.stop()
        (OUT.parent / "accounting_profile.txt").write_text(profiler.output_text(unicode=False, color=False))
    acc = n_b / secs
    say(f"(b) accounting: {n_b:,} records in {secs:.2f}s (to the last output published) = {acc:,.0f} events/s; "
        f"ratio {acc / raw:.2f}")
    extra = max(0, REBUILD_EVENTS - n_setup - n)
    say(f"(c) producing {extra:,} more entries of the same students for the rebuild")
    for first in range(0, extra, 100_000):  # in slices: a million encoded records at once weigh ~1 GB
        await produce_fast(cfg.kafka_bootstrap, [encode(logged(students[j % STUDENTS], 30 + j % 50), source="/bench")
                                                 for j in range(first, min(extra, first + 100_000))])
    ends_c = await ends_of(cfg.kafka_bootstrap, tps)
    n_c, secs_c = await run_engine(bench_cfg.model_copy(update={"consumer_group": group + "-rebuild"}),
                                   ends_c, rebuild=True)
    say(f"(c) rebuild: {n_c:,} records in {secs_c:.2f}s = {n_c / secs_c:,.0f} events/s")
    say(f"(d) peak RSS: worker owning {RSS_STUDENTS:,} students, one new entry each")
    rss = await peak_rss(cfg, pool, tps, prog)
    say(f"(d) peak RSS {rss:,.0f} MB")
    say(f"(e) freshness: {FRESH_S:.0f}s at 1,000 entries/s")
    p50, p99, matched = await freshness(cfg, pool, tps, students, group)
    say(f"(e) freshness p50 {p50:.0f} ms, p99 {p99:.0f} ms ({matched:,} entries matched to their ShareUpdated)")
    for g in (group, group + "-rebuild"):
        await cleanup(pool, g, f"bench-{tag}-")
    await pool.close()
    return {"raw_consume_events_per_s": round(raw), "accounting_events_per_s": round(acc),
            "ratio": round(acc / raw, 3), "rebuild_events_per_s": round(n_c / secs_c), "rebuild_events": n_c,
            "peak_rss_mb_200k_students": round(rss), "freshness_p50_ms": round(p50), "freshness_p99_ms": round(p99),
            "n_events": n, "students": STUDENTS, "setup_events": n_setup, "rss_students": RSS_STUDENTS,
            "freshness_entries": matched}


if __name__ == "__main__":
    result = asyncio.run(main())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
