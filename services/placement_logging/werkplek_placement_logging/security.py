"""Who is calling: the bearer token verified against the JWKS (werkplek_common.auth), with a small
cache of verified tokens, because a phone sends the same token with every entry and RSA verification
is the most expensive step of the hot path. A cached token is still refused once it has expired.
A student's token must name the institution the registry records for them (`StudentInstitutions`)."""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from typing import Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from werkplek_common.auth import (
    IssuerVerifiers,
    Principal,
    Role,
    TokenVerifier,
    authenticate,
    check_institution,
    require_role,
)

from .registry_store import student_institution

_bearer = HTTPBearer(auto_error=False, description="OIDC access token (JWT) of the institution's IdP")
CACHE_SIZE = 50_000


class Authenticator:
    """Verifies a bearer token once, then answers from a bounded LRU of verified principals keyed by
    the token's SHA-256 (the tokens themselves are not kept), each until the token's `exp`."""

    def __init__(self, verifier: TokenVerifier | IssuerVerifiers, size: int = CACHE_SIZE) -> None:
        self.verifier, self.size = verifier, size
        self._cache: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()

    def __call__(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        key = hashlib.sha256(header.encode()).digest()
        hit = self._cache.get(key)
        if hit is not None:
            if hit[1] > time.time():
                self._cache.move_to_end(key)
                return hit[0]
            del self._cache[key]
        principal = authenticate(self.verifier, request)  # raises the 401 problem
        expires = float(jwt.decode(header.partition(" ")[2].strip(), options={"verify_signature": False})["exp"])
        self._cache[key] = (principal, expires)
        if len(self._cache) > self.size:
            self._cache.popitem(last=False)  # the least recently used
        return principal


class StudentInstitutions:
    """The institution the registry records for a student, remembered for `ttl_s` (a transfer reaches
    the token check within that time). A student not enrolled yet is looked up again every time: the
    first enrolment must apply at once."""

    def __init__(self, pool: Any, ttl_s: float, size: int = CACHE_SIZE) -> None:
        self.pool, self.ttl_s, self.size = pool, ttl_s, size
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()

    async def of(self, student_id: str) -> str | None:
        hit = self._cache.get(student_id)
        now = time.monotonic()
        if hit is not None and hit[1] > now:
            return hit[0]
        institution = await student_institution(self.pool, student_id)
        if institution is not None:
            self._cache[student_id] = (institution, now + self.ttl_s)
            self._cache.move_to_end(student_id)
            if len(self._cache) > self.size:
                self._cache.popitem(last=False)
        return institution


# async: a sync dependency would run in the thread pool, which costs more than the check itself
async def _principal(request: Request, _: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    auth: Authenticator = request.app.state.auth
    return auth(request)


async def _checked_student(request: Request, principal: Principal) -> Principal:
    require_role(principal, Role.STUDENT)
    tenants: StudentInstitutions = request.app.state.student_institutions
    return check_institution(principal, await tenants.of(principal.subject))


async def student(request: Request, principal: Principal = Depends(_principal)) -> Principal:
    return await _checked_student(request, principal)


async def coordinator(principal: Principal = Depends(_principal)) -> Principal:
    return require_role(principal, Role.COORDINATOR)


async def student_of(request: Request) -> Principal:
    """The hot POST routes call this directly instead of through FastAPI's dependency solver
    (their OpenAPI security is declared by `BEARER_DOC`)."""
    auth: Authenticator = request.app.state.auth
    return await _checked_student(request, auth(request))


BEARER_DOC: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
