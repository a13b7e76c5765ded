"""The accounting engine beside the peers a user would pick instead (issue 16; `make bench`, not a test).

In one run, on the same records (bench/peers/records.py: BENCH_PEERS_STUDENTS (1000) students ×
BENCH_PEERS_ENTRIES (100) entries, with corrections, redeliveries and confirmations, on the contract's
topics; the peers read the same records, byte for byte, copied into one 8-partition topic of their own):
  raw        aiokafka consumption of the records + decode with the contract's codec (the floor)
  engine     our hour accounting (Engine + Store + outbox relay, as bench_accounting (b)), from the first
             fetch to the last output published; its CPU is this process's and PostgreSQL's
  quix_alo   Quix Streams 3.28.1, RocksDB state + changelog, at-least-once (bench/peers/quix_peer.py)
  quix_eos   the same, exactly-once (Kafka transactions)
  faust      faust-streaming 0.15.3, a RocksDB Table with its changelog (bench/peers/faust_peer.py)
Each: records, seconds, events/s, CPU-seconds per 1,000 events (the fair figure on a shared machine),
and /proc/loadavg before and after. Ratios: each against the floor, and the engine against each peer.
BENCH_PEERS_PROFILE=1 profiles the engine's run into bench/out/peers_engine_profile.txt; BENCH_PEERS_ONLY
(comma-separated names) runs a subset (printed, not written). A peer that is not installed is reported
as `missing` with the reason; a peer that fails is reported `failed` and the bench exits non-zero; so
does a stack that cannot be reached. Results: bench/out/peers.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import orjson
import psutil
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from werkplek_common.kafka import client_options, new_producer, publish
from werkplek_common.runtime.collector import tune_gc
from werkplek_hour_accounting.config import AccountingSettings
from werkplek_hour_accounting.service import input_partitions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.bench_accounting import ends_of, produce_fast, raw_consume, run_engine, seed_offsets  # noqa: E402
from bench.ingest_limit import postmaster  # noqa: E402
from bench.peers.records import SOURCE, catalogue_of, programme_of, records, students_of  # noqa: E402
from tests.unit.hour_accounting.builders import AS_OF  # noqa: E402

OUT = ROOT / "bench" / "out" / "peers.json"
STUDENTS = int(os.environ.get("BENCH_PEERS_STUDENTS", "1000"))
ENTRIES = int(os.environ.get("BENCH_PEERS_ENTRIES", "100"))
PROFILE = os.environ.get("BENCH_PEERS_PROFILE") == "1"  # pyinstrument over the engine's run (then slower)
ONLY = [p for p in os.environ.get("BENCH_PEERS_ONLY", "").split(",") if p]
PEER_TIMEOUT_S = float(os.environ.get("BENCH_PEERS_TIMEOUT_S", "900"))
QUIX_PY = ROOT / ".venv-quix" / "bin" / "python"
PARTITIONS = 8


def say(msg: str) -> None:
    print(f"[bench_peers] {msg}", flush=True)


def loadavg() -> list[float]:
    return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]


# --- the peers, each in a process of its own ---------------------------------------------------------------

PEERS: dict[str, tuple[list[str], str]] = {  # name -> (interpreter + script, guarantee)
    "quix_alo": ([str(QUIX_PY), str(ROOT / "bench/peers/quix_peer.py")], "at-least-once"),
    "quix_eos": ([str(QUIX_PY), str(ROOT / "bench/peers/quix_peer.py")], "exactly-once"),
    "faust": ([sys.executable, str(ROOT / "bench/peers/faust_peer.py")], "at_least_once"),
}


def missing_reason(name: str) -> str | None:
    """Why the peer cannot run here, or None when it is installed."""
    cmd, _ = PEERS[name]
    module = "quixstreams" if name.startswith("quix") else "faust"
    if not Path(cmd[0]).exists():
        return f"{cmd[0]} does not exist (infra/install.sh installs it from bench/peers/quix.lock)"
    probe = subprocess.run([cmd[0], "-c", f"import {module}"], capture_output=True, text=True,  # noqa: S603 - ours
                           env=peer_env(), timeout=120)
    if probe.returncode:
        return f"import {module} failed: {probe.stderr.strip().splitlines()[-1:]}"
    return None


def peer_env() -> dict[str, str]:
    # The Quix virtualenv has no werkplek installed: the contract comes from the repository (events/).
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "events"), str(ROOT)])}


async def run_peer(name: str, bootstrap: str, input_topic: str, ends: dict[int, int], catalogue: dict[str, int],
                   tag: str) -> dict[str, Any]:
    cmd, guarantee = PEERS[name]
    state_dir = tempfile.mkdtemp(prefix=f"peers-{name}-", dir=os.environ.get("TMPDIR"))
    cfg: dict[str, Any] = {"bootstrap": bootstrap, "group": f"peers-{tag}-{name}", "input": input_topic,
           "output": f"peers-{tag}-{name}-out", "guarantee": guarantee, "state_dir": state_dir,
           "ends": {str(p): n for p, n in ends.items()}, "catalogue": catalogue}
    await create_topic(bootstrap, cfg["output"])
    try:
        proc = await asyncio.create_subprocess_exec(*cmd, json.dumps(cfg), env=peer_env(),
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            out, err = await asyncio.wait_for(proc.communicate(), PEER_TIMEOUT_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            return {"failed": f"no result within {PEER_TIMEOUT_S:.0f}s"}
        lines = [ln for ln in out.decode().splitlines() if ln.startswith("{")]
        if proc.returncode or not lines:
            return {"failed": f"exit {proc.returncode}: {err.decode()[-2000:]}"}
        return {**json.loads(lines[-1]), "output_topic": cfg["output"]}
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


# --- the stack -----------------------------------------------------------------------------------------------

async def reachable(cfg: AccountingSettings) -> str | None:
    """None when Kafka and PostgreSQL answer, else why not (the bench then exits non-zero)."""
    try:
        conn = await asyncpg.connect(cfg.service_dsn, timeout=10)
        await conn.close()
    except (OSError, asyncpg.PostgresError, TimeoutError) as e:
        return f"PostgreSQL at {cfg.pg_dsn} does not answer: {e!r}"
    admin = AIOKafkaAdminClient(bootstrap_servers=cfg.kafka_bootstrap, request_timeout_ms=10_000, **client_options())
    try:
        await asyncio.wait_for(admin.start(), 15)
        await admin.close()
    except Exception as e:
        return f"Kafka at {cfg.kafka_bootstrap} does not answer: {e!r}"
    return None


async def create_topic(bootstrap: str, name: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, PARTITIONS, 1)])
    finally:
        await admin.close()


async def final_outputs(bootstrap: str, topic: str) -> dict[str, dict[str, Any]]:
    """The last output per student on a peer's output topic (committed records only)."""
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    ends = await ends_of(bootstrap, tps)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                isolation_level="read_committed", **client_options())
    await consumer.start()
    try:
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        last: dict[str, dict[str, Any]] = {}
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for recs in (await consumer.getmany(timeout_ms=500)).values():
                for rec in recs:
                    last[rec.key.decode()] = orjson.loads(rec.value)
        return last
    finally:
        await consumer.stop()


def postgres_cpu(port: int) -> float:
    """CPU-seconds used so far by the PostgreSQL server listening on `port` (postmaster, its live
    backends and the backends it has reaped), or 0.0 when it is not found on this machine."""
    server = postmaster(port)
    if server is None:
        return 0.0
    t = server.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for c in server.children(recursive=True):
        try:
            ct = c.cpu_times()
            total += ct.user + ct.system
        except psutil.NoSuchProcess:
            continue
    return total


def figures(n: int, seconds: float, cpu: float) -> dict[str, Any]:
    return {"records": n, "seconds": round(seconds, 3), "events_per_s": round(n / seconds),
            "cpu_s_per_1000": round(cpu / n * 1000, 4)}


# --- the run ------------------------------------------------------------------------------------------------

async def main() -> int:
    tune_gc()
    cfg = AccountingSettings(accounting_as_of=AS_OF)
    why = await reachable(cfg)
    if why:
        say(f"the bench stack cannot be reached: {why}. `make bench` starts it (infra/bench.sh).")
        return 2
    subprocess.run([sys.executable, "-m", "werkplek_common.cli", "migrate"], check=True)  # noqa: ASYNC221
    tag = uuid.uuid4().hex[:8]
    prog, students = programme_of(tag), students_of(tag, STUDENTS)
    catalogue = catalogue_of(prog)
    group = f"peers-{tag}-engine"
    bench_cfg = cfg.model_copy(update={"consumer_group": group, "outbox_producer": group})
    pg_port = urlsplit(cfg.pg_dsn).port or 5432
    tps = await input_partitions(cfg.kafka_bootstrap)
    before = await ends_of(cfg.kafka_bootstrap, tps)
    pool = await asyncpg.create_pool(cfg.service_dsn, min_size=1, max_size=2)
    assert pool is not None
    await seed_offsets(pool, group, before)
    await pool.close()
    recs = records(prog, students, ENTRIES)
    say(f"producing {len(recs):,} records ({STUDENTS} students × {ENTRIES} entries, corrections, redeliveries,"
        " confirmations) to the contract's topics and, the same bytes, to the peers' topic")
    producer = new_producer(cfg.kafka_bootstrap, "bench-peers")
    await producer.start()
    await publish(producer, [prog], source=SOURCE)  # the engine's programme catalogue reads it
    await producer.stop()
    await produce_fast(cfg.kafka_bootstrap, recs)
    peer_topic = f"peers-{tag}-in"
    await create_topic(cfg.kafka_bootstrap, peer_topic)
    await produce_fast(cfg.kafka_bootstrap, [replace(r, topic=peer_topic) for r in recs])
    ends = await ends_of(cfg.kafka_bootstrap, tps)
    starts = {tp: before[tp] for tp in tps if ends[tp] > before[tp]}
    peer_ends = {tp.partition: n for tp, n in (await ends_of(
        cfg.kafka_bootstrap, [TopicPartition(peer_topic, p) for p in range(PARTITIONS)])).items()}
    result: dict[str, Any] = {"when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count(),
                              "records": len(recs), "students": STUDENTS, "entries_per_student": ENTRIES,
                              "loadavg_start": loadavg(), "contestants": {}}
    run = result["contestants"]

    load0, c0 = loadavg(), time.process_time()
    raw = await raw_consume(cfg.kafka_bootstrap, starts, {tp: ends[tp] for tp in starts})
    n_raw = sum(ends[tp] - starts[tp] for tp in starts)
    run["raw"] = {**figures(n_raw, n_raw / raw, time.process_time() - c0), "loadavg": [load0, loadavg()]}
    say(f"raw: {run['raw']}")

    profiler = None
    if PROFILE:
        from pyinstrument import Profiler
        profiler = Profiler(async_mode="enabled")
        profiler.start()
    load0, c0, pg0 = loadavg(), time.process_time(), postgres_cpu(pg_port)
    n_eng, secs = await run_engine(bench_cfg, ends, rebuild=False)
    own, pg = time.process_time() - c0, postgres_cpu(pg_port) - pg0
    if profiler:
        profiler.stop()
        (OUT.parent / "peers_engine_profile.txt").write_text(profiler.output_text(unicode=False, color=False))
    run["engine"] = {**figures(n_eng, secs, own + pg), "cpu_s_per_1000_worker": round(own / n_eng * 1000, 4),
                     "cpu_s_per_1000_postgres": round(pg / n_eng * 1000, 4), "loadavg": [load0, loadavg()]}
    say(f"engine: {run['engine']}")

    failed = False
    for name in [p for p in PEERS if not ONLY or p in ONLY]:
        reason = missing_reason(name)
        if reason:
            run[name] = {"missing": reason}
            say(f"{name}: MISSING: {reason}")
            continue
        load0 = loadavg()
        got = await run_peer(name, cfg.kafka_bootstrap, peer_topic, peer_ends, catalogue, tag)
        if "failed" in got:
            failed = True
            run[name] = got
            say(f"{name}: FAILED: {got['failed'][-500:]}")
            continue
        run[name] = {**figures(got["records"], got["seconds"], got["cpu_seconds"]), "outputs": got["outputs"],
                     "loadavg": [load0, loadavg()]}
        say(f"{name}: {run[name]}")

    done = {k: v for k, v in run.items() if "events_per_s" in v}
    floor = done["raw"]
    result["ratios"] = {
        "events_per_s_vs_raw": {k: round(v["events_per_s"] / floor["events_per_s"], 3) for k, v in done.items()},
        "cpu_per_event_vs_raw": {k: round(v["cpu_s_per_1000"] / floor["cpu_s_per_1000"], 2) for k, v in done.items()},
        "engine_events_per_s_vs_peer": {k: round(done["engine"]["events_per_s"] / v["events_per_s"], 2)
                                        for k, v in done.items() if k not in ("raw", "engine")},
        "engine_cpu_per_event_vs_peer": {k: round(done["engine"]["cpu_s_per_1000"] / v["cpu_s_per_1000"], 2)
                                         for k, v in done.items() if k not in ("raw", "engine")},
    }
    result["loadavg_end"] = loadavg()
    print(json.dumps(result, indent=2))
    if not ONLY and not PROFILE:  # a subset or a profiled run is an experiment: printed, not written
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(result, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
