"""The PostgreSQL adapter of the use cases' ports (`ports.py`): a unit is one transaction on one
connection, over the queries of `store.py` and the shared outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg
from werkplek_common.outbox import stage
from werkplek_events import Event

from . import SERVICE, SOURCE, store
from .domain import Entry, Mentor, Placement
from .ports import AlreadyAnswered, StoredAnswer


class PgUnit:
    """The ports on a connection inside the caller's transaction (the link page's submission runs
    several messages in one)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def mentor(self, mentor_id: str) -> Mentor | None:
        return await store.mentor(self.conn, mentor_id)

    async def placements(self, ids: Iterable[str]) -> dict[str, Placement]:
        return await store.placements(self.conn, ids)

    async def entries_for_update(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entry]:
        return await store.entries_for_update(self.conn, ids)

    async def assessment_exists(self, assessment_id: str) -> bool:
        return await store.assessment_exists(self.conn, assessment_id)

    async def workplace_signed(self, placement_id: str) -> bool:
        return await store.workplace_signed(self.conn, placement_id)

    async def record(self, events: Sequence[Event]) -> None:
        await store.record(self.conn, events)

    async def stage(self, events: Sequence[Event]) -> None:
        await stage(self.conn, list(events), producer=SERVICE, source=SOURCE)

    async def store_answer(self, source_id: str, webhook_id: str, kind: str, status: int,
                           body: dict[str, Any]) -> None:
        await store.store_answer(self.conn, source_id, webhook_id, kind, status, body)


class PgUnitOfWork:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[PgUnit]:
        try:
            async with self.pool.acquire() as conn, conn.transaction():
                yield PgUnit(conn)
        except asyncpg.UniqueViolationError as exc:  # the same message, delivered concurrently, committed first
            raise AlreadyAnswered(str(exc)) from None

    async def source_secrets(self, source_id: str, now: datetime) -> list[str]:
        return await store.source_secrets(self.pool, source_id, now)

    async def stored_answer(self, source_id: str, webhook_id: str) -> StoredAnswer | None:
        return await store.stored_answer(self.pool, source_id, webhook_id)
