"""Crypto-shredding of personal fields (docs/privacy.md, docs/adr/0070).

Topics keep their records for good (ADR 0051), so personal data in them cannot be deleted; it is
made unreadable instead. Every personal field of an event is encrypted with its data subject's own
key (AES-256-GCM) before the record reaches Kafka; the record names the key in `ce_datakey`.
Erasure destroys the key, and from then on every copy of the record (topic, DLQ, a replay) decodes
with the field at its default value and its path listed in `event.redacted` — never an error.

This module is pure: it seals and opens payloads with keys it is given. Where keys live (the key
store, wrapped by a master key) is `werkplek_common.keystore`."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from . import feedback, placement
from .base import Event

KEY_HEADER = "ce_datakey"  # the id of the data key that sealed the record's personal fields
SEALED_PREFIX = "wpk1."  # a sealed value: prefix, then base64url(nonce ‖ ciphertext ‖ tag)
KEY_BYTES = 32
_NONCE = 12

# The one list of personal fields in events. A path is a field name; `list[].field` is that field of
# every item of a list. Each is sealed under the event's subject (`Event.subject()`): the student for
# student-keyed events (a mentor's comment is about the student's work), the mentor for contact data.
PERSONAL_FIELDS: dict[type[Event], tuple[str, ...]] = {
    placement.TimeEntryLogged: ("description",),
    placement.TimeEntryCorrected: ("description",),
    placement.TimeEntryWithdrawn: ("reason",),
    placement.MentorContactChanged: ("email",),
    feedback.TimeEntryRejected: ("comment",),
    feedback.TimeEntryDecisionReversed: ("comment",),
    feedback.AssessmentRecorded: ("outcomes[].comment",),
}




def key_subject(kind: str, subject_id: str) -> str:
    """The key store's name of a data subject: `student:<id>` or `mentor:<id>`."""
    return f"{kind}:{subject_id}"


def data_subject(cls: type[Event], subject_id: str) -> str:
    """The key store's name of the person whose key seals an event of `cls` with that `ce_subject`."""
    return key_subject("mentor" if cls is placement.MentorContactChanged else "student", subject_id)


class Redaction(StrEnum):
    ERASED = "erased"  # the subject's key is destroyed: the value is gone for good
    SEALED = "sealed"  # this reader was given no key store (it never needs the value)


@dataclass(frozen=True)
class DataKey:
    key_id: str
    secret: bytes


# What a decoder is given: the data key of an id, or None when that key is destroyed or unknown.
KeyLookup = Callable[[str], bytes | None]


def personal_paths(cls: type[Event]) -> tuple[str, ...]:
    return PERSONAL_FIELDS.get(cls, ())


def new_secret() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _aad(event_id: str, path: str) -> bytes:
    """Binds a ciphertext to its record and place, so a sealed value cannot be moved to another."""
    return f"{event_id}/{path}".encode()


def encrypt(secret: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(secret).encrypt(nonce, plaintext, aad)


def decrypt(secret: bytes, blob: bytes, aad: bytes) -> bytes:
    """Raises `InvalidTag` when the secret or the associated data is not the one used to encrypt."""
    return AESGCM(secret).decrypt(blob[:_NONCE], blob[_NONCE:], aad)


def _slots(payload: dict[str, Any], path: str) -> list[tuple[dict[str, Any], str, str]]:
    """(container, field, unique place) for every value a path names in a payload."""
    head, _, field = path.partition("[].")
    if not field:
        return [(payload, head, head)] if head in payload else []
    items = payload.get(head)
    if not isinstance(items, list):
        return []
    return [(item, field, f"{head}[{i}].{field}") for i, item in enumerate(items)
            if isinstance(item, dict) and field in item]


def seal_payload(cls: type[Event], payload: dict[str, Any], key: DataKey) -> dict[str, Any]:
    """Encrypt every non-empty personal string of `payload` (an event's JSON object) in place."""
    event_id = str(payload["event_id"])
    for path in personal_paths(cls):
        for box, field, place in _slots(payload, path):
            value = box[field]
            if isinstance(value, str) and value:
                blob = encrypt(key.secret, value.encode(), _aad(event_id, place))
                box[field] = SEALED_PREFIX + base64.urlsafe_b64encode(blob).decode()
    return payload


@lru_cache(maxsize=64)
def _default(cls: type[Event], path: str) -> Any:
    head, _, field = path.partition("[].")
    info = cls.model_fields[head]
    if field:
        item_type = info.annotation.__args__[0]  # type: ignore[union-attr]  # list[Model]
        return item_type.model_fields[field].default
    return info.default


def open_payload(cls: type[Event], payload: dict[str, Any], secret: bytes | None,
                 missing: Redaction = Redaction.ERASED) -> tuple[dict[str, Any], dict[str, Redaction]]:
    """Decrypt the sealed values of `payload` in place. Without `secret` (the key is gone) or where a
    value does not decrypt under it, the field takes its default and is reported as redacted."""
    event_id = str(payload.get("event_id", ""))
    redacted: dict[str, Redaction] = {}
    for path in personal_paths(cls):
        for box, field, place in _slots(payload, path):
            value = box[field]
            if not (isinstance(value, str) and value.startswith(SEALED_PREFIX)):
                continue  # written before sealing, or empty: nothing to open
            box[field] = _default(cls, path)
            redacted[place] = missing
            if secret is None:
                continue
            try:
                blob = base64.urlsafe_b64decode(value[len(SEALED_PREFIX):])
                box[field] = decrypt(secret, blob, _aad(event_id, place)).decode()
                del redacted[place]
            except (InvalidTag, ValueError):
                redacted[place] = Redaction.ERASED  # not under this key: as good as erased
    return payload, redacted

