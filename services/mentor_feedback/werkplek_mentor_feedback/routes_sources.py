"""HTTP of tool onboarding (coordinators, their own institution's tools only): register, read,
rotate the secret, set or clear the outbound endpoint, retire, and read the audit trail. A secret
is in exactly two answers: the registration's and the rotation's, each marked no-store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from werkplek_common.auth import Principal, Role, authenticate, require_role
from werkplek_events.limits import Id, Url

from . import onboarding

router = APIRouter(prefix="/v1/sources", tags=["tool onboarding"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
BEARER_DOC: dict[str, Any] = {"security": [{"HTTPBearer": []}]}  # the coordinator's token (api.SCHEMES)
GONE_OR_RETIRED: dict[int | str, dict[str, Any]] = {404: PROBLEM, 409: PROBLEM}
NO_STORE = {"Cache-Control": "no-store"}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceIn(Strict):
    source_id: Id
    endpoint_url: Url | None = Field(None, description="where we POST outbound webhooks (confirmation requests)")


class RotationIn(Strict):
    grace_period_s: Annotated[int, Field(ge=0, le=30 * 86400)] = Field(
        86400, description="how long the previous secrets stay valid beside the new one")


class EndpointIn(Strict):
    url: Url


def coordinator(request: Request) -> Principal:
    return require_role(authenticate(request.app.state.verifier, request), Role.COORDINATOR)


Coordinator = Annotated[Principal, Depends(coordinator)]


def _inst(who: Principal) -> str:
    assert who.institution_id is not None  # the verifier refuses a coordinator token without one
    return who.institution_id


def _now(request: Request) -> datetime:
    return datetime.fromtimestamp(request.app.state.clock(), UTC)


def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(jsonable_encoder(doc), status_code=status, headers=headers)


@router.post("", status_code=201, responses={409: PROBLEM, 422: PROBLEM}, openapi_extra=BEARER_DOC)
async def register_source(request: Request, who: Coordinator, doc: SourceIn) -> Response:
    """Register a mentor tool; the answer holds its signing secret, shown this once."""
    out = await onboarding.register(request.app.state.pool, doc.source_id, _inst(who), who.subject,
                                    doc.endpoint_url, _now(request))
    return _json(out, 201, NO_STORE)


@router.get("", openapi_extra=BEARER_DOC)
async def list_sources(request: Request, who: Coordinator) -> Response:
    return _json({"items": await onboarding.list_own(request.app.state.pool, _inst(who))})


@router.get("/{source_id}", responses={404: PROBLEM}, openapi_extra=BEARER_DOC)
async def get_source(request: Request, who: Coordinator, source_id: Id) -> Response:
    return _json(await onboarding.describe(request.app.state.pool, source_id, _inst(who)))


@router.post("/{source_id}/rotations", status_code=201, responses=GONE_OR_RETIRED, openapi_extra=BEARER_DOC)
async def rotate_secret(request: Request, who: Coordinator, source_id: Id, doc: RotationIn | None = None) -> Response:
    """A new secret (shown this once); the previous ones stay valid for the grace period."""
    grace = (doc or RotationIn()).grace_period_s
    out = await onboarding.rotate(request.app.state.pool, source_id, _inst(who), who.subject, grace, _now(request))
    return _json(out, 201, NO_STORE)


@router.put("/{source_id}/endpoint", status_code=204, responses=GONE_OR_RETIRED, openapi_extra=BEARER_DOC)
async def set_endpoint(request: Request, who: Coordinator, source_id: Id, doc: EndpointIn) -> Response:
    """Set the outbound endpoint; also re-enables one disabled after it answered 410 Gone."""
    await onboarding.set_endpoint(request.app.state.pool, source_id, _inst(who), who.subject, doc.url, _now(request))
    return Response(status_code=204)


@router.delete("/{source_id}/endpoint", status_code=204, responses=GONE_OR_RETIRED, openapi_extra=BEARER_DOC)
async def clear_endpoint(request: Request, who: Coordinator, source_id: Id) -> Response:
    await onboarding.set_endpoint(request.app.state.pool, source_id, _inst(who), who.subject, None, _now(request))
    return Response(status_code=204)


@router.delete("/{source_id}", status_code=204, responses={404: PROBLEM}, openapi_extra=BEARER_DOC)
async def retire_source(request: Request, who: Coordinator, source_id: Id) -> Response:
    """Retire the tool: its webhooks are refused from now on, its mentors get links again."""
    await onboarding.retire(request.app.state.pool, source_id, _inst(who), who.subject, _now(request))
    return Response(status_code=204)


@router.get("/{source_id}/audit", responses={404: PROBLEM}, openapi_extra=BEARER_DOC)
async def source_audit(request: Request, who: Coordinator, source_id: Id) -> Response:
    """Every onboarding action on the tool: who, when, what (never a secret)."""
    return _json({"items": await onboarding.audit_trail(request.app.state.pool, source_id, _inst(who))})


def install(app: FastAPI) -> None:
    app.include_router(router)
