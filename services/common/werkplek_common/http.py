"""The HTTP skeleton every FastAPI service shares: problem documents for errors, request metrics by
route template and status class (never by raw path: that would make a label per student), a latency
histogram, `/healthz` (process alive), `/readyz` (dependencies reachable) and `/metrics`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import Problem, install_problem_handlers

HTTP_REQUESTS = Counter("werkplek_http_requests_total", "HTTP requests by route and status class",
                        ["service", "method", "route", "status_class"])
HTTP_LATENCY = Histogram("werkplek_http_request_duration_seconds", "HTTP request latency by route",
                         ["service", "method", "route"],
                         buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))


class MetricsMiddleware:
    """Plain ASGI middleware (cheaper than BaseHTTPMiddleware on the hot path)."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"]
            HTTP_REQUESTS.labels(self.service, method, route, f"{status // 100}xx").inc()
            HTTP_LATENCY.labels(self.service, method, route).observe(time.perf_counter() - started)


def create_app(service: str, *, title: str, version: str, description: str = "",
               ready: Callable[[], Awaitable[None]] | None = None, **kwargs: Any) -> FastAPI:
    """A FastAPI app with problem handlers, metrics and health endpoints. `ready` raises when a
    dependency is unreachable."""
    app = FastAPI(title=title, version=version, description=description, **kwargs)
    install_problem_handlers(app)
    app.add_middleware(MetricsMiddleware, service=service)

    @app.get("/healthz", tags=["ops"], include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], include_in_schema=False)
    async def readyz() -> dict[str, str]:
        try:
            if ready:
                await ready()
        except Exception as exc:
            raise Problem(503, "Not ready", f"a dependency is unreachable: {exc}") from None
        return {"status": "ready"}

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
