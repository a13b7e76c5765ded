"""A direct dispatch of the two ingest POSTs (one entry, a batch), the routes a phone calls most.

FastAPI's router matches every route in turn, solves dependencies (query, cookies, ...) and runs
more middleware before reaching a handler; on a single-entry POST that was about a quarter of the
API's CPU. These two handlers take only the `Request`, parse the raw body themselves and return a
ready Response, so they are called here straight away. They are the same functions the router
would call and they stay declared on it (OpenAPI, any other method on these paths). This sits
innermost of the user middleware: the metrics middleware, the body limit and the 500 handler still
wrap it; a `Problem` is answered as the router's exception handler answers it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from fastapi import Response
from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send
from werkplek_common.problems import Problem, problem_response

Endpoint = Callable[[Request], Awaitable[Response]]


class HotRoutes:
    def __init__(self, app: ASGIApp, routes: Iterable[APIRoute]) -> None:
        self.app = app
        self.routes: dict[tuple[str, str], APIRoute] = {
            (method, route.path): route for route in routes for method in route.methods or ()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        scope["route"] = route  # as the router sets it: metrics label requests by route template
        request = Request(scope, receive)
        try:
            response = await route.endpoint(request)
        except Problem as problem:
            response = problem_response(problem, scope["path"])
        await response(scope, receive, send)
