"""`make chaos`: the multi-replica chaos run (not part of `make test`).

On a stack of its own (Kafka and PostgreSQL in their own data folder on free ports), it starts every
service of `infra/Procfile` (each API once, every worker as `--replicas` replicas), makes the workload
of `workload.py` through the APIs (`--entries` entries of `--students` students, their confirmations
and rejections by signed webhooks), meanwhile pauses, kills and restarts replicas and the broker at
fixed points (`faults.py`), and then waits until every student's totals in hour accounting's read
model and every decision in placement logging's ledger equal the plan, with every outbox drained.
It prints and writes its figures (bench/out/chaos-<replicas>.json): how long the workload and the
catch-up after it took, each group's largest lag and longest stall, the largest outbox backlogs,
fenced commits and lost leases seen in the logs, replicas that ended by themselves. Exit status 0 when
the end state is exact.

    python -m tests.chaos.run [--entries 100000] [--students 500] [--replicas 2] [--pause 60]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from werkplek_common.devidp import ensure_keys
from werkplek_common.settings import REPO_ROOT
from werkplek_events import TOPICS
from werkplek_mentor_feedback.sources import add_secret

from tests.integration.own_stack import OwnStack
from tests.support import end_offsets

from . import procfile
from .faults import BROKER_DOWN_S, BROKER_START_S, Chaos, schedule
from .replicas import Fleet, Replica
from .verify import OUTBOX_LEFT, Monitor, connect, judge
from .workload import Driver, Plan, make_plan

SAMPLE_EVERY_S = 3.0
LOG_SIGNS = {"fenced": "fenced", "lease_lost": "lease lost", "tracebacks": "Traceback (most recent call last)"}
CHAOS_ENV = {  # what every process of the run is given besides the stack's addresses
    "WERKPLEK_LOG_JSON": "false", "WERKPLEK_LOG_LEVEL": "INFO",
    # mentor feedback: no dev webhook sources, no confirmation requests for the pending entries
    "WERKPLEK_MENTOR_DEV_SOURCES": "[]", "WERKPLEK_MENTOR_BATCH_MIN_AGE_S": str(10**9),
    "WERKPLEK_MENTOR_BATCH_INTERVAL_S": "3600", "WERKPLEK_REPORTS_SNAPSHOT_EVERY": "never",
}


def fleet_for(replicas: int, env: dict[str, str], logs: Path) -> Fleet:
    out = []
    for svc in procfile.services():
        if svc.kind == "tool":
            continue
        for i in range(1 if svc.kind == "api" else replicas):
            out.append(Replica(svc, i, env, logs / f"{svc.name}-{i}.log"))
    return Fleet(out)


def api_url(fleet: Fleet, name: str) -> str:
    replica = fleet.of(name)[0]
    return f"http://127.0.0.1:{replica.ports[procfile.api_port_field(replica.service.package)]}"


async def wait_ready(url: str, replica: Replica, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        while True:
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if replica.exited() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{replica.name} not ready:\n{replica.log_text()[-3000:]}")
            await asyncio.sleep(0.5)


def _span(marks: dict[str, float], mark: str, since: float | None) -> float | None:
    return round(marks[mark] - since, 1) if mark in marks and since is not None else None


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


class Run:
    def __init__(self, args: argparse.Namespace, stack: OwnStack, plan: Plan, logs: Path) -> None:
        self.args, self.stack, self.plan, self.logs = args, stack, plan, logs
        env = {**stack.env, **CHAOS_ENV, "WERKPLEK_DATA_DIR": str(stack.data)}
        self.fleet = fleet_for(args.replicas, env, logs)
        workers = list(dict.fromkeys(r.service.name for r in self.fleet.replicas if r.service.kind == "worker"))
        self.chaos = Chaos(self.fleet, schedule(workers, args.replicas), self.restart_broker, args.pause)
        self.monitor = Monitor(stack.env["WERKPLEK_KAFKA_BOOTSTRAP"])
        self.figures: dict[str, Any] = {"entries": plan.entries, "students": len(plan.students),
                                        "replicas": args.replicas, "pause_s": args.pause, "workers": workers,
                                        "cpu_count": os.cpu_count(), "load_average_before": _load()}
        self.load_max = 0.0

    async def restart_broker(self) -> None:
        """Stopped and started again; a start that fails (a busy machine) is tried again."""
        await asyncio.to_thread(self.stack.kafka, "down")
        await asyncio.sleep(BROKER_DOWN_S)
        for attempt in range(3):
            started = await asyncio.to_thread(self.stack.run, "kafka/kafka.sh", "up", timeout=BROKER_START_S)
            if started.returncode == 0:
                return
            print(f"the broker did not start (attempt {attempt + 1}): {started.stderr[-500:]}", file=sys.stderr)
        raise RuntimeError("the broker did not start again")

    async def execute(self) -> bool:
        dsn = self.stack.env["WERKPLEK_PG_DSN"]
        source, secret = f"{self.plan.tag}-tool", "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        pg = await connect(dsn)
        await add_secret(pg, source, secret)
        ensure_keys(self.stack.data)  # once, before the APIs start (each would make its own otherwise)
        self.fleet.start()
        placement, mentor = api_url(self.fleet, "placement_api"), api_url(self.fleet, "mentor_api")
        await wait_ready(placement, self.fleet.of("placement_api")[0])
        await wait_ready(mentor, self.fleet.of("mentor_api")[0])
        stop = asyncio.Event()
        supervisor = asyncio.create_task(self.fleet.supervise(stop))
        driver = Driver(self.plan, self.stack.data, placement, mentor, source, secret)
        driver.progress.listeners.append(lambda p: self.chaos.reached(p.entries_accepted / self.plan.entries))
        t0 = time.monotonic()
        sampler = asyncio.create_task(self._sample(dsn, stop))
        marks: dict[str, float] = {}

        async def work() -> bool:
            await driver.register()
            marks["registered"] = time.monotonic()
            await driver.run()
            marks["worked"] = time.monotonic()
            exact = await self._settle(pg)
            marks["settled"] = time.monotonic()
            await self.chaos.finish()
            return exact

        task = asyncio.create_task(work())

        def cancel() -> None:  # a fault that could not be done ends the run at once
            task.cancel()

        self.chaos.on_failure = cancel
        try:
            exact = await asyncio.wait_for(task, self.args.deadline)
        except (TimeoutError, asyncio.CancelledError):
            exact = False
            print(f"the run did not finish: {self.chaos.failed or 'deadline passed'}", file=sys.stderr)
        finally:
            stop.set()
            for failed in await asyncio.gather(supervisor, sampler, return_exceptions=True):
                if isinstance(failed, BaseException):  # a broken measurement must not pass unnoticed
                    print(f"a helper of the run failed: {failed!r}", file=sys.stderr)
                    self.figures.setdefault("helper_failures", []).append(repr(failed))
            await driver.close()
        verdict = await judge(pg, self.plan)
        self.figures.update(
            registry_s=_span(marks, "registered", t0), workload_s=_span(marks, "worked", marks.get("registered")),
            catch_up_s=_span(marks, "settled", marks.get("worked")) if exact else None, exact=exact,
            fault_failures=self.chaos.failed,
            students_exact=verdict.exact_totals, ledgers_exact=verdict.exact_ledger, mismatches=verdict.mismatches,
            outbox_left=await pg.fetchval(OUTBOX_LEFT), faults=self.chaos.figures(t0),
            progress={k: v for k, v in vars(driver.progress).items() if k != "listeners"},
            dlq_records=await self._dlq_records(), **self.monitor.figures())
        await pg.close()
        return verdict.exact

    async def _sample(self, dsn: str, stop: asyncio.Event) -> None:
        pg = await connect(dsn)  # its own session: the run's own queries go on meanwhile
        try:
            while not stop.is_set():
                await self.monitor.sample(pg)
                self.load_max = max(self.load_max, os.getloadavg()[0])
                try:
                    await asyncio.wait_for(stop.wait(), SAMPLE_EVERY_S)
                except TimeoutError:
                    pass
        finally:
            await pg.close()

    async def _settle(self, pg: asyncpg.Connection) -> bool:
        """Wait until the end state is exact and every outbox is drained (or `--settle` runs out)."""
        deadline = time.monotonic() + self.args.settle
        while time.monotonic() < deadline:
            if (await judge(pg, self.plan)).exact and not await pg.fetchval(OUTBOX_LEFT):
                return True
            await asyncio.sleep(1.0)
        return False

    async def _dlq_records(self) -> int | None:
        dlqs = [t.dlq for t in TOPICS if t.dlq]
        try:
            ends = await asyncio.wait_for(end_offsets(self.stack.env["WERKPLEK_KAFKA_BOOTSTRAP"], dlqs), 60)
        except Exception:  # the broker is gone (a restart that failed): nothing to count
            return None
        return sum(ends.values())

    def finish(self) -> dict[str, Any]:
        codes = self.fleet.stop()
        per_service: dict[str, dict[str, int]] = {}
        for r in self.fleet.replicas:
            counts = per_service.setdefault(r.service.name, {k: 0 for k in [*LOG_SIGNS, "restarts", "stop_code"]})
            for key, sign in LOG_SIGNS.items():
                counts[key] += r.count(sign)
            counts["restarts"] += r.restarts
            counts["stop_code"] = max(counts["stop_code"], abs(codes[r.name] or 0))
        self.figures.update(services=per_service, unexpected_exits={r.name: r.exits for r in self.fleet.replicas
                                                                    if r.exits},
                            load_average_after=_load(), load_average_max=round(self.load_max, 2),
                            logs=str(self.logs.relative_to(REPO_ROOT)))
        return self.figures


def write(out: Path, figures: dict[str, Any]) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(figures, indent=2, default=str))
    print(json.dumps(figures, indent=2, default=str))
    return out


async def main_async(args: argparse.Namespace) -> int:
    plan = make_plan(args.entries, args.students, args.seed, date.today())
    logs = REPO_ROOT / ".data" / "chaos-logs" / f"{time.strftime('%Y%m%d-%H%M%S')}-r{args.replicas}"
    with OwnStack.up("chaos") as stack:
        run = Run(args, stack, plan, logs)
        try:
            exact = await run.execute()
        finally:
            figures = run.finish()
    out = write(Path(args.out or REPO_ROOT / "bench" / "out" / f"chaos-{args.replicas}.json"), figures)
    print(f"{'EXACT' if exact else 'NOT EXACT'}: {figures.get('students_exact')}/{len(plan.students)} students, "
          f"catch-up {figures.get('catch_up_s')} s; figures in {out}, logs in {logs}")
    return 0 if exact else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="chaos", description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--entries", type=int, default=100_000)
    p.add_argument("--students", type=int, default=500)
    p.add_argument("--replicas", type=int, default=2, help="of every worker (the APIs run once)")
    p.add_argument("--pause", type=float, default=60.0, help="seconds a paused replica stays paused")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--settle", type=float, default=900.0, help="seconds to wait for the end state after the workload")
    p.add_argument("--deadline", type=float, default=5400.0, help="seconds the whole run may take")
    p.add_argument("--out", help="where to write the figures (default bench/out/chaos-<replicas>.json)")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main_async(parse())))
