"""CloudEvents 1.0 in Kafka binary mode: the event's JSON is the record value, its attributes are
`ce_*` headers, the key is the registry's key. `decode` refuses a malformed record with a
`DecodeError` that names the header or field at fault; it never returns a half-valid event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import orjson
from pydantic import ValidationError

from .base import Event
from .limits import READING
from .personal import KEY_HEADER, DataKey, KeyLookup, Redaction, open_payload, personal_paths, seal_payload
from .topics import BY_NAME, topic_for

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
_SPEC = SPECVERSION.encode()
Headers = list[tuple[str, bytes]]


class DecodeError(ValueError):
    """A record that is not a valid event of its topic. `field` names the header or payload field."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    key: bytes
    value: bytes
    headers: Headers = field(default_factory=list)


@lru_cache(maxsize=256)
def _fixed_headers(cls: type[Event], source: str) -> tuple[Headers, Headers]:
    """The headers that depend only on the event's class and the source, before and after `ce_time`:
    computed once per pair instead of for every event (a batch encodes hundreds)."""
    before: Headers = [("ce_source", source.encode()), ("ce_type", cls.qualified_type().encode())]
    after: Headers = [
        ("ce_dataschema", f"urn:werkplek:schema:{topic_for(cls).name}".encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]
    return before, after


def headers_for(event: Event, source: str) -> Headers:
    before, after = _fixed_headers(type(event), source)
    hdrs: Headers = [
        ("ce_specversion", _SPEC),
        ("ce_id", str(event.event_id).encode()),
        *before,
        ("ce_time", event.occurred_at.isoformat().replace("+00:00", "Z").encode()),
        *after,
    ]
    subject = event.subject()
    if subject is not None:
        hdrs.append(("ce_subject", subject.encode()))
    return hdrs


def encode(event: Event, *, source: str) -> KafkaRecord:
    """Turn an event into the record to produce: topic and key from the registry."""
    spec = topic_for(event)
    value = event.model_dump_json().encode()
    return KafkaRecord(spec.name, spec.key_of(event).encode(), value, headers_for(event, source))


def needs_seal(topic: str) -> bool:
    """Whether records of `topic` carry personal fields that `seal` must encrypt before publishing."""
    spec = BY_NAME.get(topic)
    return spec is not None and bool(personal_paths(spec.event))


def seal(rec: KafkaRecord, key: DataKey) -> KafkaRecord:
    """The record with its personal fields encrypted under its subject's data key (personal.py); the
    key's id goes in `ce_datakey`. A record of a topic without personal fields is returned as it is."""
    spec = BY_NAME.get(rec.topic)
    if spec is None or not personal_paths(spec.event) or any(k == KEY_HEADER for k, _ in rec.headers):
        return rec
    payload = seal_payload(spec.event, orjson.loads(rec.value), key)
    return KafkaRecord(rec.topic, rec.key, orjson.dumps(payload), [*rec.headers, (KEY_HEADER, key.key_id.encode())])


def sealing_key(headers: Sequence[tuple[str, bytes]] | None) -> str | None:
    """The id of the data key a record was sealed with, if any."""
    for k, v in headers or ():
        if k == KEY_HEADER:
            return (v or b"").decode(errors="replace") or None
    return None


def _header_map(headers: Headers | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in headers or ():
        try:
            out[k] = (v or b"").decode()
        except UnicodeDecodeError:
            raise DecodeError(k, "header is not UTF-8") from None
    return out


def _require(hdrs: dict[str, str], name: str) -> str:
    value = hdrs.get(name)
    if not value:
        raise DecodeError(name, "required CloudEvents header is missing")
    return value


def decode(topic: str, value: bytes | None, headers: Headers | None, keys: KeyLookup | None = None) -> Event:
    """Decode one record of `topic` into its event. Tolerant: fields the model does not know are
    ignored, so an additive change of the payload needs no new version (docs/adr/0006). A sealed
    record's personal fields are opened with `keys`; where its key is gone they decode empty and are
    listed in `event.redacted` as erased (without `keys`: as sealed, for readers that never need them)."""
    spec = BY_NAME.get(topic)
    if spec is None:
        raise DecodeError("topic", f"{topic!r} is not in the topic registry")
    hdrs = _header_map(headers)
    if _require(hdrs, "ce_specversion") != SPECVERSION:
        raise DecodeError("ce_specversion", f"expected {SPECVERSION}, got {hdrs['ce_specversion']!r}")
    ce_id = _require(hdrs, "ce_id")
    _require(hdrs, "ce_source")
    ce_type = _require(hdrs, "ce_type")
    if ce_type != spec.event.qualified_type():
        raise DecodeError("ce_type", f"{ce_type!r} does not belong on {topic} (expects {spec.event.qualified_type()})")
    ctype = hdrs.get("content-type", CONTENT_TYPE)
    if not ctype.startswith(CONTENT_TYPE):
        raise DecodeError("content-type", f"expected {CONTENT_TYPE}, got {ctype!r}")
    if not value:
        raise DecodeError("value", "record has no payload")
    key_id = hdrs.get(KEY_HEADER) if personal_paths(spec.event) else None
    event = _validate(spec.event, value) if key_id is None else _open(spec.event, value, key_id, keys)
    if str(event.event_id) != ce_id:
        raise DecodeError("ce_id", f"header {ce_id!r} differs from payload event_id {event.event_id}")
    return event


_TOLERANT = {READING: True}  # read what writers stored, refusing only what no store could hold (limits.py)


def _open(cls: type[Event], value: bytes, key_id: str, keys: KeyLookup | None) -> Event:
    """A sealed record: its personal fields opened (or marked redacted) before validation."""
    try:
        payload = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise DecodeError("value", f"not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise DecodeError("value", "payload is not a JSON object")
    secret = keys(key_id) if keys is not None else None
    payload, redacted = open_payload(cls, payload, secret, Redaction.ERASED if keys else Redaction.SEALED)
    event = _validate(cls, orjson.dumps(payload))
    event._redacted.update(redacted)
    return event


def _validate(cls: type[Event], value: bytes) -> Event:
    try:
        return cls.model_validate_json(value, context=_TOLERANT)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise DecodeError("value", f"not valid JSON: {exc.errors()[0]['msg']}") from None
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or "value"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise DecodeError(loc, f"{err['msg']}{more}") from None
