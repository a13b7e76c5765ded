"""Every worker started while the broker is down: each stays up, says it is not ready (/readyz 503,
`werkplek_consumer_ready` 0 for every consumer) for as long as the broker is away, waits with capped
backoff without filling its log, and joins once the broker starts 30 s later; an entry posted then
reaches the student's share. The same after the broker is lost mid-run (kill -9) and comes back. On a
stack of its own: the shared one is left alone."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import ensure_keys

from tests.e2e.flow import Coordinator, Placement, bearer, log_hours, new_id, share_when
from tests.e2e.processes import ServiceProcess, stop_all, wait_ready
from tests.e2e.stack import Stack, free_port, http_ready, new_secret
from tests.integration.own_stack import OwnStack
from tests.support import dsn_of, eventually

OUTAGE_S = 30.0
QUIET_LINES = 25  # a worker's whole log over a 30 s outage (it used to write thousands of lines)
WORKERS = {  # name -> (python -m arguments, the environment variable of its metrics port)
    "placement_worker": (["werkplek_placement_logging", "worker"], "WERKPLEK_METRICS_PORT"),
    "hour_accounting": (["werkplek_hour_accounting", "worker"], "WERKPLEK_METRICS_PORT"),
    "mentor_worker": (["werkplek_mentor_feedback", "worker"], "WERKPLEK_METRICS_PORT"),
    "outcome_progress": (["werkplek_mentor_feedback", "progress"], "WERKPLEK_METRICS_PORT"),
    "funding_reports": (["werkplek_funding_reports", "worker"], "WERKPLEK_METRICS_PORT"),
}


@pytest.fixture(scope="module")
def own() -> Iterator[OwnStack]:
    with OwnStack.up("coldstart") as stack:
        yield stack


def processes(own: OwnStack, log_dir: Path) -> tuple[list[ServiceProcess], dict[str, int], str]:
    common = {**own.env, "WERKPLEK_DATA_DIR": str(own.data), "WERKPLEK_LOG_JSON": "false",
              "WERKPLEK_LOG_LEVEL": "WARNING", "WERKPLEK_METRICS_PORT": "0", "WERKPLEK_MENTOR_DEV_SOURCES": "[]",
              "WERKPLEK_ACCOUNTING_SESSION_TIMEOUT_S": "6"}
    api_port = free_port()
    procs = [ServiceProcess("placement_api", ["werkplek_placement_logging", "api"],
                            {**common, "WERKPLEK_API_PORT": str(api_port)},
                            http_ready(f"http://127.0.0.1:{api_port}"), log_dir / "placement_api.log")]
    ports = {name: free_port() for name in WORKERS}
    for name, (argv, port_var) in WORKERS.items():
        procs.append(ServiceProcess(name, argv, {**common, port_var: str(ports[name])},
                                    http_ready(f"http://127.0.0.1:{ports[name]}"), log_dir / f"{name}.log"))
    return procs, ports, f"http://127.0.0.1:{api_port}"


async def log_day(stack: Stack, client: httpx.AsyncClient, placement: Placement, *, days_ago: int,
                  minutes: int) -> None:
    entry = {"entry_id": str(uuid7()), "placement_id": placement.placement_id, "activity": "work",
             "work_date": (date.today() - timedelta(days=days_ago)).isoformat(), "duration_minutes": minutes}
    r = await client.post(f"{stack.placement_url}/v1/me/entries", json=entry, headers={
        **bearer(stack, Role.STUDENT, placement.student_id), "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text


def start_broker(own: OwnStack) -> None:
    """The broker's own start is not under test: on a machine this busy it may miss the script's
    90 s deadline once, so it gets a second try."""
    first = own.run("kafka/kafka.sh", "up")
    if first.returncode != 0:
        own.kafka("up")


def readiness(port: int) -> int | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code
    except httpx.TransportError:
        return None


def stays_not_ready(procs: list[ServiceProcess], ports: dict[str, int], seconds: float) -> None:
    """Polls for `seconds`: every worker alive and answering 503 (once it listens) all along."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for p in procs:
            assert p.exited() is None, f"{p.name} exited without the broker:\n{p.tail()}"
            if p.name in ports:
                assert readiness(ports[p.name]) in (503, None), f"{p.name} says ready without its dependency"
        time.sleep(1)
    answers = {name: readiness(port) for name, port in ports.items()}
    assert set(answers.values()) == {503}, f"readiness after {seconds:.0f} s without its dependency: {answers}"
    for name, port in ports.items():  # and says so in its metrics: every consumer's ready gauge at 0
        gauges = [line for line in httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text.splitlines()
                  if line.startswith("werkplek_consumer_ready{")]
        assert gauges and all(line.endswith(" 0.0") for line in gauges), (name, gauges)


async def not_ready_quietly(procs: list[ServiceProcess], ports: dict[str, int], what: str) -> None:
    """Every process stays up and answers 503 on /readyz, through the whole outage, without filling its log."""
    def all_say_not_ready() -> bool:
        assert all(p.exited() is None for p in procs), [p.tail() for p in procs if p.exited() is not None]
        return all(readiness(port) == 503 for port in ports.values())

    await eventually(all_say_not_ready, timeout=120, what=what)
    stays_not_ready(procs, ports, OUTAGE_S)
    lines = {p.name: len(p.log_text().splitlines()) for p in procs if p.name in ports}
    assert max(lines.values()) <= QUIET_LINES, lines


def stack_of(own: OwnStack, api: str, ports: dict[str, int], name: str) -> Stack:
    return Stack(name, api, "", f"inst-{new_id(name.replace('-', ''))}", "tool", new_secret(), own.data,
                 own.env["WERKPLEK_KAFKA_BOOTSTRAP"], own.env["WERKPLEK_PG_DSN"], {}, ports)


async def placed_student(stack: Stack, client: httpx.AsyncClient) -> Placement:
    """A graduaat programme, a workplace with its mentor, one student enrolled and placed there."""
    coord = Coordinator(stack, client)
    programme, mentor = new_id("prog"), await coord.workplace_with_mentor()
    await coord.programme(programme, level="graduaat", ects=90, hours_per_ects=30, phases=2)
    return await coord.enrol_and_place(programme, mentor)


async def test_workers_wait_for_the_broker_at_start_and_after_losing_it(own: OwnStack, tmp_path: Path) -> None:
    own.run("kafka/kafka.sh", "down")
    ensure_keys(own.data)
    procs, ports, api = processes(own, tmp_path)
    for p in procs:
        p.start()
    try:
        await not_ready_quietly(procs, ports, "every worker up and answering 503 on /readyz")
        start_broker(own)
        await wait_ready(procs, 120)
        stack = stack_of(own, api, ports, "cold")
        pg = await asyncpg.connect(dsn_of(stack, "hour_accounting"))  # the share
        async with httpx.AsyncClient(timeout=10) as client:
            placement = await placed_student(stack, client)
            await log_hours(stack, client, placement, [420])
            await share_when(stack, pg, placement.student_id, lambda d: d["pending_minutes"] == 420, timeout=60,
                             what="the entry posted after the cold start in the share")

            own.kill_kafka()  # lost mid-run

            async def none_ready() -> bool:
                return all(readiness(port) == 503 for port in ports.values())

            await eventually(none_ready, timeout=60, what="every worker not ready without its broker")
            start_broker(own)
            await wait_ready(procs, 120)
            await log_day(stack, client, placement, days_ago=2, minutes=300)
            await share_when(stack, pg, placement.student_id, lambda d: d["pending_minutes"] == 720, timeout=60,
                             what="an entry posted after the broker came back in the share")
        await pg.close()
        for p in procs:
            if p.name in ports:
                text = p.log_text()
                assert text.count("kafka unreachable") <= 2 and text.count("kafka reachable again") >= 1, p.tail()
    finally:
        codes = stop_all(procs)
    assert all(code is not None for code in codes.values()), codes


async def test_workers_wait_for_the_database_at_start(own: OwnStack, tmp_path: Path) -> None:
    """Issue 17: every worker started while PostgreSQL is down stays up, says it is not ready, waits
    with backoff without filling its log, and joins once the database starts; an entry posted then
    reaches the share. (The API is started after the database: it is not a worker.)"""
    start_broker(own)
    ensure_keys(own.data)
    assert own.run("postgres/postgres.sh", "down").returncode == 0
    procs, ports, api = processes(own, tmp_path)
    api_proc, workers = procs[0], procs[1:]
    for p in workers:
        p.start()
    try:
        await not_ready_quietly(workers, ports, "every worker up and answering 503 without its database")
        up = own.run("postgres/postgres.sh", "up")
        assert up.returncode == 0, up.stderr
        await wait_ready(workers, 120)
        api_proc.start()
        await wait_ready([api_proc], 120)
        stack = stack_of(own, api, ports, "cold-db")
        pg = await asyncpg.connect(dsn_of(stack, "hour_accounting"))  # the share
        async with httpx.AsyncClient(timeout=10) as client:
            placement = await placed_student(stack, client)
            await log_hours(stack, client, placement, [240])
            await share_when(stack, pg, placement.student_id, lambda d: d["pending_minutes"] == 240, timeout=60,
                             what="the entry posted after the database came in the share")
        await pg.close()
        for p in workers:
            text = p.log_text()
            assert text.count("postgresql unreachable") <= 2 and "postgresql reachable again" in text, p.tail()
    finally:
        codes = stop_all([p for p in procs if p.proc is not None])
    assert all(code is not None for code in codes.values()), codes
