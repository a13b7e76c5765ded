"""Signed confirmation links: `<request_id>.<expires>.<mac>`, HMAC-SHA256 with the service's link key.
Pure: a tampered or expired token is recognised here; single use is the database's part."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,64})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$")


class LinkProblem(StrEnum):
    TAMPERED = "tampered"
    EXPIRED = "expired"
    USED = "used"


class LinkRefused(Exception):
    def __init__(self, problem: LinkProblem) -> None:
        super().__init__(problem.value)
        self.problem = problem


@dataclass(frozen=True)
class Link:
    request_id: str
    expires_at: int  # Unix seconds


def _mac(key: bytes, request_id: str, expires_at: int) -> str:
    digest = hmac.new(key, f"link.{request_id}.{expires_at}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make_token(key: bytes, link: Link) -> str:
    return f"{link.request_id}.{link.expires_at}.{_mac(key, link.request_id, link.expires_at)}"


def read_token(key: bytes, token: str, *, now: float) -> Link:
    """The link a token stands for; raises `LinkRefused` when it was altered or has expired."""
    m = _TOKEN.match(token)
    if not m or not hmac.compare_digest(m[3], _mac(key, m[1], int(m[2]))):
        raise LinkRefused(LinkProblem.TAMPERED)
    link = Link(m[1], int(m[2]))
    if now >= link.expires_at:
        raise LinkRefused(LinkProblem.EXPIRED)
    return link
