"""A report worker (both stages, on the stream runtime) running in the test's event loop against the
real broker and database, scoped to the test's own institutions (the shared broker holds other tests'
events too), with consumer groups and an outbox producer of its own."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from werkplek_common.kafka import publish
from werkplek_common.runtime import Worker
from werkplek_common.settings import CommonSettings
from werkplek_events import DecodeError, Event, FundingReportPublished, FundingTrajectoriesPublished, decode
from werkplek_funding_reports.book import REPORTS, TRAJECTORIES
from werkplek_funding_reports.config import Settings
from werkplek_funding_reports.members import STUDENT_TOPICS
from werkplek_funding_reports.reports import TOPIC as MEMBERS_TOPIC
from werkplek_funding_reports.worker import build

from tests.support import eventually, read_until, start_groups_at_end


@dataclass
class Running:
    cfg: Settings
    worker: Worker
    task: asyncio.Task

    async def stop(self) -> None:
        self.worker.stop.set()
        assert await asyncio.wait_for(self.task, 30) == 0


StartWorker = Callable[..., Awaitable[Running]]


def worker_settings(stack: CommonSettings, institutions: Sequence[str], **kw: Any) -> Settings:
    tag = uuid.uuid4().hex[:10]
    base: dict[str, Any] = {"kafka_bootstrap": stack.kafka_bootstrap, "pg_dsn": stack.pg_dsn,
                            "consumer_group": f"test-reports-{tag}", "members_consumer_group": f"test-members-{tag}",
                            "outbox_producer": f"test-reports-{tag}",
                            "reports_institutions": frozenset(institutions), "metrics_port": 0,
                            "reports_snapshot_every": "never"}
    return Settings.model_validate({**base, **kw})


@pytest.fixture
async def start_worker(stack) -> AsyncIterator[StartWorker]:
    running: list[Running] = []

    async def start(institutions: Sequence[str], **kw: Any) -> Running:
        cfg = kw.pop("cfg", None)
        if cfg is None:
            cfg = worker_settings(stack, institutions, **kw)
            await commit_ends(stack.kafka_bootstrap, cfg)
        worker = build(cfg)
        run = Running(cfg, worker, asyncio.create_task(worker.run(signals=False)))
        running.append(run)

        def ready() -> bool:
            assert not run.task.done(), f"the worker ended: {run.task.result()}"
            return worker.health.report()[1]

        await eventually(ready, timeout=60, what="the report worker joined both groups")
        return run

    yield start
    for run in running:
        if not run.task.done():
            with contextlib.suppress(Exception):
                await run.stop()


async def commit_ends(bootstrap: str, cfg: Settings) -> None:
    """A fresh test group would handle (and send to the DLQ) every record already on the shared broker,
    other tests' included; start it where a long-running worker would be instead."""
    await start_groups_at_end(bootstrap, [cfg.members_consumer_group], STUDENT_TOPICS)
    await start_groups_at_end(bootstrap, [cfg.consumer_group], [MEMBERS_TOPIC])


async def send(producer, events: Sequence[Event]) -> None:
    await publish(producer, events, source="/tests/funding-reports")


def reports_of(records, report_id: str) -> list[FundingReportPublished]:
    out = []
    for r in records:
        if r.key != report_id.encode():
            continue
        with contextlib.suppress(DecodeError):
            out.append(decode(r.topic, r.value, r.headers))
    return out  # type: ignore[return-value]


async def wait_for_report(bootstrap: str, report_id: str, check: Callable[[FundingReportPublished], bool],
                          timeout: float = 20.0) -> FundingReportPublished:
    """The first version of the report (in topic order) for which `check` holds."""
    found: list[FundingReportPublished] = []

    def done(records) -> bool:
        found[:] = [r for r in reports_of(records, report_id) if check(r)]
        return bool(found)

    await read_until(bootstrap, [REPORTS], done, timeout=timeout)
    return found[0]


async def wait_for_trajectories(bootstrap: str, report_id: str, check: Callable[[FundingTrajectoriesPublished], bool],
                                timeout: float = 20.0) -> FundingTrajectoriesPublished:
    """The first version of a report's trajectory rows on the restricted topic for which `check` holds."""
    found: list[FundingTrajectoriesPublished] = []

    def done(records) -> bool:
        found[:] = [r for r in reports_of(records, report_id) if check(r)]  # type: ignore[arg-type,misc]
        return bool(found)

    await read_until(bootstrap, [TRAJECTORIES], done, timeout=timeout)
    return found[0]


async def published_while_running(run: Running, bootstrap: str, report_id: str,
                                  check: Callable[[FundingReportPublished], bool]) -> FundingReportPublished:
    """`wait_for_report`, failing with the worker's own error as soon as the worker ends."""
    waiting = asyncio.create_task(wait_for_report(bootstrap, report_id, check))
    task = run.task
    await asyncio.wait({waiting, task}, return_when=asyncio.FIRST_COMPLETED)
    if task.done() and not waiting.done():
        waiting.cancel()
        task.result()  # raises what stopped the worker
        raise AssertionError("the worker stopped before publishing")
    return waiting.result()


def cell(report: FundingReportPublished, section: str, row: str, column: str):
    sec = next(s for s in report.sections if s.name == section)
    return next(r for r in sec.rows if r.label == row).cells[column]


async def run_cli(*args: str, bootstrap: str) -> tuple[int, str, str]:
    env = {**os.environ, "WERKPLEK_KAFKA_BOOTSTRAP": bootstrap}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "werkplek_funding_reports.cli", *args, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode("utf-8"), err.decode("utf-8")
