"""The runtime and crypto-shredding (docs/adr/0070): a processor that opens personal fields gets them
in plain text while the subject's key lives, and marked erased — never dead, never a DLQ — once the
key is gone; a processor that does not ask sees them sealed; a compacted topic's tombstone is skipped."""

from __future__ import annotations

import uuid
from datetime import date

from werkplek_common.runtime.batch import decode_all
from werkplek_common.runtime.processor import registry_key
from werkplek_events import KafkaRecord, TimeEntryLogged, encode, topic_for
from werkplek_events.codec import seal
from werkplek_events.personal import DataKey, Redaction, new_secret

from tests.unit.runtime.fakes import record

KEY = DataKey(str(uuid.uuid4()), new_secret())


def _sealed(student: str, text: str) -> KafkaRecord:
    event = TimeEntryLogged(entry_id=uuid.uuid4(), student_id=student, placement_id="p", revision=1,
                            work_date=date(2026, 11, 20), duration_minutes=90, activity="work", description=text)
    return seal(encode(event, source="/test"), KEY)


def test_a_key_that_lives_opens_and_one_that_is_gone_decodes_erased():
    recs = [record(_sealed("s-1", "wondzorg kamer 3"), 0, 0)]
    opened = decode_all(recs, "s-1", registry_key, {KEY.key_id: KEY.secret}.get)
    assert [e.description for e in opened.events] == ["wondzorg kamer 3"] and not opened.dead  # type: ignore[attr-defined]
    erased = decode_all(recs, "s-1", registry_key, lambda _kid: None)
    assert not erased.dead and erased.events[0].redacted == {"description": Redaction.ERASED}
    assert erased.events[0].duration_minutes == 90  # type: ignore[attr-defined]
    sealed = decode_all(recs, "s-1", registry_key)
    assert sealed.events[0].redacted == {"description": Redaction.SEALED}


def test_a_tombstone_is_skipped_not_dead():
    live = _sealed("s-2", "x")
    tomb = KafkaRecord(topic_for(TimeEntryLogged).name, b"s-2", b"", [])
    recs = [record(live, 0, 0), record(tomb, 0, 1)]
    recs[1].value = None  # what a consumer reads for a null value
    out = decode_all(recs, "s-2", registry_key, {KEY.key_id: KEY.secret}.get)
    assert len(out.events) == 1 and out.dead == [] and out.records == [recs[0]]
