"""The stored state: any state the domain can build survives encoding exactly (dates, stamps, the
published values), and states written in format 1 (before dates became ordinals) still load."""

from __future__ import annotations

import pickle
from datetime import date

from hypothesis import given, settings
from werkplek_events import EnrolmentEnded, decode, encode
from werkplek_hour_accounting import statecodec
from werkplek_hour_accounting.domain import StudentState, apply_all, new_state
from werkplek_hour_accounting.outputs import changes
from werkplek_hour_accounting.projection import figures

from .builders import AS_OF, YEAR, agreed, confirmed, ended, enrolled, logged
from .test_properties import PROGRAMME, S, fold, stories


def _v1(s: StudentState) -> bytes:
    """Format 1 as the previous release wrote it: the same tuples with dates and stamps as objects."""
    em = s.emitted
    return pickle.dumps((
        1, s.student_id, s.applied,
        tuple((y, e.programme_id, e.academic_year, e.phase, e.dual_track, e.stamp) for y, e in s.enrolments.items()),
        s.enrolment_ended,
        tuple((k, p.phase, p.academic_year, p.start, p.end, p.planned_minutes, p.terms_stamp, p.ended_on)
              for k, p in s.placements.items()),
        tuple((k, e.revision, e.placement_id, e.work_date, e.minutes, e.withdrawn_rev) for k, e in s.entries.items()),
        tuple((k, d.confirmed, d.rejected, d.reversed_confirmed, d.reversed_rejected) for k, d in s.decisions.items()),
        None if em is None else (em.version, em.values, em.status),
    ), protocol=pickle.HIGHEST_PROTOCOL)


def _published(state: StudentState) -> StudentState:
    return changes(state, figures(state, PROGRAMME, AS_OF), None)[0]


@settings(max_examples=150, deadline=None)
@given(stories())
def test_every_state_survives_encoding_exactly(events):
    state = _published(fold(events))
    assert statecodec.load(S, statecodec.dump(state)) == state
    assert statecodec.load(S, _v1(state)) == state


def test_a_state_decoded_from_records_survives_with_its_ended_enrolment_and_placement():
    """Through the codec as the worker sees them: every date an object of its own."""
    entries = [logged(S, 60 + i, day=date(2026, 10, 1 + i)) for i in range(20)]
    events = [enrolled(S), agreed(S), *entries, *[confirmed(e) for e in entries[::3]], ended(S, "plc-1", AS_OF),
              EnrolmentEnded(student_id=S, programme_id="grad-test", academic_year=YEAR, ended_on=AS_OF,
                             reason="dropped_out")]
    state = _published(apply_all(new_state(S), [decode(r.topic, r.value, r.headers)
                                                  for r in (encode(e, source="/t") for e in events)]))
    assert state.placements["plc-1"].ended_on == AS_OF and state.enrolment_ended == {YEAR: AS_OF}
    assert state.emitted is not None
    assert statecodec.load(S, statecodec.dump(state)) == state
    assert len(statecodec.dump(state)) < len(_v1(state))


def test_an_unknown_format_is_refused_with_its_number():
    try:
        statecodec.load(S, pickle.dumps((9, S)))
    except ValueError as exc:
        assert "format 9" in str(exc)
    else:
        raise AssertionError("format 9 was accepted")
