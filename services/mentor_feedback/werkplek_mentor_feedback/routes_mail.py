"""HTTP of mail deliveries for coordinators (their own institution's): what was sent, what bounced
or failed and why, and what cannot be delivered because a mentor has no address."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from werkplek_common.problems import Problem, comma_choices, problem_type

from .routes_sources import BEARER_DOC, PROBLEM, Coordinator

router = APIRouter(prefix="/v1", tags=["mail"])
STATES = ("pending", "sent", "failed", "bounced", "undeliverable", "expired")
_LIST = """
SELECT mail_id, kind, recipient_kind, recipient_id, request_id, state, attempts, last_error, sent_to, created_at,
       finished_at, next_attempt_at
FROM mf_mails WHERE institution_id = $1 AND state = ANY($2::text[]) AND ($3::timestamptz IS NULL OR created_at < $3)
ORDER BY created_at DESC LIMIT $4
"""


def _states(value: str | None) -> list[str]:
    return list(STATES) if value is None else comma_choices(value, list(STATES), "query.state", "states")


@router.get("/mail-deliveries", responses={422: PROBLEM}, openapi_extra=BEARER_DOC)
async def mail_deliveries(request: Request, who: Coordinator,
                          state: Annotated[str | None, Query(max_length=100, examples=["bounced,failed,undeliverable"])]
                          = None, before: Annotated[str | None, Query(max_length=40, description="created_at of the "
                                                                      "last item of the previous page")] = None,
                          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> Response:
    """Mails to the institution's mentors and coordinators, newest first; `state=bounced,failed,
    undeliverable` lists the ones that did not arrive (a mentor without an address: undeliverable)."""
    try:
        cursor = datetime.fromisoformat(before) if before else None
    except ValueError:
        raise Problem(422, "Request is not valid", "query.before: an ISO 8601 timestamp",
                      type_=problem_type("validation"),
                      errors=[{"field": "query.before", "message": "an ISO 8601 timestamp"}]) from None
    rows = await request.app.state.pool.fetch(_LIST, who.institution_id, _states(state), cursor, limit)
    items: list[dict[str, Any]] = [dict(r) for r in rows]
    return JSONResponse(jsonable_encoder({"items": items}), headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    app.include_router(router)
