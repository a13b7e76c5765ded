"""The PostgreSQL adapter of the use cases' ports (`ports.py`): a unit is one transaction on one
connection, over the queries of `store.py`, the link page's queries and the shared outbox."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import asyncpg
import orjson
from werkplek_common.outbox import stage
from werkplek_events import Event
from werkplek_events.vocabulary import Language

from . import SERVICE, SOURCE, store
from .domain import Entry, Mentor, Placement
from .linkflow import LinkRequest, MentorPlacement, ShownEntry
from .ports import AlreadyAnswered, StoredAnswer

_LINK = ("SELECT request_id, mentor_id, entry_ids, expires_at, used_at FROM mf_confirmation_requests"
         " WHERE request_id = $1 AND channel = 'link'")
_ENTRIES = """
SELECT entry_id, revision, placement_id, work_date, minutes, activity, description,
       CASE WHEN decided_revision = revision THEN decision END AS decision
FROM mf_entries WHERE entry_id = ANY($1::uuid[]) AND NOT withdrawn AND work_date IS NOT NULL
ORDER BY work_date, logged_at
"""
_PLACEMENTS = """
SELECT p.placement_id, p.student_id, p.outcomes,
       p.workplace_signed_at IS NOT NULL OR EXISTS (SELECT 1 FROM mf_signatures s WHERE s.placement_id = p.placement_id
                                                     AND s.party = 'workplace') AS signed
FROM mf_placements p
WHERE p.mentor_id = $1 AND (p.ended_on IS NULL OR p.ended_on >= $2 OR p.placement_id = ANY($3::text[]))
ORDER BY p.student_id, p.placement_id LIMIT 100
"""
_ASSESSMENTS = ("SELECT placement_id, outcomes FROM mf_assessments WHERE placement_id = ANY($1::text[])"
                " ORDER BY assessed_on, recorded_at")


async def _link_request(conn: asyncpg.Connection | asyncpg.Pool, request_id: str, lock: bool) -> LinkRequest | None:
    row = await conn.fetchrow(_LINK + (" FOR UPDATE" if lock else ""), request_id)
    if row is None:
        return None
    return LinkRequest(row["request_id"], row["mentor_id"], tuple(row["entry_ids"]), row["expires_at"],
                       row["used_at"] is not None)


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

    async def link_request(self, request_id: str, *, lock: bool = False) -> LinkRequest | None:
        return await _link_request(self.conn, request_id, lock)

    async def use_link(self, request_id: str, at: datetime) -> None:
        await self.conn.execute("UPDATE mf_confirmation_requests SET used_at = $2 WHERE request_id = $1",
                                request_id, at)


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

    async def link_request(self, request_id: str) -> LinkRequest | None:
        return await _link_request(self.pool, request_id, False)

    async def shown_entries(self, ids: Sequence[uuid.UUID]) -> list[ShownEntry]:
        return [ShownEntry(r["entry_id"], r["revision"], r["placement_id"], r["work_date"].isoformat(), r["minutes"],
                           r["activity"], r["description"], r["decision"])
                for r in await self.pool.fetch(_ENTRIES, list(ids))]

    async def mentor_placements(self, mentor_id: str, ended_since: date,
                                including: Sequence[str]) -> list[MentorPlacement]:
        rows = await self.pool.fetch(_PLACEMENTS, mentor_id, ended_since, list(including))
        return [MentorPlacement(r["placement_id"], r["student_id"], tuple(orjson.loads(r["outcomes"])), r["signed"])
                for r in rows]

    async def latest_levels(self, placement_ids: Sequence[str]) -> Mapping[tuple[str, str], str]:
        latest: dict[tuple[str, str], str] = {}
        for r in await self.pool.fetch(_ASSESSMENTS, list(placement_ids)):
            for o in orjson.loads(r["outcomes"]):
                latest[(r["placement_id"], o["outcome_id"])] = o["level"]
        return latest

    async def mentor_language(self, mentor_id: str) -> Language | None:
        lang = await self.pool.fetchval("SELECT language FROM mf_contacts WHERE kind = 'mentor' AND subject_id = $1",
                                        mentor_id)
        return Language(lang) if lang else None

    async def mark_opened(self, request_id: str) -> bool:
        return bool(await self.pool.fetchval("UPDATE mf_confirmation_requests SET first_opened_at = now()"
                                             " WHERE request_id = $1 AND first_opened_at IS NULL RETURNING true",
                                             request_id))
