"""SQL of the time ledger. The hot path is four round trips in one transaction: lock (+ replay
lookup), read the context, write everything (revisions, current view, idempotency record, outbox,
notify) in one statement, commit. Batches go through the same statements with arrays (unnest)."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg
import orjson
from werkplek_common.outbox import CHANNEL
from werkplek_events import Event, encode

from .domain import Facts, Logged, PlacementView

ENTRY_COLUMNS = ("entry_id, placement_id, revision, version, work_date, start_time, end_time, duration_minutes,"
                 " activity, outcome_ids, description, decision, withdrawn, logged_at, updated_at, student_id")


def student_lock(student_id: str) -> int:
    """Advisory lock key that serialises one student's writes (the day and overlap rules read, then
    write). Stable across processes; tests use it to hold a request in flight."""
    return zlib.crc32(f"pl-student:{student_id}".encode())


def idempotency_lock(principal: str, key: str) -> int:
    return -1 - zlib.crc32(f"pl-idem:{principal}:{key}".encode())  # negative: never equal to a student lock


_BEGIN = """
SELECT s.got, CASE WHEN s.got THEN pg_advisory_xact_lock($2)::text END AS locked, now() AS now,
       i.fingerprint, i.status_code, i.headers, i.body
FROM (SELECT pg_try_advisory_xact_lock($1) AS got) s
LEFT JOIN pl_idempotency i ON i.principal = $3 AND i.key = $4
"""


async def lock(conn: asyncpg.Connection, student_id: str, principal: str, key: str | None) -> asyncpg.Record:
    """Take the idempotency key (try: a held key means in flight) and then the student's lock."""
    idem = idempotency_lock(principal, key) if key is not None else student_lock(student_id) ^ 1
    row = await conn.fetchrow(_BEGIN, idem, student_lock(student_id), principal, key or "")
    assert row is not None
    return row


_CONTEXT = """
SELECT
  ARRAY(SELECT (id, student_id, start_date, end_date, ended_on, outcome_ids)
        FROM pl_placement WHERE id = ANY($1::text[])) AS placements,
  ARRAY(SELECT (entry_id, work_date, start_time, end_time, duration_minutes)
        FROM pl_entry WHERE student_id = $2 AND work_date = ANY($3::date[]) AND NOT withdrawn) AS day,
  ARRAY(SELECT (entry_id, student_id) FROM pl_entry WHERE entry_id = ANY($4::uuid[])) AS existing
"""


async def read_context(conn: asyncpg.Connection, student_id: str, placement_ids: Sequence[str],
                       days: Sequence[date], entry_ids: Sequence[uuid.UUID],
                       ) -> tuple[dict[str, PlacementView], list[Logged], dict[uuid.UUID, str]]:
    row = await conn.fetchrow(_CONTEXT, list(set(placement_ids)), student_id, list(set(days)), list(entry_ids))
    assert row is not None
    placements = {p[0]: PlacementView(p[0], p[1], p[2], p[3], p[4], frozenset(p[5])) for p in row["placements"]}
    day = [Logged(*d) for d in row["day"]]
    return placements, day, {e[0]: e[1] for e in row["existing"]}


def outbox_columns(events: Sequence[Event], source: str) -> tuple[list[str], list[bytes], list[bytes], list[str],
                                                                     list[uuid.UUID]]:
    """The outbox rows of `werkplek_common.outbox.stage`, as columns, so they join the one write."""
    topics, keys, values, headers, ids = [], [], [], [], []
    for event in events:
        rec = encode(event, source=source)
        topics.append(rec.topic)
        keys.append(rec.key)
        values.append(rec.value)
        headers.append(orjson.dumps([[k, v.decode()] for k, v in rec.headers]).decode())
        ids.append(event.event_id)
    return topics, keys, values, headers, ids


_WRITE = """
WITH input AS (
  SELECT * FROM unnest($2::uuid[], $3::text[], $4::date[], $5::time[], $6::time[], $7::int[], $8::text[],
                       $9::text[], $10::text[], $11::uuid[], $12::int[], $13::text[])
    AS t(entry_id, placement_id, work_date, start_time, end_time, duration_minutes, activity, outcomes,
         description, event_id, revision, kind)
), rev AS (
  INSERT INTO pl_entry_revision (entry_id, revision, kind, student_id, placement_id, work_date, start_time,
    end_time, duration_minutes, activity, outcome_ids, description, event_id)
  SELECT entry_id, revision, kind, $1, placement_id, work_date, start_time, end_time, duration_minutes, activity,
         string_to_array(outcomes, ','), description, event_id FROM input
), cur AS (
  INSERT INTO pl_entry (entry_id, student_id, placement_id, revision, version, work_date, start_time, end_time,
    duration_minutes, activity, outcome_ids, description, withdrawn)
  SELECT entry_id, $1, placement_id, revision, 1, work_date, start_time, end_time, duration_minutes, activity,
         string_to_array(outcomes, ','), description, false FROM input
  ON CONFLICT (entry_id) DO UPDATE SET revision = EXCLUDED.revision, version = pl_entry.version + 1,
    decision = 'pending',
    work_date = EXCLUDED.work_date, start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
    duration_minutes = EXCLUDED.duration_minutes, activity = EXCLUDED.activity,
    outcome_ids = EXCLUDED.outcome_ids, description = EXCLUDED.description, updated_at = now()
    WHERE pl_entry.student_id = EXCLUDED.student_id AND EXCLUDED.revision > 1
), ob AS (
  INSERT INTO outbox (producer, topic, key, value, headers, event_id)
  SELECT $14::text, * FROM unnest($15::text[], $16::bytea[], $17::bytea[], $18::jsonb[], $19::uuid[])
), idem AS (
  INSERT INTO pl_idempotency (principal, key, fingerprint, status_code, headers, body)
  SELECT $20::text, $21::text, $22::bytea, $23::int, $24::jsonb, $25::bytea WHERE $21::text IS NOT NULL
)
SELECT CASE WHEN cardinality($19::uuid[]) > 0 THEN pg_notify($26::text, $14::text)::text END
"""


def facts_columns(facts: Sequence[Facts], event_ids: Sequence[uuid.UUID], revisions: Sequence[int],
                  kind: str) -> list[Any]:
    return [[f.entry_id for f in facts], [f.placement_id for f in facts], [f.work_date for f in facts],
            [f.start_time for f in facts], [f.end_time for f in facts], [f.duration_minutes for f in facts],
            [f.activity for f in facts], [",".join(f.outcome_ids) for f in facts],
            [f.description for f in facts], list(event_ids), list(revisions), [kind] * len(facts)]


async def write(conn: asyncpg.Connection, student_id: str, columns: list[Any], events: Sequence[Event], *,
                producer: str, source: str, replay: tuple[str, str, bytes, int, str, bytes] | None) -> None:
    """Append revisions (kind logged or corrected), update the current view, stage the events and
    keep the response for the Idempotency-Key, in one statement."""
    principal, key, fingerprint, status, headers, body = replay or (None, None, None, None, None, None)
    await conn.execute(_WRITE, student_id, *columns, producer, *outbox_columns(events, source),
                       principal, key, fingerprint, status, headers, body, CHANNEL)


async def fetch_entry(conn: asyncpg.Connection | asyncpg.Pool, student_id: str, entry_id: uuid.UUID,
                      *, for_update: bool = False) -> asyncpg.Record | None:
    lock_clause = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {ENTRY_COLUMNS} FROM pl_entry WHERE entry_id = $1 AND student_id = $2"  # noqa: S608
                               f"{lock_clause}", entry_id, student_id)


async def mark_withdrawn(conn: asyncpg.Connection, entry: asyncpg.Record, event: Event, *, producer: str,
                         source: str) -> datetime:
    """The withdrawal is a revision of its own; the current view only flags it."""
    topics, keys, values, headers, ids = outbox_columns([event], source)
    return await conn.fetchval("""
      WITH rev AS (
        INSERT INTO pl_entry_revision (entry_id, revision, kind, student_id, placement_id, work_date, start_time,
          end_time, duration_minutes, activity, outcome_ids, description, event_id)
        SELECT entry_id, $2, 'withdrawn', student_id, placement_id, work_date, start_time, end_time,
               duration_minutes, activity, outcome_ids, description, $3 FROM pl_entry WHERE entry_id = $1
      ), ob AS (
        INSERT INTO outbox (producer, topic, key, value, headers, event_id)
        SELECT $4, * FROM unnest($5::text[], $6::bytea[], $7::bytea[], $8::jsonb[], $9::uuid[])
      )
      UPDATE pl_entry SET withdrawn = true, revision = $2, version = version + 1, updated_at = now()
      WHERE entry_id = $1 RETURNING updated_at, pg_notify($10, $4)::text""",
        entry["entry_id"], entry["revision"] + 1, event.event_id, producer, topics, keys, values, headers, ids,
        CHANNEL)
