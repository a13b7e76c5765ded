"""SQL of the time ledger. Logging entries is four round trips, one transaction: BEGIN; `begin_log`
(the Idempotency-Key and the student's lock, then the stored reply or the context of the rules, in
one function call); `write` (revisions, current view, outbox, idempotency record, maybe a NOTIFY, in
one statement); COMMIT. Batches go through the same statements with arrays (unnest)."""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import asyncpg
import orjson
from werkplek_common.outbox import CHANNEL, insert_sql, outbox_columns
from werkplek_events import Event

from .domain import Draft, Facts, Logged, PlacementView
from .uow import Head, RefusedItem, StoredReply

ENTRY_COLUMNS = ("entry_id, placement_id, revision, version, work_date, start_time, end_time, duration_minutes,"
                 " activity, outcome_ids, description, decision, withdrawn, logged_at, updated_at, student_id,"
                 " rejection_reason, rejection_comment")


def student_lock(student_id: str) -> int:
    """Advisory lock key that serialises one student's writes (the day and overlap rules read, then
    write). Stable across processes; tests use it to hold a request in flight."""
    return zlib.crc32(f"pl-student:{student_id}".encode())


def idempotency_lock(principal: str, key: str) -> int:
    return -1 - zlib.crc32(f"pl-idem:{principal}:{key}".encode())  # negative: never equal to a student lock


_BEGIN = "SELECT * FROM pl_begin_log($1, $2, $3, $4, $5::text[], $6, $7::date[], $8::uuid[])"


async def begin_log(conn: asyncpg.Connection, student_id: str, key: str, drafts: Sequence[Draft]) -> Head:
    """Take the Idempotency-Key (try: a held key means in flight), then the student's lock, then read
    the stored reply or the context, in one round trip (migration 0002)."""
    row = await conn.fetchrow(_BEGIN, idempotency_lock(student_id, key), student_lock(student_id), student_id, key,
                              list({d.placement_id for d in drafts}), student_id, list({d.work_date for d in drafts}),
                              [d.entry_id for d in drafts])
    assert row is not None
    placements = {p[0]: PlacementView(p[0], p[1], p[2], p[3], p[4], frozenset(p[5])) for p in row["placements"] or ()}
    stored = None if row["fingerprint"] is None else StoredReply(
        bytes(row["fingerprint"]), row["status_code"], orjson.loads(row["headers"]), bytes(row["body"]))
    return Head(row["got"], row["started_at"], stored, placements,
                [Logged(*d) for d in row["day"] or ()], {e[0]: e[1] for e in row["existing"] or ()})


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
    decision = 'pending', rejection_reason = NULL, rejection_comment = NULL,
    work_date = EXCLUDED.work_date, start_time = EXCLUDED.start_time, end_time = EXCLUDED.end_time,
    duration_minutes = EXCLUDED.duration_minutes, activity = EXCLUDED.activity,
    outcome_ids = EXCLUDED.outcome_ids, description = EXCLUDED.description, updated_at = now()
    WHERE pl_entry.student_id = EXCLUDED.student_id AND EXCLUDED.revision > 1
), ob AS (
  """ + insert_sql(14) + """
), idem AS (
  INSERT INTO pl_idempotency (principal, key, fingerprint, status_code, headers, body)
  SELECT $20::text, $21::text, $22::bytea, $23::int, $24::jsonb, $25::bytea WHERE $21::text IS NOT NULL
), cleared AS (  -- an entry stored now is no longer refused (resent after an edit)
  DELETE FROM pl_refusal WHERE student_id = $1 AND entry_id IN (SELECT entry_id FROM input)
), refused AS (  -- refused batch items, kept until resent or withdrawn (a lost reply loses nothing)
  INSERT INTO pl_refusal (student_id, entry_id, entry, problem)
  SELECT $1, r.entry_id, r.entry, r.problem
  FROM unnest($27::uuid[], $28::jsonb[], $29::jsonb[]) AS r(entry_id, entry, problem)
  ON CONFLICT (student_id, entry_id) DO UPDATE SET entry = EXCLUDED.entry, problem = EXCLUDED.problem,
    refused_at = now()
)
SELECT CASE WHEN $26::text IS NOT NULL THEN pg_notify($26::text, $14::text)::text END
"""  # noqa: S608 - built from constants and parameter numbers only


def facts_columns(facts: Sequence[Facts], event_ids: Sequence[uuid.UUID], revisions: Sequence[int],
                  kind: str) -> list[Any]:
    return [[f.entry_id for f in facts], [f.placement_id for f in facts], [f.work_date for f in facts],
            [f.start_time for f in facts], [f.end_time for f in facts], [f.duration_minutes for f in facts],
            [f.activity for f in facts], [",".join(f.outcome_ids) for f in facts],
            [f.description for f in facts], list(event_ids), list(revisions), [kind] * len(facts)]


async def write(conn: asyncpg.Connection, student_id: str, columns: list[Any], events: Sequence[Event], *,
                producer: str, source: str, replay: tuple[str, str, bytes, int, str, bytes] | None,
                notify: bool = True, refusals: Sequence[RefusedItem] = ()) -> None:
    """Append revisions (kind logged or corrected), update the current view, stage the events, keep
    the response for the Idempotency-Key and the refused items, in one statement. `notify`: wake the
    relay at commit."""
    principal, key, fingerprint, status, headers, body = replay or (None, None, None, None, None, None)
    await conn.execute(_WRITE, student_id, *columns, producer, *outbox_columns(events, source=source),
                       principal, key, fingerprint, status, headers, body, CHANNEL if notify and events else None,
                       [r.entry_id for r in refusals], [r.entry for r in refusals], [r.problem for r in refusals])


async def fetch_entry(conn: asyncpg.Connection | asyncpg.Pool, student_id: str, entry_id: uuid.UUID,
                      *, for_update: bool = False) -> asyncpg.Record | None:
    lock_clause = " FOR UPDATE" if for_update else ""
    return await conn.fetchrow(f"SELECT {ENTRY_COLUMNS} FROM pl_entry WHERE entry_id = $1 AND student_id = $2"  # noqa: S608
                               f"{lock_clause}", entry_id, student_id)


async def mark_withdrawn(conn: asyncpg.Connection, entry_id: uuid.UUID, revision: int, event: Event, *,
                         producer: str, source: str) -> datetime:
    """The withdrawal is a revision of its own; the current view only flags it."""
    return await conn.fetchval("""
      WITH rev AS (
        INSERT INTO pl_entry_revision (entry_id, revision, kind, student_id, placement_id, work_date, start_time,
          end_time, duration_minutes, activity, outcome_ids, description, event_id)
        SELECT entry_id, $2, 'withdrawn', student_id, placement_id, work_date, start_time, end_time,
               duration_minutes, activity, outcome_ids, description, $3 FROM pl_entry WHERE entry_id = $1
      ), ob AS (
        """ + insert_sql(4) + """
      )
      UPDATE pl_entry SET withdrawn = true, revision = $2, version = version + 1, updated_at = now()
      WHERE entry_id = $1 RETURNING updated_at, pg_notify($10, $4)::text""",  # noqa: S608 - constants only
        entry_id, revision + 1, event.event_id, producer, *outbox_columns([event], source=source),
        CHANNEL)
