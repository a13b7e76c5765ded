"""Fixtures of placement logging's integration tests: the API in-process (real PostgreSQL), tokens of
the dev identity provider, and a cohort made through the API. The outbox producer name is unique per
session, so these tests neither publish others' rows nor leave a backlog for a shared relay."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta

import asyncpg
import httpx
import pytest
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_common.settings import REPO_ROOT
from werkplek_placement_logging.app import build
from werkplek_placement_logging.config import Settings
from werkplek_placement_logging.decisions import apply_decisions

from tests.support import wait_until


@pytest.fixture(scope="session")
def pl_settings(stack) -> Settings:
    return Settings(outbox_producer=f"pl-test-{uuid.uuid4().hex[:8]}", backlog_refresh_s=60)


@pytest.fixture(scope="session")
async def api(pl_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = build(pl_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://pl.test") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture(scope="session", autouse=True)
async def _drop_staged_events(pl_settings: Settings) -> AsyncIterator[None]:
    """Nobody relays this session's producer on the shared database: remove its rows at the end."""
    yield
    conn = await asyncpg.connect(pl_settings.service_dsn)
    await conn.execute("DELETE FROM outbox WHERE producer = $1", pl_settings.outbox_producer)
    await conn.close()


def token(settings: Settings, role: Role, sub: str, institution: str | None = None, ttl_s: int = 3600) -> str:
    return mint(settings.data_dir, role=role, sub=sub, institution=institution, ttl_s=ttl_s)


def bearer(settings: Settings, role: Role, sub: str, institution: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(settings, role, sub, institution)}"}


@dataclass
class Cohort:
    institution: str
    coordinator: dict[str, str]
    programme: str
    workplace: str
    mentor: str
    student: str
    student_auth: dict[str, str]
    placement: str
    start: date
    end: date


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def entry(placement: str, day: date, **over: object) -> dict[str, object]:
    doc: dict[str, object] = {"entry_id": str(uuid7()), "placement_id": placement, "work_date": day.isoformat(),
                              "duration_minutes": 60, "activity": "work", "description": "ward round"}
    doc.update(over)
    return doc


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


async def make_cohort(api: httpx.AsyncClient, settings: Settings, institution: str | None = None,
                      ended: bool = False) -> Cohort:
    inst = institution or new_id("inst")
    coord = bearer(settings, Role.COORDINATOR, new_id("coord"), inst)
    prog, wp, mentor, student, pl = (new_id(p) for p in ("prog", "wp", "mentor", "stu", "pl"))
    today = date.today()
    start, end = today - timedelta(days=60), today + timedelta(days=60)
    steps = [
        (f"/v1/programmes/{prog}", {"name": "Graduaat Verpleegkunde", "level": "graduaat", "ects": 120, "phases": 2}),
        (f"/v1/enrolments/{student}/2026-2027", {"programme_id": prog, "phase": 1, "status": "regular",
                                                  "age_band": "under_21", "dual_track": True}),
        (f"/v1/workplaces/{wp}", {"name": "AZ Sint-Jan", "sector": "health", "environment": "authentic"}),
        (f"/v1/mentors/{mentor}", {"workplace_id": wp, "trained": True, "webhook_source": "sim-tool-1"}),
        (f"/v1/placements/{pl}", placement_doc(student, wp, mentor, start, end)),
    ]
    for path, body in steps:
        r = await api.put(path, json=body, headers=coord)
        assert r.status_code == 201, (path, r.text)
    return Cohort(inst, coord, prog, wp, mentor, student, bearer(settings, Role.STUDENT, student, inst), pl, start,
                  end)


def placement_doc(student: str, wp: str, mentor: str, start: date, end: date) -> dict[str, object]:
    return {"student_id": student, "academic_year": "2026-2027", "workplace_id": wp, "mentor_id": mentor,
            "start_date": start.isoformat(), "end_date": end.isoformat(), "planned_minutes": 600 * 60,
            "form": "dual",
            "continuum": {"learning_environment": 5, "extent": 4, "engagement": 4, "transfer": 3,
                          "integration": 4, "target_group": 2},
            "learning_agreement": {"outcomes": [
                {"outcome_id": "LO1", "title": "Basic care", "kind": "skill", "acquired_at": "workplace"},
                {"outcome_id": "LO2", "title": "Anatomy", "kind": "knowledge", "acquired_at": "institution"},
                {"outcome_id": "LO3", "title": "Professional attitude", "kind": "attitude",
                 "acquired_at": "workplace"}],
                "signed_by_institution_at": "2026-09-01T10:00:00Z", "signed_by_workplace_at": "2026-09-02T10:00:00Z"}}


@pytest.fixture
async def cohort(api: httpx.AsyncClient, pl_settings: Settings) -> Cohort:
    return await make_cohort(api, pl_settings)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(pl_settings):
    port = _free_port()
    env = {**os.environ, "WERKPLEK_API_PORT": str(port), "WERKPLEK_OUTBOX_PRODUCER": pl_settings.outbox_producer,
           "WERKPLEK_LOG_LEVEL": "WARNING"}
    proc = subprocess.Popen([sys.executable, "-m", "werkplek_placement_logging", "api"], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "api exited"
        return False

    wait_until(ready, timeout=30, what="api ready")
    yield base
    proc.terminate()
    proc.wait(timeout=30)




async def apply_decision(pool: asyncpg.Pool, event: object) -> str:
    """One decision applied in a transaction of its own, as the runtime's batch applies many."""
    async with pool.acquire() as conn, conn.transaction():
        [effect] = await apply_decisions(conn, [event])  # type: ignore[list-item]
    return effect
