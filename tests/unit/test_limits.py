"""The limits of the contract (`werkplek_events.limits`): ids derived from ids always fit, text is
stored as NFC and refused only where it cannot be stored, writers are strict and the codec's reader
tolerant. Property tests run over every Unicode category, surrogates included."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError
from werkplek_events import DecodeError, TimeEntryLogged, decode, encode
from werkplek_events.limits import (
    ACADEMIC_YEAR_PATTERN,
    ID_MAX,
    ID_PATTERN,
    INSTITUTION_ID_MAX,
    PILOT_ID_MAX,
    PROGRAMME_ID_MAX,
    SNAPSHOT_LABEL_MAX,
    Email,
    Id,
    InstitutionId,
    PilotId,
    ProgrammeId,
    Text,
    Url,
    clean_text,
    institution_report_id,
    pilot_report_id,
    programme_report_id,
    text_fault,
)
from werkplek_funding_reports.snapshots import snapshot_id

ID_CHARS = st.sampled_from("ABCXYZabcxyz0189_.:-")
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # every category, Cs (surrogates) and Cn too
YEARS = st.integers(2000, 2098).map(lambda y: f"{y}-{y + 1}")


def ids(max_size: int) -> st.SearchStrategy[str]:
    return st.builds(lambda head, tail: head + tail, st.sampled_from("Aa0"), st.text(ID_CHARS, max_size=max_size - 1))


def fits_id(value: str) -> bool:
    return len(value) <= ID_MAX and re.fullmatch(ID_PATTERN, value) is not None


def test_the_derived_limits_are_what_the_formats_leave_room_for():
    assert (PROGRAMME_ID_MAX, INSTITUTION_ID_MAX, PILOT_ID_MAX, SNAPSHOT_LABEL_MAX) == (54, 49, 48, 34)
    assert len(pilot_report_id("x" * PILOT_ID_MAX, "2026-2027")) == ID_MAX
    assert len(programme_report_id("p" * PROGRAMME_ID_MAX, "2026-2027")) == ID_MAX
    assert len(institution_report_id("i" * INSTITUTION_ID_MAX, "2026-2027")) == ID_MAX
    assert len(programme_report_id("p" * (PROGRAMME_ID_MAX + 1), "2026-2027")) == ID_MAX + 1


@given(programme=ids(PROGRAMME_ID_MAX), institution=ids(INSTITUTION_ID_MAX), pilot=ids(PILOT_ID_MAX), year=YEARS,
       label=st.text(st.sampled_from("Az09_.-"), min_size=1, max_size=SNAPSHOT_LABEL_MAX))
def test_every_id_derived_from_accepted_ids_is_an_id(programme, institution, pilot, year, label):
    """What the API accepts (its types are these) makes report and snapshot ids the contract holds."""
    assert re.fullmatch(ACADEMIC_YEAR_PATTERN, year)
    TypeAdapter(ProgrammeId).validate_python(programme)
    TypeAdapter(InstitutionId).validate_python(institution)
    TypeAdapter(PilotId).validate_python(pilot)
    for report_id in (programme_report_id(programme, year), institution_report_id(institution, year),
                      pilot_report_id(pilot, year)):
        assert fits_id(report_id)
        label = label if label[0].isalnum() else "a" + label[1:]
        assert fits_id(snapshot_id(report_id, label))


def test_ids_longer_than_their_derived_limit_are_refused_by_the_edge_types():
    with pytest.raises(ValidationError, match="at most 54 characters"):
        TypeAdapter(ProgrammeId).validate_python("p" * 55)
    with pytest.raises(ValidationError, match="at most 49 characters"):
        TypeAdapter(InstitutionId).validate_python("i" * 50)
    with pytest.raises(ValidationError, match="at most 48 characters"):
        TypeAdapter(PilotId).validate_python("x" * 49)
    TypeAdapter(Id).validate_python("p" * 64)  # the contract still reads the longer ids written before


@pytest.mark.parametrize(("text", "fault"), [
    ("ward\x00round", "U+0000 (NUL) at character 5, which cannot be stored"),
    ("a\ud800b", "lone surrogate U+D800 at character 2"),
    ("\udfff", "lone surrogate U+DFFF at character 1"),
    ("bell\x07", "control character U+0007 at character 5"),
    ("esc\x1b[31m", "control character U+001B at character 4"),
])
def test_text_that_cannot_be_stored_is_refused_naming_the_character(text, fault):
    assert fault in (text_fault(text) or "")
    with pytest.raises(ValueError, match=re.escape(fault)):
        clean_text(text)


@pytest.mark.parametrize("text", ["tab\there", "two\nlines\r\n", "\u200fעברית\u200e", "\u202eevil", "emoji 🧑‍⚕️",
                                  "\ufeffbom", "\U0010ffff", "\ue000 private", ""])
def test_tabs_newlines_bidi_marks_and_every_other_character_are_kept(text):
    assert clean_text(text) == unicodedata.normalize("NFC", text)


def test_text_is_stored_as_nfc_and_limited_after_normalising():
    assert clean_text("e\u0301") == "é"
    adapter = TypeAdapter(Text)
    assert adapter.validate_python("Cafe\u0301") == "Café"
    expands = "\u0958"  # DEVANAGARI QA: NFC is two code points
    assert len(adapter.validate_python(expands * 250)) == 500
    with pytest.raises(ValidationError, match="at most 500 characters"):
        adapter.validate_python(expands * 251)


@given(st.text(ANY_CHAR, max_size=40))
def test_any_text_is_either_refused_or_storable_nfc(text):
    fault = text_fault(text)
    try:
        cleaned = clean_text(text)
    except ValueError:
        assert fault is not None
        return
    assert fault is None and unicodedata.is_normalized("NFC", cleaned)
    assert "\x00" not in cleaned and cleaned.encode("utf-8").decode("utf-8") == cleaned
    assert orjson.loads(orjson.dumps(cleaned)) == cleaned


def entry(description: str) -> dict[str, object]:
    return {"entry_id": str(uuid.uuid4()), "student_id": "s-1", "placement_id": "pl-1", "revision": 1,
            "work_date": date(2026, 10, 1), "duration_minutes": 60, "activity": "work", "description": description}


def test_writers_are_strict_and_the_codec_reads_what_was_stored_before():
    with pytest.raises(ValidationError, match=re.escape("control character U+0001")):
        TimeEntryLogged(**entry("old\x01text"))
    good = TimeEntryLogged(**entry("ok"))
    record = encode(good, source="/t")
    stored_before = record.value.replace(b'"description":"ok"', b'"description":"old\\u0001 e\\u0301"')
    read = decode(record.topic, stored_before, record.headers)
    assert read.description == "old\x01 e\u0301"  # type: ignore[attr-defined] # as written: not rewritten


def test_the_codec_refuses_a_record_no_store_could_have_held():
    record = encode(TimeEntryLogged(**entry("ok")), source="/t")
    with pytest.raises(DecodeError, match="description") as refused:
        decode(record.topic, record.value.replace(b'"ok"', b'"nul\\u0000"'), record.headers)
    assert "U+0000" in refused.value.reason


@given(st.text(ANY_CHAR, max_size=30))
def test_an_accepted_address_or_url_is_printable_ascii(text):
    """Contact addresses and tools' endpoints go into SMTP commands, HTTP requests and PostgreSQL:
    whatever is accepted holds no control character, NUL, surrogate or space."""
    for adapter, value in ((TypeAdapter(Email), f"{text}@mentor.example"), (TypeAdapter(Url), f"https://{text}")):
        try:
            accepted = adapter.validate_python(value)
        except ValidationError:
            continue
        assert accepted.isascii() and all("!" <= c <= "~" for c in accepted), repr(accepted)


@pytest.mark.parametrize("address", ["an\x00@mentor.example", "an peeters@mentor.example", "an\u00e9@mentor.example",
                                     "<an>@mentor.example", "an@mentor", "a" * 250 + "@mentor.example"])
def test_addresses_that_cannot_be_mailed_are_refused(address):
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(address)
    assert TypeAdapter(Email).validate_python("an.peeters+werkplek@az-groeninge.be")
