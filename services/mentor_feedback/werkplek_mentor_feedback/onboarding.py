"""Tool onboarding without a shell: a coordinator registers their institution's mentor tool (a
webhook source) and gets its secret once, rotates it (the old secrets stay valid for a grace period,
so the tool can switch without a gap), sets, clears or re-enables its outbound endpoint, and retires
it. Every action is written to `mf_source_audit` (who, when, what) in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import asyncpg
import orjson
from werkplek_common.problems import Problem, problem_type

from .metrics import SOURCE_CHANGES
from .signing import new_secret
from .sources import secret_id


def not_found() -> Problem:
    return Problem(404, "No such source", "your institution has no mentor tool with this id",
                   type_=problem_type("not-found"))


async def _audit(conn: asyncpg.Connection, source_id: str, institution: str | None, action: str, actor: str,
                 at: datetime, **detail: Any) -> None:
    await conn.execute("INSERT INTO mf_source_audit(source_id, institution_id, action, actor, detail, at)"
                       " VALUES ($1,$2,$3,$4,$5::jsonb,$6)", source_id, institution, action, actor,
                       orjson.dumps(detail).decode(), at)
    SOURCE_CHANGES.labels(action).inc()


async def _own(conn: asyncpg.Connection, source_id: str, institution: str) -> asyncpg.Record:
    """The institution's source, locked; another institution's (or an operator's) looks absent."""
    row = await conn.fetchrow("SELECT * FROM mf_sources WHERE source_id = $1 FOR UPDATE", source_id)
    if row is None or row["institution_id"] != institution:
        raise not_found()
    return row


def _retired(row: asyncpg.Record) -> None:
    if row["retired_at"] is not None:
        raise Problem(409, "The source is retired", f"it was retired at {row['retired_at'].isoformat()}",
                      type_=problem_type("source-retired"))


async def _add(conn: asyncpg.Connection, source_id: str, at: datetime) -> tuple[str, str]:
    secret = new_secret()
    await conn.execute("INSERT INTO mf_source_secrets(source_id, secret, secret_id, created_at) VALUES ($1,$2,$3,$4)",
                       source_id, secret, secret_id(secret), at)
    return secret, secret_id(secret)


async def register(pool: asyncpg.Pool, source_id: str, institution: str, actor: str, endpoint_url: str | None,
                   at: datetime) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        inserted = await conn.fetchval(
            "INSERT INTO mf_sources(source_id, endpoint_url, institution_id, created_at) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (source_id) DO NOTHING RETURNING true", source_id, endpoint_url, institution, at)
        if not inserted:
            raise Problem(409, "The source id is taken", "choose another id for this mentor tool",
                          type_=problem_type("source-exists"),
                          errors=[{"field": "body.source_id", "message": "already registered"}])
        secret, sid = await _add(conn, source_id, at)
        await _audit(conn, source_id, institution, "registered", actor, at, secret_id=sid, endpoint_url=endpoint_url)
    return {"source_id": source_id, "secret": secret, "secret_id": sid, "endpoint_url": endpoint_url}


async def rotate(pool: asyncpg.Pool, source_id: str, institution: str, actor: str, grace_s: int,
                 at: datetime) -> dict[str, Any]:
    """A new secret; every older one stays valid until the end of the grace period (not longer than
    it already would)."""
    until = at + timedelta(seconds=grace_s)
    async with pool.acquire() as conn, conn.transaction():
        _retired(await _own(conn, source_id, institution))
        old = await conn.fetch("UPDATE mf_source_secrets SET expires_at = LEAST(COALESCE(expires_at, $2), $2)"
                               " WHERE source_id = $1 AND (expires_at IS NULL OR expires_at > $3) RETURNING secret_id",
                               source_id, until, at)
        secret, sid = await _add(conn, source_id, at)
        await _audit(conn, source_id, institution, "secret_rotated", actor, at, secret_id=sid,
                     previous=[r["secret_id"] for r in old], previous_valid_until=until.isoformat())
    return {"source_id": source_id, "secret": secret, "secret_id": sid, "previous_valid_until": until}


async def set_endpoint(pool: asyncpg.Pool, source_id: str, institution: str, actor: str, url: str | None,
                       at: datetime) -> None:
    """Set (re-enabling one that answered 410 Gone) or clear the tool's outbound endpoint."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _own(conn, source_id, institution)
        _retired(row)
        await conn.execute("UPDATE mf_sources SET endpoint_url = $2, endpoint_disabled_at = NULL WHERE source_id = $1",
                           source_id, url)
        action = "endpoint_set" if url else "endpoint_cleared"
        await _audit(conn, source_id, institution, action, actor, at, endpoint_url=url,
                     was_disabled=row["endpoint_disabled_at"] is not None)


async def retire(pool: asyncpg.Pool, source_id: str, institution: str, actor: str, at: datetime) -> None:
    """From now on its webhooks are refused and its mentors get links again. Idempotent."""
    async with pool.acquire() as conn, conn.transaction():
        row = await _own(conn, source_id, institution)
        if row["retired_at"] is not None:
            return
        await conn.execute("UPDATE mf_sources SET retired_at = $2, endpoint_url = NULL WHERE source_id = $1",
                           source_id, at)
        await conn.execute("UPDATE mf_source_secrets SET expires_at = $2 WHERE source_id = $1"
                           " AND (expires_at IS NULL OR expires_at > $2)", source_id, at)
        await _audit(conn, source_id, institution, "retired", actor, at)


async def describe(pool: asyncpg.Pool | asyncpg.Connection, source_id: str, institution: str) -> dict[str, Any]:
    row = await pool.fetchrow(
        "SELECT s.*, (SELECT count(*) FROM mf_mentors m WHERE m.webhook_source = s.source_id) AS mentors"
        " FROM mf_sources s WHERE s.source_id = $1 AND s.institution_id = $2", source_id, institution)
    if row is None:
        raise not_found()
    secrets_ = await pool.fetch("SELECT secret_id, created_at, expires_at FROM mf_source_secrets WHERE source_id = $1"
                                " ORDER BY created_at", source_id)
    return {"source_id": row["source_id"], "endpoint_url": row["endpoint_url"],
            "endpoint_disabled_at": row["endpoint_disabled_at"], "retired_at": row["retired_at"],
            "created_at": row["created_at"], "mentors": row["mentors"],
            "secrets": [dict(r) for r in secrets_]}


async def list_own(pool: asyncpg.Pool, institution: str) -> list[dict[str, Any]]:
    ids = await pool.fetch("SELECT source_id FROM mf_sources WHERE institution_id = $1 ORDER BY source_id LIMIT 500",
                           institution)
    return [await describe(pool, r["source_id"], institution) for r in ids]


async def audit_trail(pool: asyncpg.Pool, source_id: str, institution: str) -> list[dict[str, Any]]:
    await describe(pool, source_id, institution)  # 404 unless it is the institution's
    rows = await pool.fetch("SELECT action, actor, at, detail FROM mf_source_audit WHERE source_id = $1 ORDER BY id",
                            source_id)
    return [{**dict(r), "detail": orjson.loads(r["detail"])} for r in rows]
