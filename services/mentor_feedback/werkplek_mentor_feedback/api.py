"""The HTTP entry points: inbound webhooks per source, the confirmation-link pages, and the
learning-outcome progress read model for students and coordinators. Thin: parse, call, answer."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from werkplek_common.auth import Principal, Role, TokenVerifier, authenticate, require_role
from werkplek_common.db import create_pool
from werkplek_common.devidp import ensure_keys
from werkplek_common.http import create_app
from werkplek_common.problems import MEDIA_TYPE, Problem, problem_type

from . import SERVICE, linkpages
from .config import MentorFeedbackSettings
from .handlers import receive_webhook
from .metrics import WEBHOOK_SECONDS, WEBHOOKS
from .sources import ensure_dev_sources, link_key

Clock = Callable[[], float]


def verifier_for(cfg: MentorFeedbackSettings) -> TokenVerifier:
    if cfg.mentor_oidc_jwks_url:
        return TokenVerifier(issuer=cfg.mentor_oidc_issuer, audience=cfg.mentor_oidc_audience,
                             jwks_url=cfg.mentor_oidc_jwks_url)
    return TokenVerifier(issuer=cfg.mentor_oidc_issuer, audience=cfg.mentor_oidc_audience,
                         jwks_file=ensure_keys(cfg.data_dir))


def build_app(cfg: MentorFeedbackSettings, *, pool: asyncpg.Pool | None = None, clock: Clock = time.time,
              key: bytes | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if pool is not None:  # injected (tests): the caller owns it
            yield
            return
        app.state.pool = await create_pool(cfg.pg_dsn, limits=cfg.pg_limits)
        if cfg.mentor_dev_sources:
            await ensure_dev_sources(app.state.pool, cfg.mentor_secrets_dir, cfg.mentor_dev_sources)
        yield
        await app.state.pool.close()

    async def ready() -> None:
        await app.state.pool.fetchval("SELECT 1")

    app = create_app(SERVICE, title="werkplek mentor feedback", version="1.0.0", ready=ready, lifespan=lifespan,
                     description="Signed webhooks from mentors' tools, confirmation links, outcome progress.")
    app.state.cfg, app.state.clock, app.state.verifier, app.state.pool = cfg, clock, verifier_for(cfg), pool
    app.state.link_key = key or link_key(cfg.mentor_link_secret, cfg.mentor_secrets_dir)
    _webhook_routes(app)
    _progress_routes(app)
    linkpages.install(app)
    return app


def _webhook_routes(app: FastAPI) -> None:
    @app.post("/webhooks/{source_id}", status_code=202, tags=["webhooks"],
              summary="A Standard Webhooks message from a mentor's tool")
    async def webhook(source_id: str, request: Request) -> Response:
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
    @app.get("/students/{student_id}/outcome-progress", tags=["progress"],
             summary="A student's learning-outcome progress (the student, or a coordinator of their institution)")
    async def progress(student_id: str, request: Request) -> dict[str, Any]:
        who = require_role(authenticate(app.state.verifier, request), Role.STUDENT, Role.COORDINATOR)
        pool: asyncpg.Pool = app.state.pool
        if not await _may_read(pool, who, student_id):
            raise _not_found(student_id)
        row = await pool.fetchrow("SELECT version, body, updated_at FROM outcome_progress_read_model"
                                  " WHERE student_id = $1", student_id)
        if row is None:
            raise _not_found(student_id)
        return {**json.loads(row["body"]), "version": row["version"], "updated_at": row["updated_at"].isoformat()}


async def _may_read(pool: asyncpg.Pool, who: Principal, student_id: str) -> bool:
    if who.role is Role.STUDENT:
        return who.subject == student_id
    # a coordinator sees the students placed by their own institution; others look like absent students
    return bool(await pool.fetchval("SELECT 1 FROM mf_placements WHERE student_id = $1 AND institution_id = $2"
                                    " LIMIT 1", student_id, who.institution_id))


def _not_found(student_id: str) -> Problem:
    return Problem(404, "No progress for this student", f"no outcome progress for {student_id!r} that you may read",
                   type_=problem_type("not-found"))
