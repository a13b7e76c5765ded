"""Who is calling: the bearer token verified against the JWKS (werkplek_common.auth), with a small
cache of verified tokens, because a phone sends the same token with every entry and RSA verification
is the most expensive step of the hot path. A cached token is still refused once it has expired."""

from __future__ import annotations

import time
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from werkplek_common.auth import Principal, Role, TokenVerifier, authenticate, require_role

_bearer = HTTPBearer(auto_error=False, description="OIDC access token (JWT) of the institution's IdP")
CACHE_SIZE = 50_000


class Authenticator:
    def __init__(self, verifier: TokenVerifier) -> None:
        self.verifier = verifier
        self._cache: dict[str, tuple[Principal, float]] = {}

    def __call__(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        hit = self._cache.get(header)
        if hit is not None and hit[1] > time.time():
            return hit[0]
        principal = authenticate(self.verifier, request)  # raises the 401 problem
        expires = float(jwt.decode(header.partition(" ")[2].strip(), options={"verify_signature": False})["exp"])
        if len(self._cache) >= CACHE_SIZE:
            self._cache.clear()
        self._cache[header] = (principal, expires)
        return principal


# async: a sync dependency would run in the thread pool, which costs more than the check itself
async def _principal(request: Request, _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    auth: Authenticator = request.app.state.auth
    return auth(request)


async def student(principal: Principal = Depends(_principal)) -> Principal:
    return require_role(principal, Role.STUDENT)


async def coordinator(principal: Principal = Depends(_principal)) -> Principal:
    return require_role(principal, Role.COORDINATOR)


def student_of(request: Request) -> Principal:
    """The hot POST routes call this directly instead of through FastAPI's dependency solver
    (their OpenAPI security is declared by `BEARER_DOC`)."""
    auth: Authenticator = request.app.state.auth
    return require_role(auth(request), Role.STUDENT)


BEARER_DOC: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
