"""The placement logging API: wiring only (settings, pool, verifier, routers, OpenAPI 3.1)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.middleware import Middleware
from starlette.types import Scope
from werkplek_common import openapi
from werkplek_common.auth import IssuerVerifiers, TokenVerifier
from werkplek_common.db import create_pool
from werkplek_common.devidp import DEV_AUDIENCE, DEV_ISSUER, ensure_keys
from werkplek_common.http import BodyLimitFor, create_app
from werkplek_common.metrics import OUTBOX_BACKLOG, OUTBOX_RELAY_LAG

from . import (
    routes_contacts,
    routes_entries,
    routes_me,
    routes_privacy,
    routes_registry,
    routes_shares,
    routes_students,
)
from .config import SERVICE, Settings
from .hot_routes import HotRoutes
from .nudge import RelayNudge
from .schemas import BatchIn, EntryIn
from .security import Authenticator, StudentInstitutions
from .uow_pg import Ledger, Registry


def verifier_for(cfg: Settings) -> TokenVerifier | IssuerVerifiers:
    if not cfg.oidc_jwks_url:
        jwks = cfg.oidc_jwks_file or ensure_keys(cfg.data_dir)
        return TokenVerifier(issuer=cfg.oidc_issuer, audience=cfg.oidc_audience, jwks_file=jwks,
                             role_claim=cfg.oidc_role_claim, institution_claim=cfg.oidc_institution_claim)
    idp = TokenVerifier(issuer=cfg.oidc_issuer, audience=cfg.oidc_audience, jwks_url=cfg.oidc_jwks_url,
                        role_claim=cfg.oidc_role_claim, institution_claim=cfg.oidc_institution_claim)
    if not cfg.oidc_trust_dev_idp:
        return idp
    dev = TokenVerifier(issuer=DEV_ISSUER, audience=DEV_AUDIENCE, jwks_file=ensure_keys(cfg.data_dir))
    return IssuerVerifiers(idp, dev)


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """Pool release without asyncpg's reset query (unlock all, close cursors, unlisten, reset all): that
    is a round trip per request. This pool's requests keep no session state, only transaction-scoped
    locks; asyncpg still rolls back a transaction left open before calling this."""


async def open_pool(cfg: Settings) -> asyncpg.Pool:
    return await create_pool(cfg.service_dsn, min_size=cfg.pool_min, max_size=cfg.pool_max, limits=cfg.pg_limits,
                             reset=_keep_session)


_BACKLOG = "SELECT count(*) AS n, min(created_at) AS oldest, now() AS now FROM outbox WHERE producer = $1"


async def _watch_outbox(app: FastAPI, cfg: Settings) -> None:
    """Backlog and lag of this service's outbox on the API's /metrics too (the relay runs in the worker)."""
    while True:
        with contextlib.suppress(Exception):
            async with app.state.ledger.pool.acquire() as conn, conn.transaction():
                # Planned for this producer, not generically: every service shares the outbox, and a
                # generic plan for "some producer" is a (parallel) scan of all of it, every few seconds.
                await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                row = await conn.fetchrow(_BACKLOG, cfg.outbox_producer)
            OUTBOX_BACKLOG.labels(cfg.outbox_producer).set(row["n"])
            lag = (row["now"] - row["oldest"]).total_seconds() if row["oldest"] else 0.0
            OUTBOX_RELAY_LAG.labels(cfg.outbox_producer).set(lag)
        await asyncio.sleep(cfg.backlog_refresh_s)


def build(cfg: Settings | None = None) -> FastAPI:
    cfg = cfg or Settings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await open_pool(cfg)
        nudge = RelayNudge(pool, cfg.outbox_producer, cfg.relay_nudge_s) if cfg.relay_nudge_s > 0 else None
        app.state.ledger = Ledger(pool, cfg.outbox_producer, cfg.event_source, ZoneInfo(cfg.timezone),
                                  timedelta(seconds=cfg.clock_skew_s), nudge)
        app.state.registry = Registry(pool, cfg.outbox_producer, cfg.event_source)
        app.state.student_institutions = StudentInstitutions(pool, cfg.student_institution_ttl_s)
        watcher = asyncio.create_task(_watch_outbox(app, cfg))
        try:
            yield
        finally:
            watcher.cancel()
            if nudge is not None:
                nudge.close()
            await pool.close()

    async def ready() -> None:
        await app.state.ledger.pool.fetchval("SELECT 1")

    app = create_app(SERVICE, title="werkplek placement logging", version="1.0.0", ready=ready, lifespan=lifespan,
                     body_limit=body_limits(cfg),
                     description="The registry of placements (coordinators) and the students' time-logging API. "
                                 "Errors are RFC 9457 problem documents naming every field at fault.")
    app.state.auth = Authenticator(verifier_for(cfg))
    app.state.settings = cfg
    for router in (routes_registry.router, routes_students.router, routes_entries.router, routes_shares.router,
                   routes_me.router, routes_contacts.router, routes_privacy.router):
        app.include_router(router)
    hot = [r for r in routes_entries.router.routes
           if isinstance(r, APIRoute) and r.endpoint in (routes_entries.log_entry, routes_entries.log_batch)]
    # appended, not add_middleware (which puts a middleware outermost): inside the metrics middleware
    app.user_middleware.append(Middleware(HotRoutes, routes=hot))
    openapi.install(app, edit=_document_raw_bodies)
    return app


BATCH_PATH = "/v1/me/entries/batch"


def body_limits(cfg: Settings) -> BodyLimitFor:
    """The offline batch carries up to 500 entries; every other endpoint the default."""
    def limit(scope: Scope) -> int:
        return cfg.max_batch_body_bytes if scope.get("path") == BATCH_PATH else cfg.max_body_bytes
    return limit


def _document_raw_bodies(doc: dict[str, Any]) -> None:
    """The POST routes read raw JSON (for the Idempotency-Key fingerprint); put their body schemas in
    the OpenAPI document by hand."""
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (EntryIn, BatchIn):
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    # the items are read one by one (an invalid one does not refuse the batch), but each is an EntryIn
    schemas["BatchIn"]["properties"]["entries"]["items"] = {"$ref": "#/components/schemas/EntryIn"}


def create() -> FastAPI:
    """Factory for `uvicorn --factory` (several workers)."""
    return build()
