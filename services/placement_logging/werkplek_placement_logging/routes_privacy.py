"""HTTP of privacy, for coordinators of the subject's own institution: erasure (docs/adr/0072) — ask
that a student or mentor be erased and follow the request; another institution's subject is a 404,
like an unknown one; a second request answers with the first erasure — and the student behind a
funding report's pseudonymous trajectory (docs/adr/0074), each reveal logged. An erasure of a student
may ask full removal (`remove_from_figures`): the student also leaves every aggregate figure."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from werkplek_common.keystore import KeyStore
from werkplek_common.problems import Problem, problem_type
from werkplek_events.limits import Id

from . import access, erasure
from .metrics import ERASURES
from .replies import dumps
from .routes_registry import PROBLEM, Coordinator, _inst, _reg

router = APIRouter(prefix="/v1", tags=["privacy"])


class ErasureIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_kind: Literal["student", "mentor"]
    subject_id: Id
    remove_from_figures: bool = Field(
        False, description="Full removal (a student only): the student is also left out of every funding"
                           " report, which is recomputed without them. By default the hours keep counting,"
                           " anonymously. Can be added to an earlier erasure, never taken back.")

    @model_validator(mode="after")
    def _students_only(self) -> ErasureIn:
        if self.remove_from_figures and self.subject_kind != "student":
            raise ValueError("remove_from_figures is for a student only: the hours in the figures are students'")
        return self


class TrajectoryOut(BaseModel):
    trajectory: str
    student_id: str


class ErasureOut(BaseModel):
    erasure_id: uuid.UUID
    subject_kind: Literal["student", "mentor"]
    status: Literal["in_progress", "completed"]
    requested_at: str
    keys_destroyed_at: str | None
    completed_at: str | None
    removed: dict[str, int]
    remove_from_figures: bool


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
             responses={200: {"model": ErasureOut}, 202: {"model": ErasureOut}, 404: PROBLEM, 409: PROBLEM,
                        422: PROBLEM})
async def request_erasure(request: Request, who: Coordinator, doc: ErasureIn) -> Response:
    """Erase a student or mentor: their data keys are destroyed, their free text and contact data
    removed from every service; the hours keep counting anonymously unless `remove_from_figures`
    (full removal, a student only). 201 when done now, 202 when a step is left to the worker (it
    finishes it), 200 for a subject asked before with the same option (the first erasure) or when
    full removal is added to an erasure that kept the figures (202 if left to the worker); 409 when
    the figures are to be kept for a student already removed from them."""
    reg = _reg(request)
    asked = await erasure.request(reg, doc.subject_kind, doc.subject_id, _inst(who), who.subject,
                                  doc.remove_from_figures)
    if asked is None:
        raise _unknown(doc.subject_kind)
    what, done = asked
    if what is erasure.Asked.CONFLICT:
        raise Problem(409, "Already removed from the figures",
                      f"erasure {done.erasure_id} removed this student from every figure; that cannot be undone",
                      type_=problem_type("erasure-removal-final"))
    if what is erasure.Asked.REPEATED:
        ERASURES.labels(doc.subject_kind, "repeated").inc()
        return _answer(200, done)
    ERASURES.labels(doc.subject_kind, "requested" if what is erasure.Asked.NEW else "removal_added").inc()
    try:
        done = await erasure.execute(reg, _keys(request), done.erasure_id)
    except Exception:  # recorded: the worker's sweep finishes it
        erasure.log.exception("erasure interrupted; the worker resumes it")
        return _answer(202, done)
    return _answer(201 if what is erasure.Asked.NEW else 200, done)


@router.get("/erasures/{erasure_id}", response_model=ErasureOut, responses={404: PROBLEM})
async def get_erasure(request: Request, who: Coordinator, erasure_id: uuid.UUID) -> Response:
    row = await _reg(request).pool.fetchrow("SELECT * FROM pl_erasure WHERE erasure_id = $1 AND institution_id = $2",
                                            erasure_id, _inst(who))
    if row is None:
        raise _unknown("erasure")
    return _answer(200, erasure.Erasure.of(row))


@router.get("/trajectories/{trajectory}", response_model=TrajectoryOut, responses={404: PROBLEM})
async def reveal_trajectory(request: Request, who: Coordinator,
                            trajectory: Annotated[str, Path(pattern=r"^t-[0-9a-f]{16}$")]) -> Response:
    """The student of your institution behind a pseudonymous trajectory of a funding report (funding
    staff see only the pseudonym). Every reveal is logged with who asked."""
    key = request.app.state.settings.reports_pseudonym_key.get_secret_value().encode()
    student = await access.reveal(_reg(request).pool, who, trajectory, key)
    if student is None:
        raise _unknown("trajectory")
    return Response(dumps({"trajectory": trajectory, "student_id": student}), media_type="application/json",
                    headers={"Cache-Control": "no-store"})
