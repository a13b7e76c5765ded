"""OIDC bearer tokens: JWTs verified against a JWKS (file for the dev identity provider, URL for an
institution's IdP), with issuer, audience and expiry required. Algorithms are fixed here, never
taken from the token, so `alg=none` or an HMAC-with-public-key token is refused.

The claims that become ids downstream are held to the contract's limits (`werkplek_events.limits`):
a student's or mentor's `sub` is an id in every event about them, the institution claim is part of
report ids. Students and coordinators belong to an institution, so their tokens must name it; a
student's must also name the one the registry records for them (`check_institution`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import jwt
from fastapi import Request
from pydantic import TypeAdapter, ValidationError
from werkplek_events.limits import ID_MAX, INSTITUTION_ID_MAX, Id, InstitutionId

from .metrics import TENANT_REFUSALS
from .problems import Problem, problem_type

ALGORITHMS = ["RS256", "ES256"]
ROLE_CLAIM = "werkplek_role"
INSTITUTION_CLAIM = "werkplek_institution"


class Role(StrEnum):
    STUDENT = "student"
    COORDINATOR = "coordinator"
    MENTOR = "mentor"
    FUNDING = "funding"
    OPS = "ops"


@dataclass(frozen=True)
class Principal:
    subject: str  # the student id for students, the mentor id for mentors, a staff id otherwise
    role: Role
    institution_id: str | None


_INSTITUTION: TypeAdapter[str] = TypeAdapter(InstitutionId)
_ID: TypeAdapter[str] = TypeAdapter(Id)
NAMES_INSTITUTION = (Role.STUDENT, Role.COORDINATOR)  # roles whose tokens must name their institution
SUBJECT_IS_ID = (Role.STUDENT, Role.MENTOR)  # roles whose `sub` is an id in events


class ClaimError(jwt.InvalidTokenError):
    """A verified token whose claim cannot be used; `claim` names it in the 401 problem."""

    def __init__(self, claim: str, message: str) -> None:
        super().__init__(f"claim {claim}: {message}")
        self.claim, self.message = claim, message


def _fits(adapter: TypeAdapter[str], value: object) -> bool:
    try:
        adapter.validate_python(value, strict=True)
    except ValidationError:
        return False
    return True


def claimed_institution(claims: dict[str, Any], role: Role, claim: str = INSTITUTION_CLAIM) -> str | None:
    """The institution claim, held to the institution id's limits; required where the role has one."""
    value = claims.get(claim)
    if value is None or value == "":
        if role in NAMES_INSTITUTION:
            raise ClaimError(claim, f"a {role.value} token must name its institution")
        return None
    if not _fits(_INSTITUTION, value):
        raise ClaimError(claim, f"not an institution id: 1 to {INSTITUTION_ID_MAX} characters of "
                                            "A-Z a-z 0-9 _ . : - (starting with a letter or digit)")
    return str(value)


def claimed_subject(claims: dict[str, Any], role: Role) -> str:
    subject = claims["sub"]
    if role in SUBJECT_IS_ID and not _fits(_ID, subject):
        raise ClaimError("sub", f"a {role.value}'s subject is an id: 1 to {ID_MAX} characters of "
                                "A-Z a-z 0-9 _ . : - (starting with a letter or digit)")
    return str(subject)


class TokenVerifier:
    def __init__(self, *, issuer: str, audience: str, jwks_file: Path | None = None, jwks_url: str | None = None,
                 leeway_s: int = 30, role_claim: str = ROLE_CLAIM, institution_claim: str = INSTITUTION_CLAIM) -> None:
        if not (jwks_file or jwks_url):
            raise ValueError("configure a JWKS: a file (dev identity provider) or the IdP's JWKS URL")
        self.issuer, self.audience, self.leeway = issuer, audience, leeway_s
        # claim names are configurable: an institution's IdP may already emit them under its own names
        self.role_claim, self.institution_claim = role_claim, institution_claim
        self._url_client = jwt.PyJWKClient(jwks_url, cache_keys=True) if jwks_url else None
        self._keys = jwt.PyJWKSet.from_dict(json.loads(jwks_file.read_text())) if jwks_file else None

    def _key_for(self, token: str) -> Any:
        if self._url_client:
            return self._url_client.get_signing_key_from_jwt(token).key
        kid = jwt.get_unverified_header(token).get("kid")
        assert self._keys is not None
        for key in self._keys.keys:
            if key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError("unknown signing key")

    def verify(self, token: str) -> Principal:
        claims = jwt.decode(token, self._key_for(token), algorithms=ALGORITHMS, audience=self.audience,
                            issuer=self.issuer, leeway=self.leeway,
                            options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        try:
            role = Role(str(claims.get(self.role_claim)))
        except ValueError:
            raise ClaimError(self.role_claim, f"not a known role ({', '.join(r.value for r in Role)})") from None
        return Principal(claimed_subject(claims, role), role,
                         claimed_institution(claims, role, self.institution_claim))


class IssuerVerifiers:
    """Several trusted issuers, each with its own JWKS and audience, chosen by the token's `iss` (read
    before verification only to pick the verifier; the chosen one checks `iss` again). `make run`
    trusts the project's Keycloak (the app's sign-in) and the dev identity provider (the simulator)."""

    def __init__(self, *verifiers: TokenVerifier) -> None:
        self.by_issuer = {v.issuer: v for v in verifiers}

    def verify(self, token: str) -> Principal:
        issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        verifier = self.by_issuer.get(str(issuer))
        if verifier is None:
            raise jwt.InvalidTokenError("the token's issuer is not trusted")
        return verifier.verify(token)


def _unauthorized(detail: str, errors: list[dict[str, str]] | None = None) -> Problem:
    return Problem(401, "Not authenticated", detail, type_=problem_type("unauthenticated"), errors=errors,
                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


def authenticate(verifier: TokenVerifier | IssuerVerifiers, request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("send a bearer token in the Authorization header")
    try:
        return verifier.verify(token.strip())
    except jwt.ExpiredSignatureError:
        raise _unauthorized("the token has expired") from None
    except ClaimError as exc:
        raise _unauthorized(f"the token is not valid: {exc}",
                            [{"field": f"token.{exc.claim}", "message": exc.message}]) from None
    except (jwt.InvalidTokenError, jwt.PyJWKClientError) as exc:
        raise _unauthorized(f"the token is not valid: {exc}") from None


def require_role(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles:
        raise Problem(403, "Forbidden", f"this needs the role {' or '.join(r.value for r in roles)}",
                      type_=problem_type("forbidden"))
    return principal


def check_institution(principal: Principal, registered: str | None) -> Principal:
    """A student's token must name the institution the registry records for the student (None: the
    registry has not enrolled them yet, so nothing of theirs exists to protect)."""
    if registered is None or principal.institution_id == registered:
        return principal
    TENANT_REFUSALS.labels("student", "token").inc()
    raise Problem(403, "The token names another institution",
                  f"the {INSTITUTION_CLAIM} claim differs from the institution the registry records for this "
                  "student; sign in through your own institution, or ask both coordinators for a transfer",
                  type_=problem_type("institution-mismatch"),
                  errors=[{"field": f"token.{INSTITUTION_CLAIM}", "message": "differs from the registry's"}])
