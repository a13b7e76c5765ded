"""The example consumer of docs/reports.md, run as funding staff would run it, against the real broker:
it prints the latest version of a programme's report."""

from __future__ import annotations

import asyncio
import sys
import uuid

from werkplek_common.settings import REPO_ROOT

from tests.unit.funding_reports.story import Story

from .conftest import cell, send, wait_for_report

EXAMPLE = REPO_ROOT / "docs" / "examples" / "latest_report.py"


async def run_example(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, str(EXAMPLE), *args, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_the_example_prints_the_latest_version(stack, producer, start_worker):
    story = Story()
    await start_worker([story.inst])
    await send(producer, [story.programme(), *(story.enrol(f"{story.prog}-s{n}") for n in range(6))])
    rid = f"{story.prog}:{story.year}"
    first = await wait_for_report(stack.kafka_bootstrap, rid,
                                  lambda r: cell(r, "target_groups", "all", "students").value == 6)
    await send(producer, [story.enrol(f"{story.prog}-s6")])
    latest = await wait_for_report(stack.kafka_bootstrap, rid, lambda r: r.version > first.version)

    code, out, err = await run_example("--bootstrap", stack.kafka_bootstrap, "--report", rid)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"{rid} version {latest.version} generated ")
    assert "[target_groups]" in lines and "  all: students=7, dual_track=x" in lines  # x: suppressed (zero)
    assert "  regular: students=x, dual_track=x" in lines  # 7 regular of 7 would say "0 others"
    code, out, _ = await run_example("--bootstrap", stack.kafka_bootstrap, "--report",
                                     f"nope-{uuid.uuid4().hex[:6]}:2026-2027")
    assert code == 0 and out.startswith("no report nope-")
