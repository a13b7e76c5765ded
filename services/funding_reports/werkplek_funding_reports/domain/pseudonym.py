"""Pseudonymous trajectory ids: a keyed hash, so the same student has the same id in every report
(audits can follow a trajectory) but nobody without the key can go back to the student id."""

from __future__ import annotations

import hashlib
import hmac


def pseudonym(key: bytes, student_id: str) -> str:
    digest = hmac.new(key, student_id.encode(), hashlib.sha256).hexdigest()
    return f"t-{digest[:16]}"
