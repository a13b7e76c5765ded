"""Reads of the ledger's current view: one entry, and a keyset page of a student's entries."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import asyncpg
from werkplek_common.problems import Problem, problem_type
from werkplek_events.vocabulary import EntryStatus

from . import ledger_sql as sql
from .registry_store import decode_cursor, encode_cursor
from .uow_pg import stored_entry
from .usecases.entries import document


async def one(pool: asyncpg.Pool, student_id: str, entry_id: uuid.UUID) -> tuple[dict[str, Any], int]:
    row = await sql.fetch_entry(pool, student_id, entry_id)
    if row is None:
        raise Problem(404, "No such entry", "you have no entry with this id", type_=problem_type("not-found"))
    return document(stored_entry(row)), row["version"]


def _after(cursor: str | None) -> tuple[date, uuid.UUID] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        day, _, ident = raw.partition("|")
        return date.fromisoformat(day), uuid.UUID(ident)
    except ValueError:
        raise Problem(400, "The cursor is not valid", "use next_cursor of the previous page as it was given",
                      type_=problem_type("cursor-invalid"),
                      errors=[{"field": "query.cursor", "message": "not a cursor of this API"}]) from None


_PAGE = f"""
SELECT {sql.ENTRY_COLUMNS} FROM pl_entry
WHERE student_id = $1 AND ($2::text IS NULL OR placement_id = $2)
  AND ($3::date IS NULL OR work_date >= $3) AND ($4::date IS NULL OR work_date <= $4)
  AND ($5::text IS NULL OR ($5 = 'withdrawn' AND withdrawn) OR (NOT withdrawn AND decision = $5))
  AND ($6::date IS NULL OR (work_date, entry_id) > ($6, $7::uuid))
ORDER BY work_date, entry_id LIMIT $8
"""  # noqa: S608 - a constant column list; values are bound


async def page(pool: asyncpg.Pool, student_id: str, placement_id: str | None, from_: date | None, to: date | None,
               status: EntryStatus | None, cursor: str | None, limit: int) -> dict[str, Any]:
    after = _after(cursor)
    rows = await pool.fetch(_PAGE, student_id, placement_id, from_, to, status.value if status else None,
                            after[0] if after else None, after[1] if after else None, limit + 1)
    items = [document(stored_entry(r)) for r in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return {"items": items,
            "next_cursor": encode_cursor(f"{last['work_date']}|{last['entry_id']}") if last is not None else None}
