"""Issue 11, in a real browser: the student app's scenarios (apps/student/tests/browser, Playwright
on Debian's Chromium at 360×640, node's test runner) against this session's services, Keycloak and
the nginx proxy. This test makes the cohort (one demo student per scenario, in the registry and in
Keycloak with the same `sub`), runs the browser suite, and fails with its output if any scenario
fails (apps/student/tests/browser/app.test.mjs: the issue's scenarios; failure.test.mjs: token
expiry offline, IdP down, a full phone, silent renewal, a clock far off). Screenshots of every
screen, Dutch and English, go to .data/test/screenshots (git-ignored)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date, timedelta

import asyncpg
import httpx
import pytest
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.settings import REPO_ROOT

from tests.e2e.app_stack import PASSWORD, AppStackSettings, add_students, keycloak_admin_password, proxy
from tests.e2e.flow import Coordinator, Placement, bearer, log_hours
from tests.e2e.stack import Stack
from tests.support import observer_dsn

BROWSER_TIMEOUT_S = 900


@pytest.fixture
def app_proxy(e2e: Stack) -> Iterator[AppStackSettings]:
    """The proxy in front of this session's placement and mentor APIs, serving the built app."""
    cfg = AppStackSettings()
    assert (REPO_ROOT / "apps/student/dist/index.html").exists(), "build the app first: bash infra/app.sh build"
    proxy("up", e2e.placement_url, e2e.mentor_url)
    try:
        yield cfg
    finally:
        proxy("down", e2e.placement_url, e2e.mentor_url)


YESTERDAY = date.today() - timedelta(days=1)


async def existing_entry(e2e: Stack, client: httpx.AsyncClient, student: str, placement: str) -> None:
    """An entry of yesterday logged from another device, 09:00–12:00: the app's 11:00–13:00 overlaps it.
    Yesterday, not today: a shift of today may not have ended yet when the suite runs (after midnight
    it would be refused as ending in the future)."""
    entry = {"entry_id": str(uuid7()), "placement_id": placement, "work_date": YESTERDAY.isoformat(),
             "start_time": "09:00", "end_time": "12:00", "activity": "work", "description": "morning shift"}
    r = await client.post(f"{e2e.placement_url}/v1/me/entries", json=entry,
                          headers={**bearer(e2e, Role.STUDENT, student), "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text


async def cohort(e2e: Stack, cfg: AppStackSettings) -> dict[str, dict[str, object]]:
    tag = e2e.tag
    async with httpx.AsyncClient(timeout=30) as client:
        coord = Coordinator(e2e, client)
        programme, mentor = f"prog-app-{tag}", await coord.workplace_with_mentor()
        await coord.programme(programme, level="graduaat", ects=90, hours_per_ects=30, phases=2)
        students: dict[str, dict[str, object]] = {}
        for key in "abcdefghi":
            sid = f"stu-app-{key}-{tag}"
            placement = await coord.enrol_and_place(programme, mentor, student=sid)
            students[key] = {"student_id": sid, "username": sid, "placement_id": placement.placement_id,
                             "mentor_id": mentor.mentor_id}
        await existing_entry(e2e, client, str(students["b"]["student_id"]), str(students["b"]["placement_id"]))
        c = students["c"]
        placed = Placement(str(c["student_id"]), str(c["placement_id"]), mentor.mentor_id)
        entries = await log_hours(e2e, client, placed, [420, 360])
        c.update(entry_ids=entries, minutes=780)
        i = students["i"]  # the one the mentor rejects
        i.update(entry_ids=await log_hours(e2e, client, Placement(str(i["student_id"]), str(i["placement_id"]),
                                                                 mentor.mentor_id), [240]))
    students["b"]["past_date"] = YESTERDAY.isoformat()
    students["d"]["future_date"] = (date.today() + timedelta(days=3)).isoformat()
    await asyncio.to_thread(add_students, cfg, [(str(s["student_id"]), f"Student {k.upper()}")
                                                for k, s in students.items()], e2e.institution)
    return students


async def test_student_app_in_a_real_browser(e2e: Stack, app_proxy: AppStackSettings, pg: asyncpg.Connection) -> None:
    assert shutil.which("chromium"), "Debian's chromium is missing: bash infra/app.sh browser installs it"
    assert shutil.which("psql"), "psql is missing (Debian's postgresql-client)"
    students = await cohort(e2e, app_proxy)
    psql = observer_dsn(e2e, "placement_logging", "hour_accounting")  # the tests read entries and shares
    config = {"app_url": app_proxy.app_url, "idp_url": app_proxy.idp_url, "password": PASSWORD,
              "pg_dsn": psql, "webhook_source": e2e.source_id, "webhook_secret": e2e.source_secret,
              "screenshots": str(e2e.data_dir / "screenshots"), "students": students,
              "chromium": shutil.which("chromium"),
              "kc_admin_password": keycloak_admin_password(app_proxy)}
    env = {**os.environ, "WERKPLEK_BROWSER_TEST": json.dumps(config)}
    done = await asyncio.to_thread(
        subprocess.run, ["node", "--test", "--test-concurrency=1", "--test-reporter=spec",
                         *([f"--test-name-pattern={app_proxy.browser_only}"] if app_proxy.browser_only else []),
                         "tests/browser/"],
        cwd=REPO_ROOT / "apps/student", env=env, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S)
    print(done.stdout[-20000:])
    assert done.returncode == 0, f"browser scenarios failed:\n{done.stdout[-15000:]}\n{done.stderr[-5000:]}"
    # the ledger as the scenarios left it: nothing logged twice for any of these students
    dupes = await pg.fetchval("SELECT count(*) FROM (SELECT entry_id FROM pl_entry_revision WHERE student_id = ANY($1)"
                              " AND kind = 'logged' GROUP BY entry_id HAVING count(*) > 1) d",
                              [str(s["student_id"]) for s in students.values()])
    assert dupes == 0
