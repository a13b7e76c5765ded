"""HTTP of a student's institution (coordinators): which institution a student belongs to, and a
transfer between institutions that needs both coordinators: the owning one offers (PUT), the
receiving one accepts (PUT .../acceptance). Another institution's student answers 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from werkplek_events.limits import Id, InstitutionId

from . import transfers
from .replies import dumps
from .routes_registry import PROBLEM, Coordinator, _inst
from .schemas import Strict

router = APIRouter(prefix="/v1/students", tags=["students"])
OFFER: dict[int | str, dict[str, Any]] = {201: {"description": "offered"}, 404: PROBLEM, 422: PROBLEM}


class TransferIn(Strict):
    to_institution_id: InstitutionId


class TransferOut(BaseModel):
    from_institution_id: str
    to_institution_id: str
    offered_at: datetime


class StudentOut(BaseModel):
    student_id: str
    institution_id: str
    registered_at: datetime
    transfer: TransferOut | None


def _pool(request: Request) -> Any:
    return request.app.state.registry.pool


def _json(doc: dict[str, Any], status: int = 200) -> Response:
    return Response(dumps(doc), status_code=status, media_type="application/json")


@router.get("/{student_id}", response_model=StudentOut, responses={404: PROBLEM})
async def get_student(request: Request, who: Coordinator, student_id: Id) -> Response:
    """A student of the institution (enrolled by it first, or transferred to it) and any open offer."""
    return _json(await transfers.read_student(_pool(request), _inst(who), student_id))


@router.get("/{student_id}/transfer", response_model=StudentOut, responses={404: PROBLEM})
async def get_transfer(request: Request, who: Coordinator, student_id: Id) -> Response:
    """The open transfer offer of a student, for the offering and the receiving institution."""
    return _json(await transfers.read_transfer(_pool(request), _inst(who), student_id))


@router.put("/{student_id}/transfer", response_model=StudentOut, responses=OFFER)
async def offer_transfer(request: Request, who: Coordinator, student_id: Id, doc: TransferIn) -> Response:
    """Offer the institution's student to another institution; nothing moves until that one accepts."""
    status, body = await transfers.offer_transfer(_pool(request), _inst(who), who.subject, student_id,
                                                  doc.to_institution_id)
    return _json(body, status)


@router.delete("/{student_id}/transfer", response_model=StudentOut, responses={404: PROBLEM})
async def withdraw_transfer(request: Request, who: Coordinator, student_id: Id) -> Response:
    return _json(await transfers.withdraw_transfer(_pool(request), _inst(who), student_id))


@router.put("/{student_id}/transfer/acceptance", response_model=StudentOut, responses={404: PROBLEM})
async def accept_transfer(request: Request, who: Coordinator, student_id: Id) -> Response:
    """Accept a student offered to the institution: from now on it enrols them and agrees placements."""
    return _json(await transfers.accept_transfer(_pool(request), _inst(who), who.subject, student_id))

