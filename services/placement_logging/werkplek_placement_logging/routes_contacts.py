"""HTTP of contact data (coordinators, own institution only): a mentor's e-mail address and language
(`/v1/mentors/{id}/contact`), and the notification address of the coordinator's institution
(`/v1/notification-address`), where the daily digest of students at risk and undeliverable mails go.
Contact data stays out of the mentor's registry body: it is personal data, kept in one place."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from werkplek_common.problems import Problem, problem_type
from werkplek_events.limits import Id

from . import access, contacts
from .contacts import ContactIn, ContactOut
from .replies import dumps
from .routes_registry import PROBLEM, Coordinator, _inst, _reg

router = APIRouter(prefix="/v1", tags=["contacts"])
WRITE: dict[int | str, dict[str, Any]] = {200: {"model": ContactOut}, 201: {"model": ContactOut}, 404: PROBLEM,
                                          422: PROBLEM}
READ: dict[int | str, dict[str, Any]] = {200: {"model": ContactOut}, 404: PROBLEM}


def _answer(status: int, row: Any) -> Response:
    doc = {"subject_id": row["id"], "email": row["email"], "language": row["language"], "version": row["version"]}
    return Response(dumps(doc), status_code=status, media_type="application/json",
                    headers={"ETag": f'"{row["version"]}"', "Cache-Control": "no-store"})


def _no_contact(what: str) -> Problem:
    return Problem(404, "No contact data", f"no {what} is stored", type_=problem_type("not-found"))


@router.put("/mentors/{mentor_id}/contact", responses=WRITE, response_model=ContactOut)
async def put_mentor_contact(request: Request, who: Coordinator, mentor_id: Id, doc: ContactIn) -> Response:
    """Set the mentor's e-mail address and language (MentorContactChanged): confirmation requests,
    reminders and fresh links are mailed there, in that language."""
    return _answer(*await contacts.put(_reg(request), "mentor", mentor_id, _inst(who), doc))


@router.get("/mentors/{mentor_id}/contact", responses=READ, response_model=ContactOut)
async def get_mentor_contact(request: Request, who: Coordinator, mentor_id: Id) -> Response:
    row = await contacts.load(_reg(request).pool, "mentor", mentor_id, _inst(who))
    if row is None:
        raise _no_contact("e-mail address for this mentor")
    await access.record_read(_reg(request).pool, who, "mentor_contact", mentor_id)  # staff read of personal data
    return _answer(200, row)


@router.delete("/mentors/{mentor_id}/contact", status_code=204, responses={404: PROBLEM})
async def delete_mentor_contact(request: Request, who: Coordinator, mentor_id: Id) -> Response:
    """Remove the mentor's address: from then on their requests show as undeliverable."""
    if not await contacts.remove(_reg(request), "mentor", mentor_id, _inst(who)):
        raise _no_contact("e-mail address for this mentor")
    return Response(status_code=204)


@router.put("/notification-address", responses=WRITE, response_model=ContactOut)
async def put_notification_address(request: Request, who: Coordinator, doc: ContactIn) -> Response:
    """Where the institution's coordinators are notified (InstitutionContactChanged): the daily digest
    of students who became at risk or behind."""
    return _answer(*await contacts.put(_reg(request), "institution", _inst(who), _inst(who), doc))


@router.get("/notification-address", responses=READ, response_model=ContactOut)
async def get_notification_address(request: Request, who: Coordinator) -> Response:
    row = await contacts.load(_reg(request).pool, "institution", _inst(who), _inst(who))
    if row is None:
        raise _no_contact("notification address for your institution")
    return _answer(200, row)


@router.delete("/notification-address", status_code=204, responses={404: PROBLEM})
async def delete_notification_address(request: Request, who: Coordinator) -> Response:
    if not await contacts.remove(_reg(request), "institution", _inst(who), _inst(who)):
        raise _no_contact("notification address for your institution")
    return Response(status_code=204)
