"""CPU-seconds per 1,000 events for `bench_accounting.py`'s (a) raw consumption, (b) accounting and
(c) rebuild, for a machine that is shared (not a test; not part of `make bench`'s loop).

Wall-clock events/s on a shared 2-core machine move with whoever else has the cores; the CPU each
part spends per event does not (much). This runs a checkout's `bench/bench_accounting.py` in this
interpreter and wraps its `raw_consume` and `run_engine` with two clocks: this process's CPU time
(`resource.getrusage`) and the CPU time of the bench stack's PostgreSQL (the postmaster on
WERKPLEK_PG_PORT and its backends, via psutil). The same file runs against an older checkout of the
bench (its functions have the same names since the bench was written), so "before and after" is one
procedure:

    source infra/benchenv.sh && bash infra/up.sh
    .venv/bin/python bench/accounting_cpu.py [path/to/bench_accounting.py]

It prints the bench's own JSON plus `cpu`: per part, events, CPU-seconds of the process and of
PostgreSQL, CPU-s per 1,000 events, and /proc/loadavg before and after.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import os
import resource
import sys
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def postgres_cpu(port: str) -> float:
    """CPU seconds of the postmaster listening on `port` and of its live children (the backends)."""
    total = 0.0
    for p in psutil.process_iter(["name", "cmdline"]):
        cmd = p.info["cmdline"] or []
        if p.info["name"] != "postgres" or not any(a == "-p" and b == port for a, b in itertools.pairwise(cmd)):
            continue
        try:
            family = [p, *p.children(recursive=True)]
            for q in family:
                t = q.cpu_times()
                total += t.user + t.system
        except psutil.NoSuchProcess:
            continue
    return total


def load() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def main() -> None:
    bench = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "bench_accounting.py"
    port = os.environ.get("WERKPLEK_PG_PORT", "55432")
    spec = importlib.util.spec_from_file_location("bench_accounting_under_cpu_clock", bench)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # not run as __main__: its main() waits for ours
    g = vars(module)  # the module's own globals: what its functions look their callees up in
    parts: list[dict[str, Any]] = []

    def clocked(name: str, fn: Any, count: Any) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            c0, p0, l0 = own_cpu(), postgres_cpu(port), load()
            result = await fn(*args, **kwargs)
            c1, p1, l1 = own_cpu(), postgres_cpu(port), load()
            events = count(result, args, kwargs)
            label = name if name != "run_engine" else ("rebuild" if kwargs.get("rebuild") else "engine")
            parts.append({"part": label, "events": events, "process_cpu_s": round(c1 - c0, 2),
                          "postgres_cpu_s": round(p1 - p0, 2),
                          "cpu_s_per_1000": round(1000 * (c1 - c0 + p1 - p0) / max(events, 1), 4),
                          "loadavg": [l0, l1]})
            return result
        return wrapper

    def raw_count(result: Any, args: Any, kwargs: Any) -> int:
        starts, ends = args[1], args[2]
        return sum(ends[tp] - starts[tp] for tp in ends)

    g["raw_consume"] = clocked("raw", g["raw_consume"], raw_count)
    g["run_engine"] = clocked("run_engine", g["run_engine"], lambda r, a, k: r[0])
    result = asyncio.run(g["main"]())
    result["cpu"] = parts
    raw = next((p for p in parts if p["part"] == "raw"), None)
    engines = [p for p in parts if p["part"] == "engine"]
    if raw and engines:
        result["cpu_ratio_engine_to_raw"] = round(engines[-1]["cpu_s_per_1000"] / raw["cpu_s_per_1000"], 2)
    print("ACCOUNTING_CPU " + json.dumps(result))


if __name__ == "__main__":
    main()
