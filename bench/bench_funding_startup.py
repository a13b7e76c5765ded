"""Funding reports start-up benchmark (`make bench`; not a test): issue 16's "start-up under 5 s
whatever the length of the topics".

On the bench stack, one institution of BENCH_STARTUP_STUDENTS (500) students (programme, enrolments,
credits, shares) is produced, then history: every student's share published again and again (new
versions, as hour accounting does all year). The funding worker (`python -m werkplek_funding_reports
worker`, both stages and the relay) works through it and is stopped. It is then started again and
timed, twice per history length (BENCH_STARTUP_HISTORY, "20000,200000" input records):
  * process start → /readyz 200 (every stage joined and its reference data loaded)  -> ready_s
  * process start → a report counting a student enrolled right after the start is published on the
    report topic (the first new figure, end to end, the 1 s debounce included)       -> first_report_s
If start-up grew with the history, the second length would show it. Writes bench/out/funding_startup.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from werkplek_events import FundingReportPublished, decode, encode, topic_for  # noqa: E402
from werkplek_funding_reports.config import Settings  # noqa: E402
from werkplek_funding_reports.members import STUDENT_TOPICS  # noqa: E402

from bench.bench_accounting import produce_fast  # noqa: E402
from tests.unit.funding_reports.story import Story  # noqa: E402

STUDENTS = int(os.environ.get("BENCH_STARTUP_STUDENTS", "500"))
HISTORY = [int(x) for x in os.environ.get("BENCH_STARTUP_HISTORY", "20000,200000").split(",")]
CATCH_UP_S = float(os.environ.get("BENCH_STARTUP_CATCH_UP_S", "900"))
REPORT_TOPIC = topic_for(FundingReportPublished).name
TARGET_S = 5.0


def say(msg: str) -> None:
    print(f"[bench_funding_startup] {msg}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FundingWorker:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = int(env["WERKPLEK_METRICS_PORT"])

    def start(self) -> float:
        out = self.log.open("ab")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "werkplek_funding_reports", "worker"],
                                     env={**os.environ, **self.env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        return t0

    def ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise SystemExit(f"the funding worker exited; log {self.log}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


async def partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bench-funding-startup")
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described if not t["error_code"]
            for p in t["partitions"]]


async def report_ends(bootstrap: str) -> tuple[AIOKafkaConsumer, dict[TopicPartition, int]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    tps = await partitions(bootstrap, [REPORT_TOPIC])
    if not tps:
        raise SystemExit(f"the topic {REPORT_TOPIC} does not exist on the bench stack")
    await consumer.start()
    consumer.assign(tps)
    ends = await consumer.end_offsets(tps)
    for tp, end in ends.items():
        consumer.seek(tp, end)
    return consumer, ends


async def wait_report(consumer: AIOKafkaConsumer, inst: str, deadline: float) -> float:
    """Until a new version of a report of `inst` arrives (the worker was stopped caught up, so only the
    input produced after its start can cause one): returns when it was read."""
    while time.monotonic() < deadline:
        batch = await consumer.getmany(timeout_ms=200)
        for records in batch.values():
            for r in records:
                if r.value is None:
                    continue
                e = decode(r.topic, r.value, r.headers)
                if isinstance(e, FundingReportPublished) and e.institution_id == inst:
                    return time.perf_counter()
    raise SystemExit("no report with the new share was published before the deadline")


async def caught_up(dsn: str, groups: list[str], bootstrap: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT consumer_group, topic, partition, next_offset FROM runtime_offsets"
                                " WHERE consumer_group = ANY($1)", groups)
    finally:
        await conn.close()
    if not rows:
        return False
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = {TopicPartition(r["topic"], r["partition"]) for r in rows}
        ends = await consumer.end_offsets(list(tps))
    finally:
        await consumer.stop()
    stored: dict[TopicPartition, int] = {}
    for r in rows:
        tp = TopicPartition(r["topic"], r["partition"])
        stored[tp] = min(stored.get(tp, r["next_offset"]), r["next_offset"])
    return all(stored[tp] >= ends[tp] for tp in tps)


async def topic_records(bootstrap: str) -> int:
    """Records on the student-keyed input topics, every institution's (what a replay would read)."""
    tps = await partitions(bootstrap, STUDENT_TOPICS)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(tps)
        starts = await consumer.beginning_offsets(tps)
    finally:
        await consumer.stop()
    return sum(ends[tp] - starts[tp] for tp in tps)


async def main() -> dict[str, Any]:
    cfg = Settings()
    subprocess.run([sys.executable, "-m", "werkplek_common.cli", "migrate"], check=True)  # noqa: ASYNC221
    story = Story()
    sids = [f"{story.prog}-{n}" for n in range(STUDENTS)]
    base = [story.programme()] + [e for s in sids for e in (story.enrol(s), story.credits(s, 60, 45))]
    await produce_fast(cfg.kafka_bootstrap, [encode(e, source="/bench") for e in base])
    tag = story.inst
    groups = [f"bench-fr-{tag}", f"bench-fr-{tag}-members"]
    env = {"WERKPLEK_CONSUMER_GROUP": groups[0], "WERKPLEK_MEMBERS_CONSUMER_GROUP": groups[1],
           "WERKPLEK_OUTBOX_PRODUCER": f"bench-fr-{tag}",
           "WERKPLEK_REPORTS_INSTITUTIONS": json.dumps([story.inst]),
           "WERKPLEK_METRICS_PORT": str(free_port()), "WERKPLEK_LOG_LEVEL": "WARNING",
           "WERKPLEK_LOG_JSON": "false"}
    log = ROOT / "bench" / "out" / "funding-startup-worker.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    worker = FundingWorker(env, log)
    produced, runs = len(base), []
    minutes = 1_000
    for history in HISTORY:
        more = max(0, history - produced)
        say(f"producing {more:,} share versions (history {history:,} input records of this institution)")
        for first in range(0, more, 50_000):
            chunk = []
            for j in range(first, min(more, first + 50_000)):
                minutes += 1
                chunk.append(encode(story.share(sids[j % STUDENTS], minutes), source="/bench"))
            await produce_fast(cfg.kafka_bootstrap, chunk)
        produced += more
        worker.start()
        deadline = time.monotonic() + CATCH_UP_S
        t0 = time.perf_counter()
        while not await caught_up(cfg.service_dsn, groups, cfg.kafka_bootstrap):
            if time.monotonic() > deadline:
                worker.stop()
                raise SystemExit(f"the funding worker did not catch up within {CATCH_UP_S:.0f} s; log {log}")
            worker.ready()  # raises if it exited
            await asyncio.sleep(0.5)
        say(f"caught up with {produced:,} records in {time.perf_counter() - t0:.1f} s; stopping")
        worker.stop()
        for attempt in (1, 2):
            consumer, _ = await report_ends(cfg.kafka_bootstrap)
            try:
                started = worker.start()
                while not worker.ready():
                    if time.perf_counter() - started > 120:
                        raise SystemExit(f"not ready 120 s after its start; log {log}")
                    await asyncio.sleep(0.05)
                ready_s = time.perf_counter() - started
                newcomer = f"{story.prog}-new-{produced}"  # one more student: the head counts change
                await produce_fast(cfg.kafka_bootstrap, [encode(e, source="/bench") for e in
                                                         (story.enrol(newcomer), story.credits(newcomer, 60, 45))])
                seen = await wait_report(consumer, story.inst, time.monotonic() + 120)
            finally:
                await consumer.stop()
            worker.stop()
            produced += 2
            run = {"history_records": produced, "input_topic_records": await topic_records(cfg.kafka_bootstrap),
                   "attempt": attempt, "ready_s": round(ready_s, 2),
                   "first_report_s": round(seen - started, 2), "load_average": [round(x, 2) for x in os.getloadavg()]}
            say(json.dumps(run))
            runs.append(run)
    return {"students": STUDENTS, "runs": runs, "target_s": TARGET_S,
            "max_first_report_s": max(r["first_report_s"] for r in runs), "cpu_count": os.cpu_count()}


if __name__ == "__main__":
    result = asyncio.run(main())
    out = ROOT / "bench" / "out" / "funding_startup.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
