"""What the student app reads besides entries: refused batch items (kept until resent or
withdrawn), the outcome progress (placement logging's own read model, read_models.py), and the home
screen in one request (share, outcome progress, placements, refusals, the server's clock), so a
phone on a slow network makes one round trip, not five."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Depends, Request, Response
from werkplek_common.auth import Principal
from werkplek_common.problems import Problem, problem_type

from .replies import dumps
from .routes_shares import placements_of
from .security import student

router = APIRouter(prefix="/v1/me", tags=["student app"])
Student = Annotated[Principal, Depends(student)]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}

_REFUSALS = ("SELECT entry_id, entry, problem, refused_at FROM pl_refusal WHERE student_id = $1"
             " ORDER BY refused_at, entry_id LIMIT 500")


def _json(value: Any) -> Any:
    return orjson.loads(value) if isinstance(value, str | bytes) else value


async def refusals_of(conn: asyncpg.Pool | asyncpg.Connection, student_id: str) -> list[dict[str, Any]]:
    return [{"entry_id": r["entry_id"], "entry": _json(r["entry"]), "problem": _json(r["problem"]),
             "refused_at": r["refused_at"]} for r in await conn.fetch(_REFUSALS, student_id)]


async def _doc(conn: asyncpg.Connection, table: str, student_id: str) -> Any:
    body = await conn.fetchval(f"SELECT body FROM {table} WHERE student_id = $1", student_id)  # noqa: S608 - constant
    return None if body is None else _json(body)


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.app.state.ledger.pool
    return pool


@router.get("/refusals", responses={200: {"description": "refused batch items, oldest first"}})
async def my_refusals(request: Request, who: Student) -> Response:
    """Items a batch refused, with the problem document of the reply: a phone that lost the reply
    learns here what to correct. Resending an item (accepted) or withdrawing it clears it."""
    return Response(dumps({"items": await refusals_of(_pool(request), who.subject)}), media_type="application/json")


@router.delete("/refusals/{entry_id}", status_code=204, responses={404: PROBLEM})
async def withdraw_refusal(request: Request, who: Student, entry_id: uuid.UUID) -> Response:
    """The student gives up a refused item (it was never stored as an entry)."""
    gone = await _pool(request).fetchval("DELETE FROM pl_refusal WHERE student_id = $1 AND entry_id = $2"
                                         " RETURNING true", who.subject, entry_id)
    if not gone:
        raise Problem(404, "No such refused item", "you have no refused item with this id (resent or withdrawn "
                      "already?)", type_=problem_type("not-found"))
    return Response(status_code=204)


@router.get("/outcomes", responses={200: {"description": "the OutcomeProgressUpdated document"}, 404: PROBLEM})
async def my_outcomes(request: Request, who: Student) -> Response:
    async with _pool(request).acquire() as conn:
        doc = await _doc(conn, "pl_outcome_view", who.subject)
    if doc is None:
        raise Problem(404, "No learning outcome has been assessed yet", "your mentor's assessments appear here "
                      "once mentor feedback has recorded one", type_=problem_type("outcomes-not-assessed"))
    return Response(dumps(doc), media_type="application/json")


@router.get("/home", responses={200: {"description": "share, outcome progress, placements and refusals"}})
async def my_home(request: Request, who: Student) -> Response:
    """Everything the app's home screen shows, from one snapshot. `share` and `outcomes` are null
    until hour accounting / mentor feedback computed them; `server_time` lets the phone see its own
    clock is off."""
    async with _pool(request).acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
        doc = {"share": await _doc(conn, "pl_share_view", who.subject),
               "outcomes": await _doc(conn, "pl_outcome_view", who.subject),
               "placements": await placements_of(conn, who.subject),
               "refusals": await refusals_of(conn, who.subject),
               "server_time": datetime.now(UTC)}
    return Response(dumps(doc), media_type="application/json")
