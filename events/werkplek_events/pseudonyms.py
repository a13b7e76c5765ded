"""Pseudonymous trajectory ids: a keyed hash, so the same student has the same id in every report
(audits can follow a trajectory) but nobody without the key can go back to the student id. Funding
reports publish them; placement logging reveals one to a coordinator of the student's institution
(docs/adr/0074). Both hold the key (`WERKPLEK_REPORTS_PSEUDONYM_KEY`)."""

from __future__ import annotations

import hashlib
import hmac

DEV_PSEUDONYM_KEY = "werkplek-dev-pseudonym-key"  # development default only; production sets its own key


def pseudonym(key: bytes, student_id: str) -> str:
    digest = hmac.new(key, student_id.encode(), hashlib.sha256).hexdigest()
    return f"t-{digest[:16]}"
