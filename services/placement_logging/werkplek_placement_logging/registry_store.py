"""SQL of the registry: one shape for every table (id, institution, body, version) plus the columns
other queries need. A coordinator sees only the rows of their own institution; another
institution's row is reported as absent (never revealing that it exists), and the attempt is
counted (`werkplek_tenant_refusals_total`). Students belong to the institution that enrolled them
first (`pl_student`)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import asyncpg
import orjson
from werkplek_common.metrics import TENANT_REFUSALS
from werkplek_common.outbox import stage
from werkplek_common.problems import Problem, problem_type
from werkplek_events import Event
from werkplek_events.limits import text_fault

from .tenancy import foreign
from .uow import NotOwned

TABLES = {"programme": "pl_programme", "enrolment": "pl_enrolment", "workplace": "pl_workplace",
          "mentor": "pl_mentor", "placement": "pl_placement", "credits": "pl_credits", "pilot": "pl_pilot"}


def not_found(kind: str) -> Problem:
    return Problem(404, f"No such {kind}", f"your institution has no {kind} with this id",
                   type_=problem_type("not-found"))


def refused(kind: str, via: str) -> None:
    """Count a request that named another institution's object (no per-object label)."""
    TENANT_REFUSALS.labels(kind, via).inc()


async def load(conn: asyncpg.Connection | asyncpg.Pool, kind: str, obj_id: str, institution: str, *,
               lock: bool = False, via: str = "path") -> asyncpg.Record | None:
    """The row when it belongs to `institution`; None when absent or another institution's."""
    sql = f"SELECT * FROM {TABLES[kind]} WHERE id = $1" + (" FOR UPDATE" if lock else "")  # noqa: S608
    row = await conn.fetchrow(sql, obj_id)
    if row is not None and foreign(row["institution_id"], institution):
        refused(kind, via)
        return None
    return row


async def owned(conn: asyncpg.Connection, kind: str, ids: Sequence[str], institution: str) -> dict[str, asyncpg.Record]:
    rows = await conn.fetch(f"SELECT * FROM {TABLES[kind]} WHERE id = ANY($1::text[]) AND institution_id = $2",  # noqa: S608
                            list(ids), institution)
    return {r["id"]: r for r in rows}


async def claim_owned(conn: asyncpg.Connection, kind: str, obj_id: str, institution: str) -> asyncpg.Record | None:
    """Lock the row for a change. Raises `NotOwned` (counted) when the id belongs to another institution."""
    row = await conn.fetchrow(f"SELECT * FROM {TABLES[kind]} WHERE id = $1 FOR UPDATE", obj_id)  # noqa: S608
    if row is not None and foreign(row["institution_id"], institution):
        refused(kind, "path")
        raise NotOwned(kind)
    return row


# --- students: each belongs to one institution ---------------------------------------------------

async def student_institution(conn: asyncpg.Connection | asyncpg.Pool, student_id: str) -> str | None:
    """The institution the registry records for the student; None before their first enrolment."""
    value: str | None = await conn.fetchval("SELECT institution_id FROM pl_student WHERE student_id = $1",
                                            student_id)
    return value


async def foreign_student(conn: asyncpg.Connection | asyncpg.Pool, student_id: str, institution: str,
                          via: str) -> bool:
    """True (and counted) when the student belongs to another institution."""
    if foreign(await student_institution(conn, student_id), institution):
        refused("student", via)
        return True
    return False


async def claim_student(conn: asyncpg.Connection, student_id: str, institution: str, *,
                        enrol: bool = False) -> asyncpg.Record | None:
    """`claim_student_owned`, answering another institution's student as 404."""
    try:
        return await claim_student_owned(conn, student_id, institution, enrol=enrol)
    except NotOwned:
        raise not_found("student") from None


async def claim_student_owned(conn: asyncpg.Connection, student_id: str, institution: str, *,
                              enrol: bool = False) -> asyncpg.Record | None:
    """Lock the student's record for a change of their registry data. Raises `NotOwned` (counted) when
    the student belongs to another institution; with `enrol`, a student not known yet is recorded as
    the institution's (rolled back with the rest when the enrolment is refused)."""
    if enrol:
        await conn.execute("INSERT INTO pl_student (student_id, institution_id) VALUES ($1, $2)"
                           " ON CONFLICT (student_id) DO NOTHING", student_id, institution)
    row = await conn.fetchrow("SELECT * FROM pl_student WHERE student_id = $1 FOR UPDATE", student_id)
    if row is not None and foreign(row["institution_id"], institution):
        refused("student", "path")
        raise NotOwned("student")
    return row


async def save(conn: asyncpg.Connection, kind: str, obj_id: str, institution: str, body: dict[str, Any],
               extra: dict[str, Any], events: Sequence[Event], *, producer: str, source: str) -> asyncpg.Record:
    """Insert or replace the row (version + 1) and stage its events, in the caller's transaction."""
    cols = ["id", "institution_id", "body", *extra]
    values = [obj_id, institution, orjson.dumps(body).decode(), *extra.values()]
    marks = ", ".join(f"${i + 1}" + ("::jsonb" if c == "body" else "") for i, c in enumerate(cols))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[2:])
    table = TABLES[kind]
    row = await conn.fetchrow(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks}) ON CONFLICT (id) DO UPDATE SET {updates},"  # noqa: S608
        f" version = {table}.version + 1, updated_at = now() RETURNING *", *values)
    if events:
        await stage(conn, events, producer=producer, source=source)
    assert row is not None
    return row


async def update(conn: asyncpg.Connection, kind: str, obj_id: str, body: dict[str, Any], extra: dict[str, Any],
                 events: Sequence[Event], *, producer: str, source: str) -> asyncpg.Record:
    """Change an existing row (version + 1) and stage its events. `extra` may be empty (a change of
    the body only)."""
    sets = "".join(f", {c} = ${i + 3}" for i, c in enumerate(extra))
    table = TABLES[kind]
    row = await conn.fetchrow(
        f"UPDATE {table} SET body = $2::jsonb{sets}, version = version + 1, updated_at = now()"  # noqa: S608
        " WHERE id = $1 RETURNING *", obj_id, orjson.dumps(body).decode(), *extra.values())
    await stage(conn, events, producer=producer, source=source)
    assert row is not None
    return row


def stored_doc(row: asyncpg.Record) -> dict[str, Any]:
    return {"id": row["id"], "institution_id": row["institution_id"], "version": row["version"],
            "body": orjson.loads(row["body"]), "updated_at": row["updated_at"]}


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        value = "\x00"  # refused below, like any cursor this API never gave
    if text_fault(value):  # a forged cursor must not reach the database as a NUL or a lone surrogate
        raise Problem(400, "The cursor is not valid", "use next_cursor of the previous page as it was given",
                      type_=problem_type("cursor-invalid"),
                      errors=[{"field": "query.cursor", "message": "not a cursor of this API"}])
    return value


async def page(pool: asyncpg.Pool, kind: str, institution: str, cursor: str | None, limit: int,
               where: str = "", args: Sequence[Any] = ()) -> dict[str, Any]:
    """Keyset pagination by id: stable under inserts, no OFFSET scans."""
    after = decode_cursor(cursor) or ""
    rows = await pool.fetch(
        f"SELECT * FROM {TABLES[kind]} WHERE institution_id = $1 AND id > $2 {where}"  # noqa: S608
        f" ORDER BY id LIMIT {int(limit) + 1}", institution, after, *args)
    items = [stored_doc(r) for r in rows[:limit]]
    return {"items": items, "next_cursor": encode_cursor(items[-1]["id"]) if len(rows) > limit else None}
