"""The HTTP skeleton every FastAPI service shares: problem documents for errors, a request-body limit
enforced while the body is read (before authentication or parsing), request metrics by route
template and status class (never by raw path: that would make a label per student), a latency
histogram, `/healthz` (process alive), `/readyz` (dependencies reachable) and `/metrics`; and the
OpenAPI document completed with every problem status and the security schemes (`openapi.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .problems import MEDIA_TYPE, Problem, install_problem_handlers, problem_type

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


BodyLimitFor = Callable[[Scope], int]


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def _problem(send: Send, problem: Problem, path: str) -> None:
    body = orjson.dumps(problem.body(path))
    headers = [(b"content-type", MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]  # the rest of the body is not read: do not reuse the connection
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def too_large(limit: int) -> Problem:
    return Problem(413, "The request body is too large", f"this endpoint takes at most {limit} bytes",
                   type_=problem_type("body-too-large"), max_bytes=limit,
                   errors=[{"field": "body", "message": f"more than {limit} bytes"}])


DRAIN_BYTES = 8 << 20  # read (and drop) at most this much of a refused body, so the client sees the 413
DRAIN_S = 2.0


async def _drain(receive: Receive, budget: int) -> None:
    """Read and discard what the client is still sending, within a budget of bytes and time: closing
    a connection with unread data resets it, and the client would lose the answer (nginx lingers the
    same way). What is read here is never kept."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_S):
            while budget > 0:
                message = await receive()
                if message["type"] != "http.request" or not message.get("more_body", False):
                    return
                budget -= len(message.get("body", b""))


class BodyLimit:
    """Reads the whole request body, up to the endpoint's limit, before the app sees the request, and
    answers 413 as soon as it is exceeded: a declared Content-Length over the limit without keeping
    anything, a chunked body at the first chunk past it. So no endpoint authenticates, parses or
    buffers more than its limit. The body is then handed to the app as one message. The rest of a
    refused body is drained within `DRAIN_BYTES` / `DRAIN_S`, never stored, then the connection closes."""

    def __init__(self, app: ASGIApp, limit_for: BodyLimitFor) -> None:
        self.app, self.limit_for = app, limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, path = self.limit_for(scope), scope.get("path", "")
        declared = _header(scope, b"content-length")
        if declared is not None and not (declared.isascii() and declared.isdigit()):
            await _problem(send, Problem(400, "Content-Length is not valid", "a number of bytes, digits only",
                                         type_=problem_type("header-invalid"),
                                         errors=[{"field": "header.Content-Length", "message": "digits only"}]), path)
            return
        if declared is not None and int(declared) > limit:
            if int(declared) <= DRAIN_BYTES:
                await _drain(receive, int(declared))
            await _problem(send, too_large(limit), path)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client left while sending
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                if message.get("more_body", False):
                    await _drain(receive, DRAIN_BYTES)
                await _problem(send, too_large(limit), path)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()  # after the body: the disconnect, when it comes
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def create_app(service: str, *, title: str, version: str, description: str = "",
               ready: Callable[[], Awaitable[None]] | None = None, body_limit: int | BodyLimitFor = 1 << 20,
               **kwargs: Any) -> FastAPI:
    """A FastAPI app with problem handlers, a body limit (bytes, or a function of the request's scope),
    metrics and health endpoints. `ready` raises when a dependency is unreachable."""
    app = FastAPI(title=title, version=version, description=description, **kwargs)
    install_problem_handlers(app)
    limit_for = body_limit if callable(body_limit) else (lambda _scope, n=body_limit: n)
    app.add_middleware(BodyLimit, limit_for=limit_for)  # inside the metrics: a 413 is counted
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
