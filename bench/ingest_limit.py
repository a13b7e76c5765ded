"""PostgreSQL's own limit for what one single-entry POST writes (issue 16, used by bench_ingest.py).

A pgbench script does, per transaction, exactly the database work of `POST /v1/me/entries` with an
Idempotency-Key, on the cohort the ingest bench made through the API (its students and placements):
BEGIN; `pl_begin_log` (the key's and the student's advisory locks, the stored-reply lookup, the context
reads); the ledger's one write statement (`ledger_sql._WRITE`: the revision, the current view, the outbox
row, the idempotency record with the reply, the NOTIFY that wakes the relay); COMMIT. The SQL is the
service's own text, its parameters replaced by pgbench variables and literals of the same size (an
encoded TimeEntryLogged for the outbox value and a reply body of a 201), so the rows and indexes touched
are the same. Prepared statements (`-M prepared`), as asyncpg uses them; the server's `fsync` and
`synchronous_commit` are whatever the stack runs with (on), as for the API. What pgbench does not do is
everything in Python: HTTP, JSON, the token, the rules. That difference is what the ratio shows.
"""

from __future__ import annotations

import glob
import re
import subprocess
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import psutil
from werkplek_common.outbox import CHANNEL, outbox_columns
from werkplek_events import TimeEntryLogged
from werkplek_placement_logging import ledger_sql


def pgbench_binary() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pgbench"))
    return found[-1] if found else None


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _bytea(raw: bytes) -> str:
    return f"'\\x{raw.hex()}'::bytea"


def _json(text: str) -> str:
    """As hex: pgbench would read `:05` of a timestamp inside a literal as a variable."""
    return f"convert_from({_bytea(text.encode())}, 'UTF8')::jsonb"


def _params(inst: str, students: int, producer: str) -> tuple[dict[int, str], dict[int, str]]:
    """SQL for the parameters of `_BEGIN` and `_WRITE`, numbered as the service binds them."""
    student = f"({_lit(inst + '-s')} || :i::text)"
    placement = f"({student} || '-pl')"
    day = "(current_date - 700 + :d::int)"
    entry = "md5('e' || :r::text || '-' || :k::text)::uuid"
    event = "md5('v' || :r::text || '-' || :k::text)::uuid"
    key = "md5('k' || :r::text || '-' || :k::text)"
    sample = TimeEntryLogged(entry_id=uuid.uuid4(), student_id=f"{inst}-s0", placement_id=f"{inst}-s0-pl",
                             revision=1, work_date=date.today(), duration_minutes=1, activity="work")
    cols = outbox_columns([sample], source="/placement-logging")
    reply = orjson.dumps({"entry_id": str(sample.entry_id), "placement_id": sample.placement_id, "revision": 1,
                          "version": 1, "work_date": sample.work_date.isoformat(), "start_time": None,
                          "end_time": None, "duration_minutes": 1, "activity": "work", "outcome_ids": [],
                          "description": "", "decision": "pending", "withdrawn": False,
                          "logged_at": "2026-12-02T03:00:00.000000+00:00",
                          "updated_at": "2026-12-02T03:00:00.000000+00:00", "student_id": sample.student_id})
    begin = {1: "(-1 - :k::bigint)", 2: "(:i::bigint + 1)", 3: student, 4: key, 5: f"ARRAY[{placement}]",
             6: student, 7: f"ARRAY[{day}]", 8: f"ARRAY[{entry}]"}
    write = {1: student, 2: f"ARRAY[{entry}]", 3: f"ARRAY[{placement}]", 4: f"ARRAY[{day}]",
             5: "ARRAY[NULL]::time[]", 6: "ARRAY[NULL]::time[]", 7: "ARRAY[1]", 8: "ARRAY['work']",
             9: "ARRAY['']", 10: "ARRAY['']", 11: f"ARRAY[{event}]", 12: "ARRAY[1]",
             13: "ARRAY['logged']", 14: _lit(producer), 15: f"ARRAY[{_lit(cols.topics[0])}]",
             16: f"ARRAY[convert_to({student}, 'UTF8')]", 17: f"ARRAY[{_bytea(cols.values[0])}]",
             18: f"ARRAY[{_json(cols.headers[0])}]", 19: f"ARRAY[{event}]", 20: student, 21: key,
             22: _bytea(bytes(32)), 23: "201", 24: _json('[["content-type", "application/json"]]'),
             25: _bytea(reply), 26: _lit(CHANNEL), 27: "ARRAY[]::uuid[]", 28: "ARRAY[]::jsonb[]",
             29: "ARRAY[]::jsonb[]"}
    return begin, write


def _bind(sql: str, params: dict[int, str]) -> str:
    # `$n` followed by a non-digit; highest numbers first is not needed with the lookahead
    return re.sub(r"\$(\d+)(?!\d)", lambda m: params[int(m.group(1))], sql)


def script(inst: str, students: int, producer: str) -> str:
    begin, write = _params(inst, students, producer)
    # pgbench reads one command per line: the statement's SQL comments go, then the line breaks
    one_line = " ".join(re.sub(r"--[^\n]*", "", _bind(ledger_sql._WRITE, write)).split())
    return "\n".join([
        f"\\set i random(0, {students - 1})",
        "\\set d random(0, 698)",
        "\\set r random(1, 2000000000)",
        "\\set k random(1, 2000000000)",
        "BEGIN;",
        " ".join(_bind(ledger_sql._BEGIN, begin).split()) + ";",
        one_line + ";",
        "COMMIT;",
        "",
    ])


def postmaster(port: int) -> psutil.Process | None:
    """The PostgreSQL server listening on `port` (other stacks' servers run on this machine too)."""
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = p.info["cmdline"] or []
        if p.info["name"] == "postgres" and "-p" in cmd and cmd[cmd.index("-p") + 1:][:1] == [str(port)]:
            return p
    return None


def _cpu_by_pid(procs: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in procs:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return out


def run_pgbench(dsn_port: int, inst: str, students: int, producer: str, clients: int, seconds: float,
                out_dir: Path) -> dict[str, Any]:
    """Run the script for `seconds` at `clients` connections; transactions/s and CPU per transaction."""
    binary = pgbench_binary()
    if binary is None:
        return {"missing": "pgbench not found under /usr/lib/postgresql/*/bin (Debian's postgresql package)"}
    path = out_dir / f"pgbench-entry-{inst}.sql"
    path.write_text(script(inst, students, producer))
    server = postmaster(dsn_port)
    if server is None:
        return {"failed": f"no PostgreSQL server listening on port {dsn_port} on this machine"}
    backends0 = {p.pid for p in server.children()}
    cmd = [binary, "-n", "-M", "prepared", "-c", str(clients), "-j", "2", "-T", str(int(seconds)), "-f", str(path),
           "-h", "127.0.0.1", "-p", str(dsn_port), "-U", "werkplek", "werkplek"]
    busy = psutil.cpu_times()
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # noqa: S603 - ours
    backends: list[psutil.Process] = []
    deadline = time.monotonic() + min(10.0, seconds / 2)
    while len(backends) < clients and time.monotonic() < deadline:  # until every client's backend exists
        time.sleep(0.1)
        backends = [p for p in server.children() if p.pid not in backends0]
    first = _cpu_by_pid(backends)
    last = dict(first)
    while proc.poll() is None:  # sampled while they live: a backend's times vanish when its client leaves
        last.update(_cpu_by_pid(backends))
        time.sleep(0.2)
    out, err = proc.communicate(timeout=120)
    wall = time.monotonic() - t0
    busy1 = psutil.cpu_times()
    pg_cpu = sum(last[pid] - first[pid] for pid in first)
    if proc.returncode:
        return {"failed": f"pgbench exit {proc.returncode}: {err[-1500:]}", "script": str(path)}
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    txs = re.search(r"number of transactions actually processed: (\d+)", out)
    failed = re.search(r"number of failed transactions: (\d+)", out)
    lat = re.search(r"latency average = ([\d.]+) ms", out)
    n = int(txs.group(1)) if txs else 0
    machine = (sum(busy1) - busy1.idle) - (sum(busy) - busy.idle)
    return {"clients": clients, "seconds": int(seconds), "transactions": n,
            "tps": round(float(tps.group(1))) if tps else None,
            "failed_transactions": int(failed.group(1)) if failed else 0,
            "latency_avg_ms": float(lat.group(1)) if lat else None,
            "cpu_ms_per_entry_postgres": round(pg_cpu / max(n, 1) * 1000, 4), "backends_seen": len(backends),
            "machine_busy_cpu_s": round(machine, 2), "wall_s": round(wall, 2)}
