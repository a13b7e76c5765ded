"""Mentor decisions reaching the student's entries (`make bench`; not a test). Issue 9: at 1,000
confirmations/s a confirmation must show as confirmed within 2 s.

BENCH_DECISION_ENTRIES pending entries (default 40,000, of 2,000 students) are stored in the ledger
directly; a placement worker subprocess (its own consumer group and outbox producer) consumes the
decision topics; TimeEntryConfirmed events are produced at BENCH_DECISION_RATE (1,000) per second for
BENCH_DECISION_S (20) seconds, as mentor feedback's relay would publish them. A watcher asks the
ledger, continuously, which of the entries confirmed so far show as confirmed (what the student's
`GET /v1/me/entries` reads): from each event's send to its first sighting there
-> confirmed_p50_ms / p99_ms / max_ms, and the rate the worker sustained. The load of the machine
(other engineers' tests) is recorded beside the figures. Writes bench/out/decisions.json."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from werkplek_common.kafka import new_producer, send_record
from werkplek_common.settings import CommonSettings, dsn_as
from werkplek_events import TimeEntryConfirmed, encode
from werkplek_placement_logging.decisions import TOPICS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.e2e.stack import free_port  # noqa: E402
from tests.support import start_groups_at_end  # noqa: E402

OUT = ROOT / "bench" / "out" / "decisions.json"
ENTRIES = int(os.environ.get("BENCH_DECISION_ENTRIES", "40000"))
STUDENTS = 2000
RATE = float(os.environ.get("BENCH_DECISION_RATE", "1000"))
SECONDS = float(os.environ.get("BENCH_DECISION_S", "20"))
TICK_S = 0.01  # events are sent in slices of RATE × TICK_S
POLL_S = 0.05  # the watcher's interval: the resolution of the latencies


def say(msg: str) -> None:
    print(f"[bench_decisions] {msg}", flush=True)


async def seed(pool: asyncpg.Pool, tag: str) -> list[tuple[uuid.UUID, str]]:
    entries = [(uuid.uuid4(), f"bench-dec-{tag}-{i % STUDENTS}") for i in range(ENTRIES)]
    rows: list[tuple[Any, ...]] = [(e, s, f"pl-{s}", 1, 1, date(2026, 10, 1 + i % 28), 60, "work", [], "bench")
                                   for i, (e, s) in enumerate(entries)]
    async with pool.acquire() as conn:
        await conn.copy_records_to_table("pl_entry", records=rows, columns=[
            "entry_id", "student_id", "placement_id", "revision", "version", "work_date", "duration_minutes",
            "activity", "outcome_ids", "description"])
    return entries


def start_worker(group: str, tag: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WERKPLEK_DECISIONS_CONSUMER_GROUP": group, "WERKPLEK_OUTBOX_PRODUCER": f"bench-dec-{tag}",
           "WERKPLEK_METRICS_PORT": str(port), "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "WARNING"}
    log = open(ROOT / "bench" / "out" / f"{group}.log", "ab")  # the child keeps it
    return subprocess.Popen([sys.executable, "-m", "werkplek_placement_logging", "worker"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)


async def ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until the worker's /readyz answers 200: it has joined its group (start-up is not measured)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the placement worker exited"
            try:
                if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError("the placement worker did not get ready")


async def watch(pool: asyncpg.Pool, sent: dict[uuid.UUID, float], seen: dict[uuid.UUID, float],
                done: asyncio.Event, grace_s: float = 60) -> None:
    """Ask for the entries sent and not yet seen confirmed every `POLL_S`, recording when each first
    shows as confirmed (so a latency is over-stated by at most one poll); once sending is done, for at
    most `grace_s` more. It used to ask again without pause: on two cores that watcher took the CPU
    the sender and the worker needed (the sender reached 367/s of the 1,000/s asked)."""
    finished: float | None = None
    while not done.is_set() or len(seen) < len(sent):
        waiting = [e for e in list(sent) if e not in seen]
        if waiting:
            rows = await pool.fetch("SELECT entry_id FROM pl_entry WHERE entry_id = ANY($1::uuid[])"
                                    " AND decision = 'confirmed'", waiting[:20_000])
            now = time.time()
            for r in rows:
                seen.setdefault(r["entry_id"], now)
        await asyncio.sleep(POLL_S)
        if done.is_set():
            finished = finished or time.monotonic()
            if time.monotonic() > finished + grace_s:
                return  # the rest never showed: reported as missing


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


async def main() -> dict[str, Any]:
    cfg = CommonSettings()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    group = f"bench-decisions-{tag}"
    pool = await asyncpg.create_pool(dsn_as(cfg.pg_dsn, "placement_logging"), min_size=2, max_size=4)  # its tables
    assert pool is not None
    say(f"seeding {ENTRIES:,} pending entries of {STUDENTS:,} students")
    entries = await seed(pool, tag)
    await start_groups_at_end(cfg.kafka_bootstrap, [group], TOPICS)
    port = free_port()
    proc = start_worker(group, tag, port)
    producer = new_producer(cfg.kafka_bootstrap, "bench-decisions", linger_ms=1)
    await producer.start()
    sent: dict[uuid.UUID, float] = {}
    seen: dict[uuid.UUID, float] = {}
    done = asyncio.Event()
    load_before = os.getloadavg()
    try:
        await ready(port, proc)
        watcher = asyncio.create_task(watch(pool, sent, seen, done))
        total = min(ENTRIES, int(RATE * SECONDS))
        per_tick = max(1, int(RATE * TICK_S))
        records = [(entry, encode(TimeEntryConfirmed(entry_id=entry, student_id=student, placement_id=f"pl-{student}",
                                                     mentor_id="m-bench", entry_revision=1), source="/bench"))
                   for entry, student in entries[:total]]  # encoded beforehand: the sender only sends
        say(f"sending {total:,} confirmations at {RATE:,.0f}/s")
        t0 = time.monotonic()
        for i in range(0, total, per_tick):
            for entry, record in records[i:i + per_tick]:
                await send_record(producer, record)
                sent[entry] = time.time()
            await asyncio.sleep(max(0.0, t0 + (i + per_tick) / RATE - time.monotonic()))
        await producer.flush()
        sending_s = time.monotonic() - t0
        done.set()
        await watcher
    finally:
        await producer.stop()
        proc.terminate()
        proc.wait(30)
        await pool.execute("DELETE FROM pl_entry WHERE student_id LIKE $1", f"bench-dec-{tag}-%")
        await pool.execute("DELETE FROM pl_entry_decision WHERE mentor_id = 'm-bench'")
        await pool.close()
    latencies = [(seen[e] - t) * 1000 for e, t in sent.items() if e in seen]
    result = {"confirmations": len(sent), "sent_per_s": round(len(sent) / sending_s),
              "confirmed": len(latencies), "missing": len(sent) - len(latencies),
              "confirmed_p50_ms": round(percentile(latencies, 0.5)),
              "confirmed_p99_ms": round(percentile(latencies, 0.99)),
              "confirmed_max_ms": round(max(latencies, default=float("nan"))), "poll_ms": POLL_S * 1000,
              "within_2s": round(
                  sum(1 for x in latencies if x <= 2000) / max(1, len(sent)), 4),
              "loadavg_before": load_before, "loadavg_after": os.getloadavg()}
    say(f"{result['confirmed']:,} of {len(sent):,} confirmed; p50 {result['confirmed_p50_ms']} ms, p99 "
        f"{result['confirmed_p99_ms']} ms, max {result['confirmed_max_ms']} ms; {result['within_2s']:.2%} within 2 s")
    return result


if __name__ == "__main__":
    out = asyncio.run(main())
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))
