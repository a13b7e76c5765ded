"""A student's real workplace share, as hour accounting computed it: placement logging's own read
model (pl_share_view, filled by the worker from accounting.share.updated.v1; read_models.py). For a
student hour accounting has not computed yet, the answer is a 404 problem saying so: never a made-up
value. Also the student's own placements."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from werkplek_common.auth import Principal
from werkplek_common.problems import Problem, comma_choices, problem_type
from werkplek_events.limits import ProgrammeId
from werkplek_events.vocabulary import ShareStatus

from .registry_store import decode_cursor, encode_cursor, stored_doc
from .replies import dumps
from .routes_registry import Coordinator
from .schemas import SharePage, StoredPage
from .security import student

router = APIRouter(prefix="/v1", tags=["shares"])
Student = Annotated[Principal, Depends(student)]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _not_computed(detail: str) -> Problem:
    return Problem(404, "The share has not been computed yet", detail, type_=problem_type("share-not-computed"))


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.ledger.pool
    return pool


@router.get("/me/share", responses={200: {"description": "the ShareUpdated document of hour accounting"},
                                    404: PROBLEM})
async def my_share(request: Request, who: Student) -> Response:
    row = await _pool(request).fetchrow("SELECT body, version FROM pl_share_view WHERE student_id = $1", who.subject)
    if row is None:
        raise _not_computed("hour accounting has not computed your share yet; it follows your confirmed hours")
    body = row["body"] if isinstance(row["body"], str) else dumps(row["body"]).decode()
    return Response(body, media_type="application/json", headers={"ETag": f'"{row["version"]}"'})


_SHARES = """
SELECT s.student_id, s.programme_id, s.version, s.status, s.real_share, s.body, s.updated_at
FROM pl_share_view s
JOIN pl_student st ON st.student_id = s.student_id AND st.institution_id = $1
WHERE s.student_id > $2 AND ($3::text IS NULL OR s.programme_id = $3)
  AND ($5::text[] IS NULL OR s.status = ANY($5::text[]))
ORDER BY s.student_id LIMIT $4
"""


def statuses(value: str | None) -> list[str] | None:
    """`at_risk,behind` → the statuses asked for; None: all. An unknown status is a 422 naming it."""
    known = sorted(s.value for s in ShareStatus)
    return None if value is None else comma_choices(value, known, "query.status", "statuses")


@router.get("/shares", response_model=SharePage, responses={404: PROBLEM, 422: PROBLEM})
async def institution_shares(request: Request, who: Coordinator, programme_id: ProgrammeId | None = None,
                             status: Annotated[str | None, Query(max_length=100, examples=["at_risk,behind"])] = None,
                             cursor: str | None = None, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    """Shares of the institution's students (those it enrolled first or received by transfer),
    keyset-paginated by student id; `status=at_risk,behind` lists only the students whose status is
    one of those (the early-warning list)."""
    after, wanted = decode_cursor(cursor) or "", statuses(status)
    rows = await _pool(request).fetch(_SHARES, who.institution_id, after, programme_id, limit + 1, wanted)
    items: list[dict[str, Any]] = [
        {**dict(r), "body": orjson.loads(r["body"]) if isinstance(r["body"], str) else r["body"]}
        for r in rows[:limit]]
    nxt = encode_cursor(items[-1]["student_id"]) if len(rows) > limit else None
    return Response(dumps({"items": items, "next_cursor": nxt}), media_type="application/json")


_PLACEMENTS = "SELECT * FROM pl_placement WHERE student_id = $1 ORDER BY id LIMIT 1000"


async def placements_of(conn: asyncpg.Pool | asyncpg.Connection, student_id: str) -> list[dict[str, Any]]:
    return [stored_doc(r) for r in await conn.fetch(_PLACEMENTS, student_id)]


@router.get("/me/placements", response_model=StoredPage, tags=["time entries"])
async def my_placements(request: Request, who: Student) -> Response:
    items = await placements_of(_pool(request), who.subject)
    return Response(dumps({"items": items, "next_cursor": None}), media_type="application/json")
