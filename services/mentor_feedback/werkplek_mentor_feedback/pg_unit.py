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
from werkplek_events import ConfirmationRequested, Event
from werkplek_events.vocabulary import Language

from . import SERVICE, SOURCE, store
from .batching import PendingEntry
from .domain import Entry, Mentor, Placement
from .linkflow import LinkRequest, MentorPlacement, ShownEntry
from .payloads import OutboundEntry
from .ports import AlreadyAnswered, StoredAnswer

# "Pending" in SQL: logged, not withdrawn, undecided on its current revision — the SQL form of
# werkplek_events.rules.entry_status over the one standing decision (Entry.current_decision), held
# to it by tests/unit/test_rules.py.
PENDING_ENTRY = ("NOT e.withdrawn AND e.work_date IS NOT NULL"
                 " AND (e.decision IS NULL OR e.decided_revision IS DISTINCT FROM e.revision)")
_PENDING = f"""
SELECT e.entry_id, p.mentor_id, e.minutes, CASE WHEN s.retired_at IS NULL THEN m.webhook_source END AS webhook_source,
       s.endpoint_url, s.endpoint_disabled_at IS NOT NULL AS endpoint_disabled
FROM mf_entries e
JOIN mf_placements p USING (placement_id)
JOIN mf_mentors m ON m.mentor_id = p.mentor_id
LEFT JOIN mf_sources s ON s.source_id = m.webhook_source
WHERE {PENDING_ENTRY}
  AND e.logged_at <= $1
  AND (e.requested_at IS NULL OR e.requested_at <= $2)
  -- a tool without endpoint sends on its own; a retired tool's mentors get links again
  AND (m.webhook_source IS NULL OR s.endpoint_url IS NOT NULL OR s.retired_at IS NOT NULL)
ORDER BY p.mentor_id, e.logged_at, e.entry_id
LIMIT $3
FOR UPDATE OF e SKIP LOCKED
"""  # noqa: S608 - PENDING_ENTRY is a constant
_MENTOR_PENDING = f"""
SELECT e.entry_id, e.minutes FROM mf_entries e JOIN mf_placements p USING (placement_id)
WHERE p.mentor_id = $1 AND {PENDING_ENTRY}
ORDER BY e.logged_at, e.entry_id LIMIT $2
FOR UPDATE OF e
"""  # noqa: S608 - PENDING_ENTRY is a constant

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

    async def pending_entries(self, logged_before: datetime, requested_before: datetime,
                              limit: int) -> list[PendingEntry]:
        rows = await self.conn.fetch(_PENDING, logged_before, requested_before, limit)
        return [PendingEntry(r["entry_id"], r["mentor_id"], r["minutes"], r["webhook_source"], r["endpoint_url"],
                             r["endpoint_disabled"]) for r in rows]

    async def mentor_pending(self, mentor_id: str, limit: int) -> list[PendingEntry]:
        return [PendingEntry(r["entry_id"], mentor_id, r["minutes"], None, None, False)
                for r in await self.conn.fetch(_MENTOR_PENDING, mentor_id, limit)]

    async def save_request(self, request: ConfirmationRequested, now: datetime) -> None:
        ids = list(request.entry_ids)
        await self.conn.execute(
            "INSERT INTO mf_confirmation_requests(request_id, mentor_id, channel, entry_ids, expires_at, purpose)"
            " VALUES ($1,$2,$3,$4,$5,$6)", request.request_id, request.mentor_id, request.channel.value, ids,
            request.expires_at, request.purpose.value)
        await self.conn.execute("UPDATE mf_entries SET requested_at = $2, request_id = $3"
                                " WHERE entry_id = ANY($1::uuid[])", ids, now, request.request_id)

    async def outbound_entries(self, ids: Sequence[uuid.UUID]) -> list[OutboundEntry]:
        rows = await self.conn.fetch(
            "SELECT entry_id, student_id, placement_id, revision, work_date, minutes, activity, description"
            " FROM mf_entries WHERE entry_id = ANY($1::uuid[]) ORDER BY logged_at", list(ids))
        return [OutboundEntry(**dict(r)) for r in rows]

    async def queue_delivery(self, delivery_id: str, source_id: str, request_id: str, payload: bytes) -> None:
        await self.conn.execute("INSERT INTO mf_outbound_deliveries(delivery_id, source_id, request_id, payload)"
                                " VALUES ($1,$2,$3,$4)", delivery_id, source_id, request_id, payload)


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
