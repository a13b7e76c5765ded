"""HTTP of erasure (docs/adr/0072): a coordinator asks that a student or mentor of their own
institution be erased, and follows the request. Another institution's subject is a 404, like an
unknown one; a second request answers with the first erasure."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict
from werkplek_common.keystore import KeyStore
from werkplek_common.problems import Problem, problem_type
from werkplek_events.limits import Id

from . import erasure
from .metrics import ERASURES
from .replies import dumps
from .routes_registry import PROBLEM, Coordinator, _inst, _reg

router = APIRouter(prefix="/v1", tags=["privacy"])


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_kind: Literal["student", "mentor"]
    subject_id: Id


class ErasureOut(BaseModel):
    erasure_id: uuid.UUID
    subject_kind: Literal["student", "mentor"]
    status: Literal["in_progress", "completed"]
    requested_at: str
    keys_destroyed_at: str | None
    completed_at: str | None
    removed: dict[str, int]


def _keys(request: Request) -> KeyStore:
    if getattr(request.app.state, "keys", None) is None:
        request.app.state.keys = KeyStore()
    keys: KeyStore = request.app.state.keys
    return keys


def _answer(status: int, done: erasure.Erasure) -> Response:
    return Response(dumps(done.document()), status_code=status, media_type="application/json",
                    headers={"Location": f"/v1/erasures/{done.erasure_id}", "Cache-Control": "no-store"})


def _unknown(what: str) -> Problem:
    return Problem(404, f"No such {what}", f"your institution has no {what} with this id",
                   type_=problem_type("not-found"))


@router.post("/erasures", status_code=201, response_model=ErasureOut,
             responses={200: {"model": ErasureOut}, 202: {"model": ErasureOut}, 404: PROBLEM, 422: PROBLEM})
async def request_erasure(request: Request, who: Coordinator, doc: ErasureIn) -> Response:
    """Erase a student or mentor: their data keys are destroyed, their free text and contact data
    removed from every service, the hours keep counting anonymously. 201 when done now, 202 when a
    step is left to the worker (it finishes it), 200 for a subject asked before."""
    reg = _reg(request)
    asked = await erasure.request(reg, doc.subject_kind, doc.subject_id, _inst(who), who.subject)
    if asked is None:
        raise _unknown(doc.subject_kind)
    fresh, done = asked
    if not fresh:
        ERASURES.labels(doc.subject_kind, "repeated").inc()
        return _answer(200, done)
    ERASURES.labels(doc.subject_kind, "requested").inc()
    try:
        done = await erasure.execute(reg, _keys(request), done.erasure_id)
    except Exception:  # recorded: the worker's sweep finishes it
        erasure.log.exception("erasure interrupted; the worker resumes it")
        return _answer(202, done)
    return _answer(201, done)


@router.get("/erasures/{erasure_id}", response_model=ErasureOut, responses={404: PROBLEM})
async def get_erasure(request: Request, who: Coordinator, erasure_id: uuid.UUID) -> Response:
    row = await _reg(request).pool.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1 AND institution_id = $2",
                                            erasure_id, _inst(who))
    if row is None:
        raise _unknown("erasure")
    return _answer(200, erasure.Erasure.of(row))


__all__: list[Any] = ["router"]
