"""The simulator builds a small cohort through a running API and logs hours like phones do."""

from __future__ import annotations

import asyncio
import os
import sys

from werkplek_common.settings import REPO_ROOT


async def _simulate(server: str) -> str:
    port = server.rsplit(":", 1)[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "werkplek_placement_logging.simulate", "--small", "--once", "--base-url", server,
        "--seed", port, "--drop-out", "0.2", cwd=REPO_ROOT, env={**os.environ, "WERKPLEK_LOG_JSON": "false"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert "simulator done" in err.decode()
    return err.decode()


async def test_small_simulation_logs_hours_and_some_students_drop_out(server, pg):
    await _simulate(server)
    assert await pg.fetchval("SELECT count(*) FROM pl_placement WHERE id LIKE 'inst-1-stu-%'") >= 20
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id LIKE 'inst-1-stu-%'") > 20
    ended = await pg.fetchval("SELECT count(*) FROM pl_enrolment WHERE id LIKE 'inst-1-stu-%'"
                              " AND body->>'end_reason' = 'dropped_out'")
    assert 0 < ended < 20
    await _simulate(server)  # a second run (make run again) meets the ended enrolments and goes on
    assert await pg.fetchval("SELECT count(*) FROM pl_enrolment WHERE id LIKE 'inst-1-stu-%'"
                             " AND body->>'end_reason' = 'dropped_out'") == ended
