"""Ingest benchmark of placement logging (`make bench`; not a test).

Starts the API (uvicorn, WERKPLEK_API_WORKERS workers, default 2) against the running stack, makes a
cohort through the API, then drives it from a load generator in a separate process (a lean asyncio
HTTP/1.1 client with keep-alive, so the generator costs as little CPU as possible):
  1. single-entry POSTs, closed loop, 64 connections    -> single_entries_per_s
  2. batches of 500 entries, closed loop, 8 connections  -> batch_entries_per_s
  3. single-entry POSTs at a fixed 500 req/s, open loop  -> p50/p99 latency (from the scheduled send
     time, so a stalled server is not hidden by coordinated omission)
Writes bench/out/ingest.json. The outbox relay does not run (the bench's producer name is its own and
its rows are removed at the end): this measures the API and PostgreSQL only.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import os
import random
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
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_placement_logging.config import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "ingest.json"
STUDENTS = 200
DURATION_S = float(os.environ.get("BENCH_SECONDS", "10"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the load generator (runs in its own process) -------------------------------------------------

class Conn:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, path: str, headers: dict[str, str], body: bytes) -> int:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        raw = (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n{head}\r\n".encode() + body)
        for _ in range(2):  # the server closes idle keep-alive connections: reconnect once
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
            self.writer.write(raw)
            assert self.reader is not None
            try:
                status_line = await self.reader.readline()
            except ConnectionError:
                status_line = b""
            if status_line:
                break
            self.writer.close()
            self.writer = None
        reader = self.reader
        assert reader is not None and status_line, "the server closed the connection twice"
        length = 0
        while True:
            line = await reader.readline()
            if line in (b"\r\n", b""):
                break
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await reader.readexactly(length)
        return int(status_line.split()[1])


def _entry(placement: str, start: date, span: int) -> dict[str, object]:
    day = start + timedelta(days=random.randrange(span))
    return {"entry_id": str(uuid7()), "placement_id": placement, "work_date": day.isoformat(),
            "duration_minutes": 1, "activity": "work"}


async def _closed_loop(port: int, students: list[dict[str, str]], batch: int, conns: int, seconds: float,
                       ) -> tuple[int, int, list[float]]:
    start, span = date.fromisoformat(students[0]["start"]), int(students[0]["span"])
    path = "/v1/me/entries/batch" if batch > 1 else "/v1/me/entries"
    ok = bad = 0
    lat: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal ok, bad
        conn = Conn("127.0.0.1", port)
        while time.perf_counter() < deadline:
            st = random.choice(students)
            items = [_entry(st["placement"], start, span) for _ in range(batch)]
            body = orjson.dumps({"entries": items} if batch > 1 else items[0])
            t0 = time.perf_counter()
            code = await conn.request(path, {"Authorization": st["auth"], "Idempotency-Key": str(uuid.uuid4())}, body)
            lat.append(time.perf_counter() - t0)
            if code in (200, 201):
                ok += batch
            else:
                bad += 1
    await asyncio.gather(*[worker() for _ in range(conns)])
    return ok, bad, lat


async def _open_loop(port: int, students: list[dict[str, str]], rate: float, seconds: float) -> list[float]:
    """Send at fixed times; latency counts from when a request was due, not when it went out."""
    start, span = date.fromisoformat(students[0]["start"]), int(students[0]["span"])
    idle: list[Conn] = [Conn("127.0.0.1", port) for _ in range(64)]
    lat: list[float] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    async def one(due: float) -> None:
        conn = idle.pop() if idle else Conn("127.0.0.1", port)
        st = random.choice(students)
        body = orjson.dumps(_entry(st["placement"], start, span))
        code = await conn.request("/v1/me/entries", {"Authorization": st["auth"],
                                                     "Idempotency-Key": str(uuid.uuid4())}, body)
        lat.append(loop.time() - due)
        idle.append(conn)
        assert code == 201, code
    tasks, n = [], 0
    while (due := t0 + n / rate) < t0 + seconds:
        await asyncio.sleep(max(0.0, due - loop.time()))
        tasks.append(asyncio.create_task(one(due)))
        n += 1
    await asyncio.gather(*tasks)
    return lat


def _load(mode: str, port: int, students: list[dict[str, str]], out: Any) -> None:
    if mode == "single":
        out.put(asyncio.run(_closed_loop(port, students, 1, 64, DURATION_S)))
    elif mode == "batch":
        out.put(asyncio.run(_closed_loop(port, students, 500, 8, DURATION_S)))
    else:
        out.put(asyncio.run(_open_loop(port, students, 500.0, DURATION_S)))


def run_load(mode: str, port: int, students: list[dict[str, str]]) -> Any:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_load, args=(mode, port, students, q))
    p.start()
    result = q.get()
    p.join()
    return result


# --- set-up -----------------------------------------------------------------------------------------

def _pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p))] * 1000 if s else float("nan")


def start_api(cfg: Settings, port: int, producer: str, workers: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WERKPLEK_API_PORT": str(port), "WERKPLEK_OUTBOX_PRODUCER": producer,
           "WERKPLEK_API_WORKERS": str(workers), "WERKPLEK_LOG_LEVEL": "WARNING", "WERKPLEK_POOL_MAX": "20"}
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
        time.sleep(0.2)


def make_cohort(cfg: Settings, port: int, tag: str) -> list[dict[str, str]]:
    inst = f"bench-{tag}"
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
        for i in range(STUDENTS):
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
            token = mint(cfg.data_dir, role=Role.STUDENT, sub=sid, ttl_s=7200)
            students.append({"auth": f"Bearer {token}", "placement": f"{sid}-pl", "start": start.isoformat(),
                             "span": "699"})
    return students


async def cleanup(cfg: Settings, producer: str, tag: str) -> None:
    conn = await asyncpg.connect(cfg.pg_dsn)
    try:
        like = f"bench-{tag}-%"
        await conn.execute("DELETE FROM outbox WHERE producer = $1", producer)
        for table in ("pl_entry", "pl_entry_revision"):
            await conn.execute(f"DELETE FROM {table} WHERE student_id LIKE $1", like)  # noqa: S608
        await conn.execute("DELETE FROM pl_idempotency WHERE principal LIKE $1", like)
    finally:
        await conn.close()


def main() -> None:
    cfg = Settings()
    workers = int(os.environ.get("BENCH_API_WORKERS", "2"))
    tag, port = uuid.uuid4().hex[:6], _free_port()
    producer = f"bench-{tag}"
    api = start_api(cfg, port, producer, workers)
    try:
        students = make_cohort(cfg, port, tag)
        ok, bad, lat = run_load("single", port, students)
        single = ok / DURATION_S
        print(f"single: {single:.0f} entries/s ({bad} refused), p50 {_pct(lat, .5):.1f} ms p99 {_pct(lat, .99):.1f} ms")
        ok, bad, blat = run_load("batch", port, students)
        batch = ok / DURATION_S
        print(f"batch: {batch:.0f} entries/s ({bad} refused), p50 {_pct(blat, .5):.1f} ms per 500-entry batch")
        fixed = run_load("fixed", port, students)
        assert isinstance(fixed, list)
        p50, p99 = _pct(fixed, .5), _pct(fixed, .99)
        print(f"fixed 500 req/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(fixed)} requests")
    finally:
        api.terminate()
        api.wait(timeout=30)
        asyncio.run(cleanup(cfg, producer, tag))
    result = {"single_entries_per_s": round(single), "batch_entries_per_s": round(batch),
              "p50_ms_at_500rps": round(p50, 2), "p99_ms_at_500rps": round(p99, 2), "cpu_count": os.cpu_count(),
              "api_workers": workers, "duration_s_per_phase": DURATION_S,
              "targets": {"single_entries_per_s": 3000, "batch_entries_per_s": 30000, "p99_ms_at_500rps": 50}}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
