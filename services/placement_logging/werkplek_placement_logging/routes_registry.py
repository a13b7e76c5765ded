"""HTTP of the registry (coordinators of an institution): runs the use cases (`usecases/registry.py`,
`usecases/funding.py`) on the PostgreSQL unit of work and maps their results to statuses, problem
documents and ETags. Objects are created and replaced with PUT on
their id (naturally idempotent, so no Idempotency-Key is needed); storing the same terms twice changes
nothing and emits no event. Another institution's ids answer 404."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from werkplek_common.auth import Principal
from werkplek_common.problems import Problem, problem_type
from werkplek_events.limits import AcademicYear, Id, PilotId, ProgrammeId

from . import registry_store
from .domain import etag
from .metrics import REGISTRY_CHANGES
from .registry_rules import enrolment_id
from .replies import dumps
from .schemas import (
    CreditsIn,
    EnrolmentEndIn,
    EnrolmentIn,
    MentorIn,
    PilotIn,
    PlacementEndIn,
    PlacementIn,
    ProgrammeIn,
    Stored,
    StoredPage,
    WorkplaceIn,
)
from .security import coordinator
from .uow_pg import Registry
from .usecases import funding, registry
from .usecases.registry import Reason, Refusal, Result

router = APIRouter(prefix="/v1", tags=["registry"])
Coordinator = Annotated[Principal, Depends(coordinator)]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
WRITE: dict[int | str, dict[str, Any]] = {200: {"model": Stored}, 201: {"model": Stored}, 404: PROBLEM,
                                          409: PROBLEM, 412: PROBLEM, 422: PROBLEM}
READ: dict[int | str, dict[str, Any]] = {404: PROBLEM}
Limit = Annotated[int, Query(ge=1, le=500)]


def _reg(request: Request) -> Registry:
    reg: Registry = request.app.state.registry
    return reg


def _inst(who: Principal) -> str:
    assert who.institution_id is not None  # the verifier refuses a coordinator token without one
    return who.institution_id


def _answer(status: int, row: Any) -> Response:
    return Response(dumps(registry_store.stored_doc(row)), status_code=status, media_type="application/json",
                    headers={"ETag": etag(row["version"])})


_TITLES = {Reason.NOT_FOUND: "No such {}", Reason.INVALID: "The {} is not valid", Reason.ENDED: "The {} has ended",
           Reason.ALREADY_ENDED: "The {} has already ended", Reason.CHANGED: "The {} has changed"}


def problem(refusal: Refusal) -> Problem:
    title = "The credits are not valid" if refusal.subject == "credits" and refusal.reason is Reason.INVALID \
        else _TITLES[refusal.reason].format(refusal.subject)
    if refusal.reason is Reason.NOT_FOUND:
        return Problem(404, title, refusal.detail, type_=problem_type("not-found"))
    if refusal.reason is Reason.INVALID:
        return Problem(422, title, refusal.detail, type_=problem_type("registry-invalid"), errors=refusal.errors)
    if refusal.reason is Reason.CHANGED:
        return Problem(412, title, refusal.detail, type_=problem_type("precondition-failed"))
    return Problem(409, title, refusal.detail, type_=problem_type(f"{refusal.subject}-ended"))


def _result(result: Result) -> Response:
    if isinstance(result, Refusal):
        raise problem(result)
    if result.changed is not None:
        REGISTRY_CHANGES.labels(result.changed).inc()
    return _answer(201 if result.created else 200, result.row)


async def _get(request: Request, kind: str, obj_id: str, who: Principal) -> Response:
    row = await registry_store.load(_reg(request).pool, kind, obj_id, _inst(who))
    if row is None:
        raise registry_store.not_found(kind)
    return _answer(200, row)


async def _list(request: Request, kind: str, who: Principal, cursor: str | None, limit: int,
                where: str = "", args: tuple[Any, ...] = ()) -> Response:
    doc = await registry_store.page(_reg(request).pool, kind, _inst(who), cursor, limit, where, args)
    return Response(dumps(doc), media_type="application/json")


@router.put("/programmes/{programme_id}", responses=WRITE, response_model=Stored, status_code=200)
async def put_programme(request: Request, who: Coordinator, programme_id: ProgrammeId, doc: ProgrammeIn) -> Response:
    """Register a programme or replace its terms (ProgrammeRegistered)."""
    return _result(await registry.put_programme(_reg(request), registry.PutProgramme(_inst(who), programme_id, doc)))


@router.get("/programmes/{programme_id}", responses=READ, response_model=Stored)
async def get_programme(request: Request, who: Coordinator, programme_id: Id) -> Response:
    return await _get(request, "programme", programme_id, who)


@router.get("/programmes", response_model=StoredPage)
async def list_programmes(request: Request, who: Coordinator, cursor: str | None = None,
                          limit: Limit = 100) -> Response:
    return await _list(request, "programme", who, cursor, limit)


@router.put("/enrolments/{student_id}/{academic_year}", responses=WRITE, response_model=Stored, status_code=200)
async def put_enrolment(request: Request, who: Coordinator, student_id: Id, academic_year: AcademicYear,
                        doc: EnrolmentIn) -> Response:
    """Enrol a student in a programme for an academic year (StudentEnrolled), or replace the terms. Once
    the enrolment has ended it is closed: any PUT answers 409 naming the date it ended (the ending is
    kept; it cannot be undone or re-enrolled for the same year)."""
    return _result(await registry.put_enrolment(_reg(request), registry.PutEnrolment(_inst(who), student_id,
                                                                               academic_year, doc)))


@router.put("/enrolments/{student_id}/{academic_year}/ending", responses=WRITE, response_model=Stored)
async def end_enrolment(request: Request, who: Coordinator, student_id: Id, academic_year: AcademicYear,
                        doc: EnrolmentEndIn) -> Response:
    """End an enrolment (EnrolmentEnded): graduated, dropped out or transferred, on or after September 1
    of the academic year. The same ending again answers 200 and emits nothing; another ending of an
    ended enrolment answers 409."""
    return _result(await registry.end_enrolment(_reg(request), registry.EndEnrolment(_inst(who), student_id,
                                                                               academic_year, doc)))


@router.get("/enrolments/{student_id}/{academic_year}", responses=READ, response_model=Stored)
async def get_enrolment(request: Request, who: Coordinator, student_id: Id, academic_year: AcademicYear) -> Response:
    return await _get(request, "enrolment", enrolment_id(student_id, academic_year), who)


@router.put("/enrolments/{student_id}/{academic_year}/credits", responses=WRITE, response_model=Stored,
            status_code=200)
async def put_credits(request: Request, who: Coordinator, student_id: Id, academic_year: AcademicYear,
                      doc: CreditsIn) -> Response:
    """Record the credits the student took and earned in this academic year (CreditsRecorded): study
    efficiency = earned ÷ taken. Earned above taken, or taken above the programme's ECTS, answers 422.
    They count for the enrolment's programme: after moving the enrolment, record them again."""
    return _result(await funding.put_credits(_reg(request), funding.PutCredits(_inst(who), student_id, academic_year,
                                                                         doc)))


@router.get("/enrolments/{student_id}/{academic_year}/credits", responses=READ, response_model=Stored)
async def get_credits(request: Request, who: Coordinator, student_id: Id, academic_year: AcademicYear) -> Response:
    return await _get(request, "credits", enrolment_id(student_id, academic_year), who)


@router.get("/enrolments", response_model=StoredPage)
async def list_enrolments(request: Request, who: Coordinator, cursor: str | None = None,
                          limit: Limit = 100) -> Response:
    return await _list(request, "enrolment", who, cursor, limit)


@router.put("/workplaces/{workplace_id}", responses=WRITE, response_model=Stored, status_code=200)
async def put_workplace(request: Request, who: Coordinator, workplace_id: Id, doc: WorkplaceIn) -> Response:
    """Register a workplace (WorkplaceRegistered)."""
    return _result(await registry.put_workplace(_reg(request), registry.PutWorkplace(_inst(who), workplace_id, doc)))


@router.get("/workplaces/{workplace_id}", responses=READ, response_model=Stored)
async def get_workplace(request: Request, who: Coordinator, workplace_id: Id) -> Response:
    return await _get(request, "workplace", workplace_id, who)


@router.get("/workplaces", response_model=StoredPage)
async def list_workplaces(request: Request, who: Coordinator, cursor: str | None = None,
                          limit: Limit = 100) -> Response:
    return await _list(request, "workplace", who, cursor, limit)


@router.put("/mentors/{mentor_id}", responses=WRITE, response_model=Stored, status_code=200)
async def put_mentor(request: Request, who: Coordinator, mentor_id: Id, doc: MentorIn) -> Response:
    """Register a mentor of one of the institution's workplaces (MentorRegistered)."""
    return _result(await registry.put_mentor(_reg(request), registry.PutMentor(_inst(who), mentor_id, doc)))


@router.get("/mentors/{mentor_id}", responses=READ, response_model=Stored)
async def get_mentor(request: Request, who: Coordinator, mentor_id: Id) -> Response:
    return await _get(request, "mentor", mentor_id, who)


@router.put("/placements/{placement_id}", responses=WRITE, response_model=Stored, status_code=200)
async def put_placement(request: Request, who: Coordinator, placement_id: Id, doc: PlacementIn,
                        if_match: Annotated[str | None, Header()] = None) -> Response:
    """Agree a placement (201, PlacementAgreed) or amend its terms (200, PlacementAmended). If-Match
    with the ETag guards an amendment against a concurrent change."""
    return _result(await registry.put_placement(_reg(request), registry.PutPlacement(_inst(who), placement_id, doc,
                                                                               if_match)))


@router.put("/placements/{placement_id}/ending", responses=WRITE, response_model=Stored)
async def end_placement(request: Request, who: Coordinator, placement_id: Id, doc: PlacementEndIn) -> Response:
    """End a placement (PlacementEnded); entries after the end date are refused from then on."""
    return _result(await registry.end_placement(_reg(request), registry.EndPlacement(_inst(who), placement_id, doc)))


@router.get("/placements/{placement_id}", responses=READ, response_model=Stored)
async def get_placement(request: Request, who: Coordinator, placement_id: Id) -> Response:
    return await _get(request, "placement", placement_id, who)


@router.get("/placements", response_model=StoredPage)
async def list_placements(request: Request, who: Coordinator, student_id: Id | None = None,
                          cursor: str | None = None,
                          limit: Limit = 100) -> Response:
    if student_id is None:
        return await _list(request, "placement", who, cursor, limit)
    await registry_store.foreign_student(_reg(request).pool, student_id, _inst(who), "query")  # counted only
    return await _list(request, "placement", who, cursor, limit, "AND student_id = $3", (student_id,))


@router.put("/pilots/{pilot_id}", responses=WRITE, response_model=Stored, status_code=200)
async def put_pilot(request: Request, who: Coordinator, pilot_id: PilotId, doc: PilotIn) -> Response:
    """Register a pilot (proeftuin) or replace its terms (PilotRegistered): its programmes, partners,
    period and the budget of each academic year in it. Trajectories join it with `pilot_id` on their
    enrolment."""
    return _result(await funding.put_pilot(_reg(request), funding.PutPilot(_inst(who), pilot_id, doc)))


@router.get("/pilots/{pilot_id}", responses=READ, response_model=Stored)
async def get_pilot(request: Request, who: Coordinator, pilot_id: Id) -> Response:
    return await _get(request, "pilot", pilot_id, who)


@router.get("/pilots", response_model=StoredPage)
async def list_pilots(request: Request, who: Coordinator, cursor: str | None = None, limit: Limit = 100) -> Response:
    return await _list(request, "pilot", who, cursor, limit)
