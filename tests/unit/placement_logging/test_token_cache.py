"""The verified-token cache: one verification per token until its exp, bounded (least recently used
goes first), keyed by the token's hash."""

from __future__ import annotations

import time

import jwt
from starlette.requests import Request
from werkplek_common.auth import Principal, Role
from werkplek_placement_logging.security import Authenticator


class CountingVerifier:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def verify(self, token: str) -> Principal:
        self.calls.append(token)
        return Principal(jwt.decode(token, options={"verify_signature": False})["sub"], Role.STUDENT, None)


KEY = "a test-only key: these tokens are never verified here"


def token(sub: str, ttl: float) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time() + ttl)}, KEY, algorithm="HS256")


def request(tok: str) -> Request:
    return Request({"type": "http", "headers": [(b"authorization", f"Bearer {tok}".encode())]})


def test_a_token_is_verified_once_until_it_expires():
    verifier = CountingVerifier()
    auth = Authenticator(verifier)  # type: ignore[arg-type]
    live, expired = token("s1", 3600), token("s2", -60)
    assert auth(request(live)).subject == auth(request(live)).subject == "s1"
    assert verifier.calls == [live]
    auth(request(expired))
    auth(request(expired))
    assert verifier.calls == [live, expired, expired]  # past its exp: verified again, every time


def test_the_least_recently_used_token_goes_first():
    verifier = CountingVerifier()
    auth = Authenticator(verifier, size=2)  # type: ignore[arg-type]
    a, b, c = token("a", 3600), token("b", 3600), token("c", 3600)
    for t in (a, b, a, c):  # a used again after b: b is the least recently used when c arrives
        auth(request(t))
    assert verifier.calls == [a, b, c]
    auth(request(a))
    auth(request(b))
    assert verifier.calls == [a, b, c, b]


def test_the_cache_keeps_no_token():
    auth = Authenticator(CountingVerifier())  # type: ignore[arg-type]
    tok = token("s", 3600)
    auth(request(tok))
    assert all(tok.encode() not in key for key in auth._cache)
