"""RFC 9457 problem documents for every HTTP error: `application/problem+json` with an `errors`
list naming every field at fault, so a client can show each message next to its field."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)
MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://werkplek.example/problems/"  # documentation URI prefix; not fetched by anyone


class Problem(Exception):
    """Raise from a handler to answer with a problem document. `errors`: [{"field", "message"}]."""

    def __init__(self, status: int, title: str, detail: str = "", *, type_: str = "",
                 errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.type = type_ or "about:blank"
        self.errors, self.headers, self.extra = errors or [], headers or {}, extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            doc["detail"] = self.detail
        if instance:
            doc["instance"] = instance
        if self.errors:
            doc["errors"] = self.errors
        doc.update(self.extra)
        return doc


def problem_type(slug: str) -> str:
    return TYPE_BASE + slug


def problem_response(problem: Problem, instance: str | None = None) -> JSONResponse:
    return JSONResponse(problem.body(instance), status_code=problem.status, media_type=MEDIA_TYPE,
                        headers=problem.headers)


def comma_choices(value: str, allowed: list[str], field: str, what: str) -> list[str]:
    """`a,b` of a query parameter, each out of `allowed`; otherwise a 422 problem naming the field."""
    asked = [v.strip() for v in value.split(",") if v.strip()]
    if not asked or any(v not in allowed for v in asked):
        message = f"comma-separated {what} out of {', '.join(allowed)}"
        raise Problem(422, "Request is not valid", f"{field}: {message}", type_=problem_type("validation"),
                      errors=[{"field": field, "message": message}])
    return asked


def field_errors(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """pydantic/FastAPI errors as [{field, message}], with `body.`/`query.` prefixes kept for clarity."""
    return [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in errors]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = field_errors(list(exc.errors()))
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(Problem(422, "Request is not valid", detail, type_=problem_type("validation"),
                                        errors=errors), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        return problem_response(Problem(exc.status_code, str(exc.detail), headers=headers), request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", extra={"fields": {"path": request.url.path}})
        return problem_response(Problem(500, "Internal error", "the error was logged; nothing was stored"),
                                request.url.path)
