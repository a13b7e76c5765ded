"""The codec refuses a malformed record with an error naming the header or field at fault."""

from __future__ import annotations

import uuid

import orjson
import pytest
from werkplek_events import DecodeError, KafkaRecord, SubjectErased, TimeEntryLogged, decode, encode


def _record() -> KafkaRecord:
    event = TimeEntryLogged(entry_id=uuid.uuid4(), student_id="s-1", placement_id="p-1", revision=1,
                            work_date="2026-11-20", duration_minutes=90, activity="work")
    return encode(event, source="/werkplek/tests")


def _without(rec: KafkaRecord, header: str) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in rec.headers if k != header]


def _replace(rec: KafkaRecord, header: str, value: bytes) -> list[tuple[str, bytes]]:
    return [(k, value if k == header else v) for k, v in rec.headers]


def test_roundtrip_keeps_every_field():
    rec = _record()
    event = decode(rec.topic, rec.value, rec.headers)
    assert encode(event, source="/werkplek/tests").value == rec.value
    assert rec.key == b"s-1"


@pytest.mark.parametrize("header", ["ce_specversion", "ce_id", "ce_source", "ce_type"])
def test_missing_required_header(header):
    rec = _record()
    with pytest.raises(DecodeError) as err:
        decode(rec.topic, rec.value, _without(rec, header))
    assert err.value.field == header


@pytest.mark.parametrize(("header", "value"), [
    ("ce_specversion", b"0.3"),
    ("ce_type", b"be.werkplek.placement.time_entry.withdrawn.v1"),
    ("content-type", b"application/xml"),
    ("ce_id", str(uuid.uuid4()).encode()),
    ("ce_source", b"\xff\xfe"),
])
def test_wrong_header_value(header, value):
    rec = _record()
    with pytest.raises(DecodeError) as err:
        decode(rec.topic, rec.value, _replace(rec, header, value))
    assert err.value.field == header


@pytest.mark.parametrize(("value", "field"), [
    (b"", "value"),
    (b"{not json", "value"),
    (b'{"student_id": "s-1"}', "entry_id"),
])
def test_bad_payload(value, field):
    rec = _record()
    with pytest.raises(DecodeError) as err:
        decode(rec.topic, value, rec.headers)
    assert err.value.field == field


def test_invalid_field_value_is_named():
    rec = _record()
    with pytest.raises(DecodeError, match="duration_minutes") as err:
        decode(rec.topic, rec.value.replace(b'"duration_minutes":90', b'"duration_minutes":0'), rec.headers)
    assert err.value.field == "duration_minutes"


def test_unknown_topic_is_refused():
    rec = _record()
    with pytest.raises(DecodeError) as err:
        decode("no.such.topic.v1", rec.value, rec.headers)
    assert err.value.field == "topic"


def test_unknown_fields_are_tolerated():
    rec = _record()
    event = decode(rec.topic, rec.value.replace(b"{", b'{"added_later":true,', 1), rec.headers)
    assert isinstance(event, TimeEntryLogged) and event.student_id == "s-1"


def test_an_erasure_recorded_before_full_removal_existed_still_keeps_the_figures():
    """`remove_from_figures` was added later (ADR 0072, 2026-12-02): a record without it decodes as an
    erasure that keeps the figures; a mentor's record with it set is refused, naming the field."""
    event = SubjectErased(erasure_id=uuid.uuid4(), subject_kind="student", subject_id="s-1", institution_id="i-1")
    rec = encode(event, source="/werkplek/tests")
    old = orjson.loads(rec.value)
    del old["remove_from_figures"]
    before = decode(rec.topic, orjson.dumps(old), rec.headers)
    assert isinstance(before, SubjectErased) and not before.remove_from_figures and before.removed_student() is None
    full = decode(rec.topic, orjson.dumps({**old, "remove_from_figures": True}), rec.headers)
    assert isinstance(full, SubjectErased) and full.removed_student() == "s-1"
    with pytest.raises(DecodeError, match="student only"):
        decode(rec.topic, orjson.dumps({**old, "subject_kind": "mentor", "remove_from_figures": True}), rec.headers)
