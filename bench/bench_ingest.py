"""Ingest benchmark of placement logging (`make bench`; not a test).

Starts the API (uvicorn, WERKPLEK_API_WORKERS workers, default 2; each with a pool of BENCH_POOL
connections opened at start) against the running stack, makes a cohort through the API, then drives
it from a load generator in a separate process (a lean asyncio HTTP/1.1 client on uvloop: keep-alive,
one request at a time per connection, no pipelining):
  1. single-entry POSTs, closed loop, 64 connections    -> single_entries_per_s
  2. batches of 500 entries, closed loop, 8 connections  -> batch_entries_per_s
  3. single-entry POSTs at a fixed 500 req/s, open loop  -> p50/p99 latency (from the scheduled send
     time, so a stalled server is not hidden by coordinated omission)
  4. PostgreSQL's own limit for the same writes (bench/ingest_limit.py): pgbench with a script doing
     the database work of one single-entry POST, on the same cohort, at the API's database concurrency
     (workers × pool) and at 64 connections          -> postgres_limit_entries_per_s, single_vs_postgres_limit
Each phase first runs BENCH_WARMUP seconds unmeasured (connections, plans and caches warm, as in a
running service), then BENCH_SECONDS measured. During the measured window the CPU time of the API's
processes, of the PostgreSQL backends serving them, of the load generator and of everything else on
the machine is recorded: `cpu_ms_per_entry` says where the time goes, `other_cpu_s` how much other
work (other engineers' tests, say) competed for the two cores.
Writes bench/out/ingest.json. The outbox relay does not run (the bench's producer name is its own and
its rows are removed at the end): this measures the API and PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import random
import resource
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_placement_logging.config import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.ingest_limit import run_pgbench

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "ingest.json"
STUDENTS = 200
DURATION_S = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP_S = float(os.environ.get("BENCH_WARMUP", "2"))
POOL = int(os.environ.get("BENCH_POOL", "8"))
PREFIX = "bench-ingest-"  # of the institution, students, outbox producer: what cleanup may remove
RUN = os.environ.get("BENCH_PHASES", "single,batch,fixed").split(",")
PHASES = {"single": (1, 64), "batch": (500, 8)}  # entries per request, connections


READY_POLL_S = 0.2  # how often to ask /readyz while the API starts (the deadline bounds the wait)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the load generator (runs in its own process) -------------------------------------------------

class Conn:
    """One keep-alive HTTP/1.1 connection; one request at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, auth: str, body: bytes) -> int:
        raw = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nAuthorization: {auth}\r\nIdempotency-Key: {uuid.uuid4()}\r\n\r\n"
               ).encode() + body
        for _ in range(2):  # the server closes idle keep-alive connections: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            assert self.reader is not None
            self.writer.write(raw)
            try:
                head = await self.reader.readuntil(b"\r\n\r\n")
                break
            except (ConnectionError, asyncio.IncompleteReadError):
                self.writer.close()
                self.writer = None
        else:
            raise ConnectionError("the server closed the connection twice")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await self.reader.readexactly(length)
        return int(head.split(b" ", 2)[1])


def _entry(placement: str, start: date, span: int) -> dict[str, object]:
    day = start + timedelta(days=random.randrange(span))
    return {"entry_id": str(uuid7()), "placement_id": placement, "work_date": day.isoformat(),
            "duration_minutes": 1, "activity": "work"}


def _body(st: dict[str, str], batch: int) -> bytes:
    start, span = date.fromisoformat(st["start"]), int(st["span"])
    items = [_entry(st["placement"], start, span) for _ in range(batch)]
    return orjson.dumps({"entries": items} if batch > 1 else items[0])


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _closed_loop(port: int, students: list[dict[str, str]], batch: int, conns: int, out: Any,
                       ) -> tuple[int, int, list[float], float]:
    path = "/v1/me/entries/batch" if batch > 1 else "/v1/me/entries"
    ok = bad = 0
    lat: list[float] = []
    t_start = time.perf_counter()
    t_measure, t_end = t_start + WARMUP_S, t_start + WARMUP_S + DURATION_S

    async def worker() -> None:
        """Counts the requests that complete inside the measured window."""
        nonlocal ok, bad
        conn = Conn("127.0.0.1", port)
        while time.perf_counter() < t_end:
            st = random.choice(students)
            body = _body(st, batch)
            t0 = time.perf_counter()
            code = await conn.request(path, st["auth"], body)
            if t_measure <= (t1 := time.perf_counter()) <= t_end:
                lat.append(t1 - t0)
                if code in (200, 201):
                    ok += batch
                else:
                    bad += 1

    async def clock() -> float:
        await asyncio.sleep(WARMUP_S)
        out.put("measuring")
        return _cpu_s()
    started = asyncio.create_task(clock())
    await asyncio.gather(*[worker() for _ in range(conns)])
    return ok, bad, lat, _cpu_s() - await started


async def _open_loop(port: int, students: list[dict[str, str]], rate: float, out: Any,
                     ) -> tuple[int, int, list[float], float]:
    """Send at fixed times; latency counts from when a request was due, not when it went out. Times
    from perf_counter: uvloop's loop.time() has millisecond resolution."""
    idle: list[Conn] = [Conn("127.0.0.1", port) for _ in range(64)]
    lat: list[float] = []
    bad = 0
    t0 = time.perf_counter()
    t_measure = t0 + WARMUP_S

    async def one(due: float) -> None:
        nonlocal bad
        conn = idle.pop() if idle else Conn("127.0.0.1", port)
        st = random.choice(students)
        code = await conn.request("/v1/me/entries", st["auth"], _body(st, 1))
        if due >= t_measure:
            lat.append(time.perf_counter() - due)
            bad += code != 201
        idle.append(conn)
    tasks, n = [], 0
    cpu0: float | None = None
    while (due := t0 + n / rate) < t_measure + DURATION_S:
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        if cpu0 is None and due >= t_measure:
            out.put("measuring")
            cpu0 = _cpu_s()
        tasks.append(asyncio.create_task(one(due)))
        n += 1
    await asyncio.gather(*tasks)
    return len(lat) - bad, bad, lat, _cpu_s() - (cpu0 or 0.0)


def _load(mode: str, port: int, students: list[dict[str, str]], out: Any) -> None:
    try:
        import uvloop  # the generator's own CPU competes with the server: the leaner loop
        runner: Any = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    if mode in PHASES:
        batch, conns = PHASES[mode]
        out.put(runner(_closed_loop(port, students, batch, conns, out)))
    else:
        out.put(runner(_open_loop(port, students, 500.0, out)))


# --- where the CPU goes -------------------------------------------------------------------------------

def _tree_cpu(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _api_pids(api: subprocess.Popen[bytes]) -> set[int]:
    return {api.pid} | {c.pid for c in psutil.Process(api.pid).children(recursive=True)}


def _backend_pids(cfg: Settings, api_pids: set[int]) -> set[int]:
    """The PostgreSQL backends serving the API: matched by the API processes' client ports."""
    ports = set()
    for pid in api_pids:
        for c in psutil.Process(pid).net_connections("tcp"):
            if c.raddr and c.status == psutil.CONN_ESTABLISHED and c.raddr.port == _pg_port(cfg):
                ports.add(c.laddr.port)

    async def query() -> set[int]:
        conn = await asyncpg.connect(cfg.pg_dsn)
        try:
            rows = await conn.fetch("SELECT pid, client_port FROM pg_stat_activity WHERE client_port = ANY($1)",
                                    list(ports))
        finally:
            await conn.close()
        return {r["pid"] for r in rows}
    return asyncio.run(query())


def _pg_port(cfg: Settings) -> int:
    return int(cfg.pg_dsn.rsplit(":", 1)[1].split("/", 1)[0])


def _busy_s() -> float:
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)


def run_load(cfg: Settings, mode: str, port: int, api: subprocess.Popen[bytes], students: list[dict[str, str]],
             ) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_load, args=(mode, port, students, q))
    p.start()
    assert q.get() == "measuring"
    api_pids = _api_pids(api)
    backends = _backend_pids(cfg, api_pids)
    api0, pg0, busy0, t0 = _tree_cpu(api_pids), _tree_cpu(backends), _busy_s(), time.monotonic()
    ok, bad, lat, gen_cpu = q.get()
    api1, pg1, busy1, wall = _tree_cpu(api_pids), _tree_cpu(backends), _busy_s(), time.monotonic() - t0
    p.join()
    api_cpu, pg_cpu = api1 - api0, pg1 - pg0
    per = 1000 / max(ok, 1)
    return {"ok": ok, "bad": bad, "lat": lat, "wall_s": wall,
            "cpu_ms_per_entry": {"api": round(api_cpu * per, 4), "postgres": round(pg_cpu * per, 4),
                                 "load_generator": round(gen_cpu * per, 4)},
            "other_cpu_s": round(max(0.0, busy1 - busy0 - api_cpu - pg_cpu - gen_cpu), 2),
            "machine_cpu_s": round(wall * (os.cpu_count() or 1), 2)}


# --- set-up -----------------------------------------------------------------------------------------

def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))] * 1000 if s else float("nan")


def start_api(cfg: Settings, port: int, producer: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WERKPLEK_API_PORT": str(port), "WERKPLEK_OUTBOX_PRODUCER": producer,
           "WERKPLEK_API_WORKERS": str(workers), "WERKPLEK_LOG_LEVEL": "WARNING",
           "WERKPLEK_POOL_MIN": str(POOL), "WERKPLEK_POOL_MAX": str(POOL)}
    proc = subprocess.Popen([sys.executable, "-m", "werkplek_placement_logging", "api"], env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the API did not start")
        time.sleep(READY_POLL_S)


def make_cohort(cfg: Settings, port: int, tag: str, n: int = STUDENTS) -> list[dict[str, str]]:
    inst = f"{PREFIX}{tag}"
    coord = {"Authorization": "Bearer " + mint(cfg.data_dir, role=Role.COORDINATOR, sub="bench", institution=inst)}
    start = date.today() - timedelta(days=700)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=coord, timeout=30) as c:
        def put(path: str, body: dict[str, object]) -> None:
            r = c.put(path, json=body)
            assert r.status_code in (200, 201), r.text
        put(f"/v1/programmes/{inst}-p", {"name": "Bench", "level": "graduaat", "ects": 120, "phases": 2})
        put(f"/v1/workplaces/{inst}-w", {"name": "Bench", "sector": "ict", "environment": "authentic"})
        put(f"/v1/mentors/{inst}-m", {"workplace_id": f"{inst}-w", "trained": True})
        students = []
        for i in range(n):
            sid = f"{inst}-s{i}"
            put(f"/v1/enrolments/{sid}/2026-2027", {"programme_id": f"{inst}-p", "phase": 1, "status": "regular",
                                                   "age_band": "under_21"})
            put(f"/v1/placements/{sid}-pl", {
                "student_id": sid, "academic_year": "2026-2027", "workplace_id": f"{inst}-w", "mentor_id": f"{inst}-m",
                "start_date": start.isoformat(), "end_date": (date.today() + timedelta(days=30)).isoformat(),
                "planned_minutes": 60000, "form": "dual",
                "continuum": dict.fromkeys(("learning_environment", "extent", "engagement", "transfer",
                                            "integration", "target_group"), 3),
                "learning_agreement": {"outcomes": []}})
            token = mint(cfg.data_dir, role=Role.STUDENT, sub=sid, institution=inst, ttl_s=7200)
            students.append({"auth": f"Bearer {token}", "placement": f"{sid}-pl", "start": start.isoformat(),
                             "span": "699"})
    return students


async def cleanup(cfg: Settings, tag: str) -> None:
    """Remove what this run stored in the ledger and the outbox (the cohort's registry rows stay), and
    what earlier runs of this bench left when interrupted (rows at least an hour old: a run takes a
    minute). Only this bench's prefix: other benchmarks share the database."""
    conn = await asyncpg.connect(cfg.service_dsn)
    mine, old = f"{PREFIX}{tag}-%", f"{PREFIX}%"
    try:
        await conn.execute("DELETE FROM outbox WHERE producer = $1 OR (producer LIKE $2 AND created_at < now()"
                           " - interval '1 hour')", f"{PREFIX}{tag}", old)
        await conn.execute("DELETE FROM pl_entry_revision WHERE student_id LIKE $1 OR (student_id LIKE $2"
                           " AND recorded_at < now() - interval '1 hour')", mine, old)
        await conn.execute("DELETE FROM pl_entry WHERE student_id LIKE $1 OR (student_id LIKE $2"
                           " AND logged_at < now() - interval '1 hour')", mine, old)
        await conn.execute("DELETE FROM pl_idempotency WHERE principal LIKE $1 OR (principal LIKE $2"
                           " AND created_at < now() - interval '1 hour')", mine, old)
    finally:
        await conn.close()


def _load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def main() -> None:
    cfg = Settings()
    workers = int(os.environ.get("BENCH_API_WORKERS", "2"))
    tag, port = uuid.uuid4().hex[:6], _free_port()
    producer = f"{PREFIX}{tag}"
    load_before = _load_average()
    api = start_api(cfg, port, producer, workers)
    phases: dict[str, dict[str, Any]] = {}
    try:
        students = make_cohort(cfg, port, tag)
        for mode in RUN:
            phases[mode] = r = run_load(cfg, mode, port, api, students)
            lat = r.pop("lat")
            r.update(p50_ms=round(_pct(lat, .5), 2), p99_ms=round(_pct(lat, .99), 2), requests=len(lat))
            print(f"{mode}: {r['ok'] / DURATION_S:.0f} entries/s ({r['bad']} refused), p50 {r['p50_ms']} ms,"
                  f" p99 {r['p99_ms']} ms; cpu ms/entry {r['cpu_ms_per_entry']}; other work {r['other_cpu_s']} of"
                  f" {r['machine_cpu_s']} cpu-s")
        # PostgreSQL's own limit for the same writes, on the same cohort, right after (issue 16): at the
        # API's database concurrency (workers × pool) and at the load generator's 64 connections
        limit: dict[str, dict[str, Any]] = {}
        for clients in dict.fromkeys((workers * POOL, PHASES["single"][1])):
            limit[str(clients)] = r = run_pgbench(_pg_port(cfg), f"{PREFIX}{tag}", STUDENTS, producer, clients,
                                                  DURATION_S, OUT.parent)
            print(f"postgres limit (pgbench, {clients} clients): {r}")
    finally:
        api.terminate()
        api.wait(timeout=30)
        asyncio.run(cleanup(cfg, tag))
    if set(RUN) != {"single", "batch", "fixed"}:
        return  # a partial run (BENCH_PHASES) is for experiments: printed, not written
    single = phases["single"]["ok"] / DURATION_S
    same = limit[str(workers * POOL)]
    result = {"single_entries_per_s": round(single),
              "postgres_limit_entries_per_s": same.get("tps"),
              "single_vs_postgres_limit": round(single / same["tps"], 3) if same.get("tps") else None,
              "postgres_limit": limit,
              "batch_entries_per_s": round(phases["batch"]["ok"] / DURATION_S),
              "p50_ms_at_500rps": phases["fixed"]["p50_ms"], "p99_ms_at_500rps": phases["fixed"]["p99_ms"],
              "cpu_count": os.cpu_count(), "api_workers": workers, "pool_per_worker": POOL,
              "duration_s_per_phase": DURATION_S, "warmup_s_per_phase": WARMUP_S,
              "load_average_before": load_before, "load_average_after": _load_average(), "phases": phases,
              "targets": {"single_vs_postgres_limit": 0.6,
                          "single_entries_per_s": 3000, "batch_entries_per_s": 30000, "p99_ms_at_500rps": 50}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(json.dumps({k: v for k, v in result.items() if k != "phases"}))


if __name__ == "__main__":
    main()
