"""The PostgreSQL read model `share_read_model` (migration 0001): one row per student, the latest
`ShareUpdated`. One statement per batch (arrays unnested server-side), inside the batch's transaction;
a row is replaced only by a higher version, so a stale or repeated update changes nothing (`force`
also replaces an equal version: a rebuild overwrites what it recomputed, never moves a row back)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
from werkplek_events import ShareUpdated

_UPSERT = """
INSERT INTO share_read_model (student_id, programme_id, version, status, real_share, body, event_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::numeric[], $6::jsonb[], $7::uuid[])
ON CONFLICT (student_id) DO UPDATE SET programme_id = excluded.programme_id, version = excluded.version,
  status = excluded.status, real_share = excluded.real_share, body = excluded.body,
  event_id = excluded.event_id, updated_at = now()
"""
_ONLY_NEWER = " WHERE share_read_model.version < excluded.version"
_NOT_OLDER = " WHERE share_read_model.version <= excluded.version"


def _latest(updates: Sequence[ShareUpdated]) -> list[ShareUpdated]:
    best: dict[str, ShareUpdated] = {}
    for u in updates:
        if u.student_id not in best or best[u.student_id].version < u.version:
            best[u.student_id] = u
    return list(best.values())


async def upsert_shares(conn: asyncpg.Connection, updates: Sequence[ShareUpdated], *, force: bool = False) -> None:
    rows = _latest(updates)
    if not rows:
        return
    await conn.execute(
        _UPSERT + (_NOT_OLDER if force else _ONLY_NEWER),
        [u.student_id for u in rows], [u.programme_id for u in rows], [u.version for u in rows],
        [u.status.value for u in rows], [u.real_share for u in rows],
        [u.model_dump_json() for u in rows], [u.event_id for u in rows])
