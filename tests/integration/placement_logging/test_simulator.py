"""The simulator builds a small cohort through a running API and logs hours like phones do."""

from __future__ import annotations

import asyncio
import os
import sys

from werkplek_common.settings import REPO_ROOT


async def test_small_simulation_logs_hours(server, pg):
    port = server.rsplit(":", 1)[1]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "werkplek_placement_logging.simulate", "--small", "--once", "--base-url", server,
        "--seed", port, cwd=REPO_ROOT, env={**os.environ, "WERKPLEK_LOG_JSON": "false"},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert "simulator done" in err.decode()
    assert await pg.fetchval("SELECT count(*) FROM pl_placement WHERE id LIKE 'inst-1-stu-%'") >= 20
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id LIKE 'inst-1-stu-%'") > 20
