"""What the people around the system do, over HTTP only: a coordinator registers a cohort through the
placement API, students log hours from their phones, and a mentor's tool posts signed Standard
Webhooks to mentor feedback. Plus reading hour accounting's read model."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import mint

from tests.e2e.stack import Stack, backlog
from tests.support import eventually

RETRY_S = 0.2  # between webhook attempts while mentor feedback has not seen the entries yet


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def academic_year(today: date) -> str:
    first = today.year if today.month >= 9 else today.year - 1
    return f"{first}-{first + 1}"


def bearer(stack: Stack, role: Role, sub: str, institution: str | None = None) -> dict[str, str]:
    """A token of the session's institution for its students and coordinators, unless told otherwise."""
    if institution is None and role in (Role.STUDENT, Role.COORDINATOR):
        institution = stack.institution
    return {"Authorization": f"Bearer {mint(stack.data_dir, role=role, sub=sub, institution=institution)}"}


@dataclass(frozen=True)
class Mentor:
    mentor_id: str
    workplace_id: str


@dataclass(frozen=True)
class Placement:
    student_id: str
    placement_id: str
    mentor_id: str


class Coordinator:
    """A coordinator of the session's institution, registering through the placement API."""

    def __init__(self, stack: Stack, client: httpx.AsyncClient) -> None:
        self.stack, self.client = stack, client
        self.auth = bearer(stack, Role.COORDINATOR, new_id("coord"), stack.institution)
        self.year = academic_year(date.today())

    async def put(self, path: str, body: dict[str, Any]) -> None:
        r = await self.client.put(f"{self.stack.placement_url}/v1{path}", json=body, headers=self.auth)
        assert r.status_code == 201, (path, r.status_code, r.text)

    async def programme(self, programme_id: str, **terms: Any) -> None:
        await self.put(f"/programmes/{programme_id}", {"name": f"Programme {programme_id}", **terms})

    async def workplace_with_mentor(self) -> Mentor:
        """A workplace and its trained mentor, whose tool is the session's webhook source."""
        workplace, mentor = new_id("wp"), new_id("mentor")
        await self.put(f"/workplaces/{workplace}", {"name": "AZ Groeninge", "sector": "health",
                                                   "environment": "authentic"})
        await self.put(f"/mentors/{mentor}", {"workplace_id": workplace, "trained": True,
                                              "webhook_source": self.stack.source_id})
        return Mentor(mentor, workplace)

    async def enrol_and_place(self, programme_id: str, mentor: Mentor, student: str | None = None) -> Placement:
        student, placement = student or new_id("stu"), new_id("pl")
        start = date.today() - timedelta(days=30)
        await self.put(f"/enrolments/{student}/{self.year}", {
            "programme_id": programme_id, "phase": 1, "status": "regular", "age_band": "21_to_25",
            "dual_track": False})
        await self.put(f"/placements/{placement}", {
            "student_id": student, "academic_year": self.year, "workplace_id": mentor.workplace_id,
            "mentor_id": mentor.mentor_id,
            "start_date": start.isoformat(), "end_date": (start + timedelta(days=120)).isoformat(),
            "planned_minutes": 300 * 60, "form": "internship",
            "continuum": {"learning_environment": 5, "extent": 3, "engagement": 4, "transfer": 4,
                          "integration": 3, "target_group": 2},
            "learning_agreement": {"outcomes": [
                {"outcome_id": "LO1", "title": "Patient care", "kind": "skill", "acquired_at": "workplace"},
                {"outcome_id": "LO2", "title": "Pharmacology", "kind": "knowledge", "acquired_at": "institution"}],
                "signed_by_institution_at": f"{start}T09:00:00Z", "signed_by_workplace_at": f"{start}T10:00:00Z"}})
        return Placement(student, placement, mentor.mentor_id)


async def log_hours(stack: Stack, client: httpx.AsyncClient, placement: Placement,
                    minutes_per_day: list[int]) -> list[str]:
    """The student's phone syncs one entry per past day (yesterday, the day before, ...); entry ids."""
    auth = bearer(stack, Role.STUDENT, placement.student_id)
    ids = []
    for days_ago, minutes in enumerate(minutes_per_day, start=1):
        entry_id = str(uuid7())
        entry = {"entry_id": entry_id, "placement_id": placement.placement_id,
                 "work_date": (date.today() - timedelta(days=days_ago)).isoformat(), "duration_minutes": minutes,
                 "activity": "work", "description": "day shift"}
        r = await client.post(f"{stack.placement_url}/v1/me/entries", json=entry,
                              headers={**auth, "Idempotency-Key": str(uuid.uuid4())})
        assert r.status_code == 201, r.text
        ids.append(entry_id)
    return ids


def signed(stack: Stack, webhook_id: str, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers, signed by the `standardwebhooks` package as a mentor's tool would."""
    now = datetime.now(UTC)
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": Webhook(stack.source_secret).sign(webhook_id, now, body.decode()),
            "content-type": "application/json"}


async def confirm_hours(stack: Stack, client: httpx.AsyncClient, mentor_id: str, entry_ids: list[str], *,
                        timeout: float = 30.0) -> httpx.Response:
    """The mentor's tool confirms entries (see `post_webhook`)."""
    return await post_webhook(stack, client, {
        "type": "hours.confirmed", "timestamp": datetime.now(UTC).isoformat(),
        "data": {"mentor_id": mentor_id, "entries": [{"entry_id": e} for e in entry_ids]}}, timeout=timeout)


async def post_webhook(stack: Stack, client: httpx.AsyncClient, message: dict[str, Any], *,
                       timeout: float = 30.0) -> httpx.Response:
    """The mentor's tool posts a message. Until mentor feedback has consumed the mentor, placement and
    entries it refuses (403 unknown binding / 422 unknown entry, neither remembered): the tool retries
    the same message, freshly signed, until it is accepted or the deadline passes."""
    webhook_id = f"msg_{uuid.uuid4().hex}"
    body = json.dumps(message).encode()
    deadline = time.monotonic() + timeout
    while True:
        r = await client.post(f"{stack.mentor_url}/webhooks/{stack.source_id}", content=body,
                              headers=signed(stack, webhook_id, body))
        if r.status_code not in (403, 422):
            return r
        if time.monotonic() > deadline:
            behind = await backlog(stack.bootstrap, stack.mentor_group)
            raise AssertionError(f"webhook still refused after {timeout}s ({r.status_code} {r.text}); mentor "
                                 f"feedback's consumer has {behind} records on the broker still to handle")
        await asyncio.sleep(RETRY_S)


async def share_of(pg: asyncpg.Connection, student_id: str) -> dict[str, Any] | None:
    """The student's row in hour accounting's read model: its ShareUpdated document."""
    body = await pg.fetchval("SELECT body::text FROM share_read_model WHERE student_id = $1", student_id)
    return None if body is None else dict(json.loads(body))


async def share_when(stack: Stack, pg: asyncpg.Connection, student_id: str,
                     check: Callable[[dict[str, Any]], bool], *, timeout: float, what: str) -> dict[str, Any]:
    """Poll the read model until the student's document passes `check`; show the last one on failure."""
    last: list[dict[str, Any] | None] = [None]

    async def passes() -> bool:
        last[0] = await share_of(pg, student_id)
        return last[0] is not None and check(last[0])

    try:
        await eventually(passes, timeout=timeout, what=what)
    except AssertionError as exc:
        behind = await backlog(stack.bootstrap, stack.accounting_group)
        raise AssertionError(f"{exc}; last read-model document: {last[0]}; hour accounting has about {behind} "
                             "records on the broker still to handle") from None
    assert last[0] is not None
    return last[0]


async def entry_statuses(stack: Stack, client: httpx.AsyncClient, student_id: str) -> dict[str, str]:
    """The student's own view of their entries (placement API), by entry id."""
    r = await client.get(f"{stack.placement_url}/v1/me/entries", headers=bearer(stack, Role.STUDENT, student_id))
    assert r.status_code == 200, r.text
    return {item["entry_id"]: item["status"] for item in r.json()["items"]}


def share_decimal(minutes: int, load_minutes: int) -> Decimal:
    """A share as the contract publishes it: 4 places, half-even."""
    return (Decimal(minutes) / Decimal(load_minutes)).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
