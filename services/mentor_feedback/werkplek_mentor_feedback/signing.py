"""Standard Webhooks 1.0 signatures: HMAC-SHA256 over `id.timestamp.raw-body`, `v1,<base64>` values
separated by spaces (one per key, for rotation), timestamps within a tolerance. Verification works on
the raw bytes (a re-serialised body fails) and compares in constant time. The clock is a parameter
so tests can put the boundary exactly at ±tolerance. The `standardwebhooks` package decodes the
`whsec_` secrets and computes the MAC; its own `verify` reads the wall clock and decodes the body as
text, so the checks around it are done here."""

from __future__ import annotations

import base64
import binascii
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from standardwebhooks.webhooks import Webhook, hmac_data

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format prefix, not a secret


class Failure(StrEnum):
    MISSING_HEADERS = "missing_headers"
    MALFORMED_HEADER = "malformed_header"
    BAD_SIGNATURE = "bad_signature"
    STALE_TIMESTAMP = "stale_timestamp"


class VerificationError(Exception):
    def __init__(self, failure: Failure, detail: str, header: str = "") -> None:
        super().__init__(detail)
        self.failure, self.detail, self.header = failure, detail, header


# Parsed strictly: ASCII only. `str.isdigit()` and `int()` take other scripts' digits and superscripts
# ("1733080000²" passed the one and broke the other); the id is printable ASCII, as ids are.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_WEBHOOK_ID = re.compile(r"[!-~]{1,255}")


@dataclass(frozen=True)
class SignedHeaders:
    webhook_id: str
    timestamp: int
    signatures: tuple[str, ...]  # base64 of each `v1,` signature


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    return Webhook(secret)._whsecret


def mac(secret: str, webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return hmac_data(_key(secret), f"{webhook_id}.{timestamp}.".encode() + body)


def sign(secrets_: Sequence[str], webhook_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value: one `v1,` signature per secret."""
    return " ".join("v1," + base64.b64encode(mac(s, webhook_id, timestamp, body)).decode() for s in secrets_)


def signed_headers(secrets_: Sequence[str], webhook_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {"webhook-id": webhook_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secrets_, webhook_id, timestamp, body)}


def parse_headers(headers: Mapping[str, str]) -> SignedHeaders:
    wid, ts, sig = (headers.get(h, "").strip() for h in ("webhook-id", "webhook-timestamp", "webhook-signature"))
    if not (wid and ts and sig):
        raise VerificationError(Failure.MISSING_HEADERS,
                                "webhook-id, webhook-timestamp and webhook-signature are all required")
    if not _TIMESTAMP.fullmatch(ts):
        raise VerificationError(Failure.MALFORMED_HEADER, "webhook-timestamp must be integer Unix seconds: "
                                "1 to 12 ASCII digits", "webhook-timestamp")
    if not _WEBHOOK_ID.fullmatch(wid):
        raise VerificationError(Failure.MALFORMED_HEADER, "webhook-id must be 1 to 255 printable ASCII characters",
                                "webhook-id")
    sigs = tuple(part[3:] for part in sig.split(" ") if part.startswith("v1,"))
    return SignedHeaders(wid, int(ts), sigs)


def _matches(expected: bytes, candidates: Sequence[str]) -> bool:
    found = False
    for candidate in candidates:
        try:
            given = base64.b64decode(candidate, validate=True)
        except (binascii.Error, ValueError):
            continue
        # no early exit: every candidate is compared, each in constant time
        found = hmac.compare_digest(expected, given) or found
    return found


def verify(secrets_: Sequence[str], headers: Mapping[str, str], body: bytes, *, now: float,
           tolerance_s: int = 300) -> SignedHeaders:
    """Check the signature first (so a forged message is never reported as merely stale), then the
    timestamp: |now - timestamp| <= tolerance_s passes."""
    parsed = parse_headers(headers)
    if not any(_matches(mac(s, parsed.webhook_id, parsed.timestamp, body), parsed.signatures) for s in secrets_):
        raise VerificationError(Failure.BAD_SIGNATURE, "no v1 signature matches a secret of this source")
    skew = now - parsed.timestamp
    if abs(skew) > tolerance_s:
        side = "old" if skew > 0 else "far in the future"
        raise VerificationError(Failure.STALE_TIMESTAMP,
                                f"webhook-timestamp is {abs(int(skew))} s {side}; tolerance is ±{tolerance_s} s")
    return parsed
