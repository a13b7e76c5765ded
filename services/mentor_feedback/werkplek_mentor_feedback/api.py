"""The HTTP entry points: inbound webhooks per source, the confirmation-link pages, and the
learning-outcome progress read model for students and coordinators. Thin: parse, call, answer.
Every body is limited before it is read (`WERKPLEK_MENTOR_MAX_BODY_BYTES`), so an unauthenticated
webhook cannot make the process buffer more than that; the OpenAPI document declares every status
and security scheme (`werkplek_common.openapi`)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.types import Scope
from werkplek_common import openapi
from werkplek_common.auth import Principal, Role, TokenVerifier, authenticate, check_institution, require_role
from werkplek_common.db import create_pool
from werkplek_common.devidp import ensure_keys
from werkplek_common.http import BodyLimitFor, create_app
from werkplek_common.metrics import TENANT_REFUSALS
from werkplek_common.problems import MEDIA_TYPE, Problem, problem_type
from werkplek_events.limits import Id

from . import SERVICE, linkpages, routes_mail, routes_sources
from .config import MentorFeedbackSettings
from .handlers import receive_webhook
from .metrics import WEBHOOK_SECONDS, WEBHOOKS
from .payloads import envelope_schema
from .sources import ensure_dev_sources, link_key

Clock = Callable[[], float]
PROBLEM: dict[str, Any] = {"content": {MEDIA_TYPE: {}}}
BEARER = "HTTPBearer"
SIGNED = "StandardWebhooks"
SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
             "description": "OIDC access token (JWT) of the institution's IdP"},
    SIGNED: {"type": "apiKey", "in": "header", "name": "webhook-signature",
             "description": "Standard Webhooks 1.0: `v1,<base64 HMAC-SHA256>` of `webhook-id.webhook-timestamp.body` "
                            "with the source's secret; also send webhook-id and webhook-timestamp (Unix seconds)"},
}


def verifier_for(cfg: MentorFeedbackSettings) -> TokenVerifier:
    if cfg.mentor_oidc_jwks_url:
        return TokenVerifier(issuer=cfg.mentor_oidc_issuer, audience=cfg.mentor_oidc_audience,
                             jwks_url=cfg.mentor_oidc_jwks_url)
    return TokenVerifier(issuer=cfg.mentor_oidc_issuer, audience=cfg.mentor_oidc_audience,
                         jwks_file=ensure_keys(cfg.data_dir))


def body_limit(cfg: MentorFeedbackSettings) -> BodyLimitFor:
    """A confirmation form answers up to 500 entries, percent-encoded; everything else the default."""
    def limit(scope: Scope) -> int:
        return cfg.mentor_max_form_bytes if scope.get("path", "").startswith("/confirm/") else cfg.mentor_max_body_bytes
    return limit


def build_app(cfg: MentorFeedbackSettings, *, pool: asyncpg.Pool | None = None, clock: Clock = time.time,
              key: bytes | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is not None:  # injected (tests): the caller owns it
            yield
            return
        app.state.pool = await create_pool(cfg.service_dsn, limits=cfg.pg_limits)
        if cfg.mentor_dev_sources:
            await ensure_dev_sources(app.state.pool, cfg.mentor_secrets_dir, cfg.mentor_dev_sources)
        yield
        await app.state.pool.close()

    async def ready() -> None:
        await app.state.pool.fetchval("SELECT 1")

    app = create_app(SERVICE, title="werkplek mentor feedback", version="1.0.0", ready=ready, lifespan=lifespan,
                     body_limit=body_limit(cfg),
                     description="Signed webhooks from mentors' tools, the mentor page behind confirmation links, "
                                 "tool onboarding, mail deliveries and outcome progress. "
                                 "Errors are RFC 9457 problem documents naming every field at fault.")
    app.state.cfg, app.state.clock, app.state.verifier, app.state.pool = cfg, clock, verifier_for(cfg), pool
    app.state.link_key = key or link_key(cfg.mentor_link_secret, cfg.mentor_secrets_dir)
    _webhook_routes(app)
    _progress_routes(app)
    linkpages.install(app)
    routes_sources.install(app)
    routes_mail.install(app)
    openapi.install(app, SCHEMES)
    return app


def _webhook_routes(app: FastAPI) -> None:
    @app.post("/webhooks/{source_id}", status_code=202, tags=["webhooks"],
              summary="A Standard Webhooks message from a mentor's tool",
              responses={202: {"description": "committed; a resent webhook-id gets the first answer"},
                         **{s: PROBLEM for s in (401, 403, 409, 422)}},
              openapi_extra={"security": [{SIGNED: []}], "requestBody": {"required": True, "content": {
                  "application/json": {"schema": envelope_schema()}}}})
    async def webhook(source_id: Id, request: Request) -> Response:
        started = time.perf_counter()
        body = await request.body()
        answer = await receive_webhook(app.state.pool, source_id, request.headers, body, now=app.state.clock(),
                                       tolerance_s=app.state.cfg.mentor_webhook_tolerance_s)
        WEBHOOKS.labels(answer.kind, answer.result).inc()
        WEBHOOK_SECONDS.observe(time.perf_counter() - started)
        media = MEDIA_TYPE if answer.is_problem else "application/json"
        if answer.is_problem:
            answer.body["instance"] = request.url.path
        return JSONResponse(answer.body, status_code=answer.status, media_type=media, headers=answer.headers)


def _progress_routes(app: FastAPI) -> None:
    @app.get("/students/{student_id}/outcome-progress", tags=["progress"], responses={404: PROBLEM},
             summary="A student's learning-outcome progress (the student, or a coordinator of their institution)",
             openapi_extra={"security": [{BEARER: []}]})
    async def progress(student_id: Id, request: Request) -> dict[str, Any]:
        who = require_role(authenticate(app.state.verifier, request), Role.STUDENT, Role.COORDINATOR)
        pool: asyncpg.Pool = app.state.pool
        if not may_read(who, student_id, await _institution_of(pool, student_id)):
            raise _not_found(student_id)
        row = await pool.fetchrow("SELECT version, body, updated_at FROM outcome_progress_read_model"
                                  " WHERE student_id = $1", student_id)
        if row is None:
            raise _not_found(student_id)
        return {**json.loads(row["body"]), "version": row["version"], "updated_at": row["updated_at"].isoformat()}


async def _institution_of(pool: asyncpg.Pool, student_id: str) -> str | None:
    """The student's institution as mentor feedback knows it: the one of their latest placement (the
    registry lets only the student's own institution agree one)."""
    value: str | None = await pool.fetchval(
        "SELECT institution_id FROM mf_placements WHERE student_id = $1 AND institution_id IS NOT NULL"
        " ORDER BY terms_at DESC LIMIT 1", student_id)
    return value


def may_read(who: Principal, student_id: str, institution: str | None) -> bool:
    """The student themself (whose token must name their institution: else 403), or a coordinator of
    the student's institution; anyone else is answered as if the student had no progress."""
    if who.role is Role.STUDENT:
        return who.subject == student_id and check_institution(who, institution) is who
    if institution is not None and institution != who.institution_id:
        TENANT_REFUSALS.labels("student", "path").inc()
        return False
    return institution is not None


def _not_found(student_id: str) -> Problem:
    return Problem(404, "No progress for this student", f"no outcome progress for {student_id!r} that you may read",
                   type_=problem_type("not-found"))
