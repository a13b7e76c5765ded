"""Fixtures for mentor-feedback integration tests: a pool on the test database, a seeded world
(sources, mentors, placements, entries applied through the projection) and the API in-process."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from werkplek_common.db import create_pool
from werkplek_events import BY_NAME, Event, decode
from werkplek_mentor_feedback.api import build_app
from werkplek_mentor_feedback.config import MentorFeedbackSettings
from werkplek_mentor_feedback.projection import apply_event
from werkplek_mentor_feedback.sources import add_secret

from tests.unit.mentor_feedback import factories as f


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cfg(stack) -> MentorFeedbackSettings:
    return MentorFeedbackSettings(kafka_bootstrap=stack.kafka_bootstrap, pg_dsn=stack.pg_dsn, data_dir=stack.data_dir,
                                  mentor_dev_sources=(), mentor_link_secret="test-link-key",
                                  mentor_batch_min_age_s=60, mentor_outbound_base_delay_s=0.05,
                                  mentor_outbound_max_attempts=5)


@pytest.fixture
async def pool(cfg) -> AsyncIterator:
    p = await create_pool(cfg.service_dsn, min_size=1, max_size=5)
    yield p
    await p.close()


@dataclass
class World:
    """Two sources, three mentors and their placements: `source_a` is bound to `mentor_a` (placement
    `pl_a` of `student`); `mentor_b` is bound to `source_b`; `mentor_c` has no tool."""

    pool: object
    source_a: str = field(default_factory=lambda: f.uid("src-a"))
    source_b: str = field(default_factory=lambda: f.uid("src-b"))
    mentor_a: str = field(default_factory=lambda: f.uid("m-a"))
    mentor_b: str = field(default_factory=lambda: f.uid("m-b"))
    mentor_c: str = field(default_factory=lambda: f.uid("m-c"))
    student: str = field(default_factory=lambda: f.uid("s"))
    student_b: str = field(default_factory=lambda: f.uid("s"))
    pl_a: str = field(default_factory=lambda: f.uid("pl-a"))
    pl_b: str = field(default_factory=lambda: f.uid("pl-b"))
    pl_c: str = field(default_factory=lambda: f.uid("pl-c"))
    secrets: dict[str, list[str]] = field(default_factory=dict)

    async def apply(self, *events: Event) -> None:
        async with self.pool.acquire() as conn, conn.transaction():  # type: ignore[attr-defined]
            for e in events:
                await apply_event(conn, e)

    async def entry(self, placement_id: str | None = None, **kw) -> uuid.UUID:
        pl = placement_id or self.pl_a
        student = {self.pl_a: self.student, self.pl_b: self.student_b, self.pl_c: self.student}[pl]
        e = f.entry(student, pl, **kw)
        await self.apply(e)
        return e.entry_id

    async def outbox(self, key: str) -> list[Event]:
        rows = await self.pool.fetch(  # type: ignore[attr-defined]
            "SELECT topic, value, headers FROM outbox WHERE producer = 'mentor_feedback' AND key = $1 ORDER BY id",
            key.encode())
        return [decode(r["topic"], r["value"], [(k, v.encode()) for k, v in json.loads(r["headers"])])
                for r in rows if r["topic"] in BY_NAME]


@pytest.fixture
async def world(pool) -> World:
    w = World(pool)
    for src in (w.source_a, w.source_b):
        w.secrets[src] = [await add_secret(pool, src)]
    await w.apply(f.mentor(w.mentor_a, w.source_a), f.mentor(w.mentor_b, w.source_b), f.mentor(w.mentor_c, None),
                  f.placement(w.pl_a, w.student, w.mentor_a), f.placement(w.pl_b, w.student_b, w.mentor_b),
                  f.placement(w.pl_c, w.student, w.mentor_c))
    return w


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(cfg, pool, clock) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app(cfg, pool=pool, clock=clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mf.test") as client:
        yield client


@dataclass
class Sender:
    api: httpx.AsyncClient
    world: World
    clock: Clock

    async def __call__(self, source: str, kind: str, data: dict, *, skew: int = 0, webhook_id: str | None = None,
                       secrets: list[str] | None = None, body: bytes | None = None) -> httpx.Response:
        raw = body if body is not None else f.message(kind, data)
        headers = f.signed(secrets or self.world.secrets[source], raw, ts=int(self.clock.now) + skew,
                           webhook_id=webhook_id)
        return await self.api.post(f"/webhooks/{source}", content=raw, headers=headers)


@pytest.fixture
def send(api, world, clock) -> Sender:
    return Sender(api, world, clock)
