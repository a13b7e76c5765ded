"""A report worker running in the test's event loop against the real broker, scoped to the test's own
institutions (the shared broker holds other tests' events too)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import pytest
from werkplek_common.kafka import publish
from werkplek_events import DecodeError, Event, FundingReportPublished, decode
from werkplek_funding_reports.book import REPORTS
from werkplek_funding_reports.config import Settings
from werkplek_funding_reports.worker import INPUT_TOPICS, ReportWorker

from tests.support import read_until, start_groups_at_end

StartWorker = Callable[..., Awaitable[ReportWorker]]


def worker_settings(bootstrap: str, institutions: Sequence[str], **kw: Any) -> Settings:
    base: dict[str, Any] = {"kafka_bootstrap": bootstrap, "reports_group_id": f"test-reports-{uuid.uuid4()}",
                            "reports_institutions": frozenset(institutions), "reports_metrics_port": 0,
                            "reports_snapshot_every": "never"}
    return Settings.model_validate({**base, **kw})


@pytest.fixture
async def start_worker(stack, producer) -> AsyncIterator[StartWorker]:
    running: list[tuple[ReportWorker, asyncio.Task]] = []

    async def start(institutions: Sequence[str], **kw: Any) -> ReportWorker:
        cfg = kw.pop("cfg", None)
        if cfg is None:
            cfg = worker_settings(stack.kafka_bootstrap, institutions, **kw)
            await commit_ends(stack.kafka_bootstrap, cfg.reports_group_id)
        worker = ReportWorker(cfg, producer)
        task = asyncio.create_task(worker.run())
        worker.task = task  # type: ignore[attr-defined]  # for `published_while_running`
        running.append((worker, task))
        waiter = asyncio.create_task(worker.caught_up.wait())
        done, _ = await asyncio.wait({waiter, task}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # the worker died: show why
        assert waiter in done, "worker did not catch up within 60 s"
        return worker

    yield start
    for worker, task in running:
        worker.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)


async def commit_ends(bootstrap: str, group_id: str) -> None:
    """A fresh test group would re-send every malformed record already on the shared broker (other
    tests' included) to the DLQ; start it where a long-running worker would be instead."""
    await start_groups_at_end(bootstrap, [group_id], INPUT_TOPICS)


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


async def published_while_running(worker: ReportWorker, bootstrap: str, report_id: str,
                                  check: Callable[[FundingReportPublished], bool]) -> FundingReportPublished:
    """`wait_for_report`, failing with the worker's own error as soon as the worker dies."""
    waiting = asyncio.create_task(wait_for_report(bootstrap, report_id, check))
    task: asyncio.Task[None] = worker.task  # type: ignore[attr-defined]
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
