"""Crypto-shredding in the codec (docs/adr/0070): personal fields leave encrypted under the subject's
key, open with it, and decode empty and marked erased once the key is gone — never an error."""

from __future__ import annotations

import uuid

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkplek_events import BY_NAME, DecodeError, Event, KafkaRecord, TimeEntryLogged, decode, encode, topic_for
from werkplek_events.codec import needs_seal, seal, sealing_key
from werkplek_events.personal import KEY_HEADER, PERSONAL_FIELDS, DataKey, Redaction, data_subject, new_secret

from .samples import sample_events

SOURCE = "/werkplek/tests"
KEY = DataKey("7d0c1b5e-3b7a-4f51-9f57-3c3f7e0e2a11", new_secret())


def _personal_samples() -> list[Event]:
    return [e for e in sample_events() if type(e) in PERSONAL_FIELDS]


def _texts(event: Event) -> list[str]:
    """Every non-empty personal value of an event, by the paths of PERSONAL_FIELDS."""
    out = []
    for path in PERSONAL_FIELDS[type(event)]:
        head, _, field = path.partition("[].")
        value = getattr(event, head)
        items = [getattr(v, field) for v in value] if field else [value]
        out += [v for v in items if v]
    return out


def test_samples_cover_every_personal_event_with_text():
    covered = {type(e) for e in _personal_samples() if _texts(e)}
    assert covered == set(PERSONAL_FIELDS), set(PERSONAL_FIELDS) - covered


@pytest.mark.parametrize("event", _personal_samples(), ids=lambda e: type(e).__name__)
def test_sealed_record_holds_no_plaintext_and_opens_with_its_key(event):
    rec = seal(encode(event, source=SOURCE), KEY)
    assert sealing_key(rec.headers) == KEY.key_id
    for text in _texts(event):
        assert text.encode() not in rec.value
    opened = decode(rec.topic, rec.value, rec.headers, {KEY.key_id: KEY.secret}.get)
    assert opened == event
    assert opened.redacted == {}


@pytest.mark.parametrize("event", _personal_samples(), ids=lambda e: type(e).__name__)
def test_a_record_whose_key_is_gone_decodes_with_the_fields_marked_erased(event):
    rec = seal(encode(event, source=SOURCE), KEY)
    erased = decode(rec.topic, rec.value, rec.headers, lambda _kid: None)
    assert _texts(erased) == []
    assert set(erased.redacted.values()) == {Redaction.ERASED}
    assert len(erased.redacted) == len(_texts(event))
    # everything else is intact: the hours still count
    assert erased.model_dump(exclude={"description", "reason", "comment", "email", "outcomes"}) == \
        event.model_dump(exclude={"description", "reason", "comment", "email", "outcomes"})


def test_a_reader_without_a_key_store_sees_the_fields_as_sealed_not_erased():
    event = _personal_samples()[0]
    rec = seal(encode(event, source=SOURCE), KEY)
    sealed = decode(rec.topic, rec.value, rec.headers)
    assert set(sealed.redacted.values()) == {Redaction.SEALED}


def test_a_value_moved_to_another_record_does_not_open():
    """The ciphertext is bound to its record (associated data: event id and path)."""
    a = next(e for e in _personal_samples() if isinstance(e, TimeEntryLogged) and e.description)
    b = a.model_copy(update={"event_id": uuid.uuid4()})
    ra, rb = seal(encode(a, source=SOURCE), KEY), seal(encode(b, source=SOURCE), KEY)
    forged = orjson.loads(rb.value)
    forged["description"] = orjson.loads(ra.value)["description"]
    moved = decode(rb.topic, orjson.dumps(forged), rb.headers, {KEY.key_id: KEY.secret}.get)
    assert isinstance(moved, TimeEntryLogged)
    assert moved.description == "" and moved.redacted == {"description": Redaction.ERASED}


def test_records_written_before_sealing_still_decode_in_plaintext():
    event = _personal_samples()[0]
    rec = encode(event, source=SOURCE)
    assert decode(rec.topic, rec.value, rec.headers, lambda _kid: None) == event


def test_seal_is_idempotent_and_leaves_other_topics_alone():
    event = _personal_samples()[0]
    once = seal(encode(event, source=SOURCE), KEY)
    assert seal(once, DataKey("other", new_secret())) == once
    plain = next(e for e in sample_events() if type(e) not in PERSONAL_FIELDS)
    rec = encode(plain, source=SOURCE)
    assert not needs_seal(rec.topic) and seal(rec, KEY) == rec


def test_every_personal_event_has_a_subject_and_a_topic():
    for cls in PERSONAL_FIELDS:
        assert BY_NAME[topic_for(cls).name].event is cls
    assert data_subject(PERSONAL_FIELDS.__iter__().__next__(), "s-1") == "student:s-1"


def test_a_sealed_value_that_is_not_a_token_is_refused_by_the_contract():
    """A sealed record still validates: a malformed token never slips past as plaintext."""
    event = next(e for e in _personal_samples() if type(e).__name__ == "MentorContactChanged")
    rec = seal(encode(event, source=SOURCE), KEY)
    bad = orjson.loads(rec.value)
    bad["email"] = "not an address"
    with pytest.raises(DecodeError) as err:
        decode(rec.topic, orjson.dumps(bad), rec.headers, {KEY.key_id: KEY.secret}.get)
    assert err.value.field == "email"


@given(st.text(min_size=1, max_size=2000).filter(lambda t: "\x00" not in t))
def test_any_description_survives_sealing(text):
    base = next(e for e in _personal_samples() if isinstance(e, TimeEntryLogged))
    try:
        event = base.model_copy(update={"description": text})
        rec = encode(type(base).model_validate(event.model_dump()), source=SOURCE)
    except Exception:  # the contract refuses this text (controls, surrogates): nothing to seal
        return
    sealed = seal(rec, KEY)
    out = decode(sealed.topic, sealed.value, sealed.headers, {KEY.key_id: KEY.secret}.get)
    plain = decode(rec.topic, rec.value, rec.headers)
    assert isinstance(out, TimeEntryLogged) and isinstance(plain, TimeEntryLogged)
    assert out.description == plain.description
    assert KafkaRecord(rec.topic, rec.key, rec.value, rec.headers).headers[0][0] != KEY_HEADER
