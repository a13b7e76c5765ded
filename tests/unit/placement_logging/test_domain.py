"""The ledger's rules as pure functions: one test per rule, and properties of a batch."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st
from werkplek_events import TimeEntryConfirmed, TimeEntryDecisionReversed, TimeEntryRejected
from werkplek_placement_logging import domain
from werkplek_placement_logging.domain import Draft, Logged, PlacementView

NOW = datetime(2026, 11, 20, 12, 0)
SKEW = timedelta(minutes=5)
PL = PlacementView("pl-1", "stu-1", date(2026, 9, 15), date(2027, 6, 15), None, frozenset({"LO1"}))


def draft(**over: object) -> Draft:
    base = {"entry_id": uuid.uuid4(), "placement_id": "pl-1", "work_date": date(2026, 11, 19), "start_time": None,
            "end_time": None, "duration_minutes": 60, "activity": "work", "outcome_ids": (), "description": ""}
    base.update(over)
    return Draft(**base)  # type: ignore[arg-type]


def fields(d: Draft, placement: PlacementView | None = PL, others: list[Logged] | None = None,
           student: str = "stu-1") -> set[str]:
    _, errors = domain.validate(d, placement, student, others or [], NOW, SKEW)
    return {e.field for e in errors}


def test_a_valid_entry_has_no_violation():
    facts, errors = domain.validate(draft(), PL, "stu-1", [], NOW, SKEW)
    assert errors == [] and facts is not None and facts.duration_minutes == 60


def test_duration_comes_from_start_and_end():
    facts, _ = domain.resolve(draft(start_time=time(8), end_time=time(12, 30), duration_minutes=None))
    assert facts is not None and facts.duration_minutes == 270


def test_contradicting_duration_is_refused():
    assert fields(draft(start_time=time(8), end_time=time(9), duration_minutes=90)) == {"duration_minutes"}


def test_half_a_time_range_is_refused():
    assert fields(draft(start_time=time(8))) == {"end_time"}


def test_end_before_start_is_refused():
    assert fields(draft(start_time=time(12), end_time=time(8), duration_minutes=None)) == {"end_time"}


def test_duration_must_be_positive():
    assert fields(draft(duration_minutes=0)) == {"duration_minutes"}
    assert fields(draft(duration_minutes=-5)) == {"duration_minutes"}


def test_outside_the_period():
    assert fields(draft(work_date=date(2026, 9, 14))) == {"work_date"}


def test_after_the_placement_ended():
    ended = PlacementView(**{**PL.__dict__, "ended_on": date(2026, 11, 1)})
    assert fields(draft(work_date=date(2026, 11, 2)), ended) == {"placement_id", "work_date"}
    assert fields(draft(work_date=date(2026, 11, 1)), ended) == set()


def test_future_beyond_the_skew():
    assert fields(draft(work_date=date(2026, 11, 21))) == {"work_date"}
    assert fields(draft(work_date=date(2026, 11, 20), start_time=time(11), end_time=time(12, 4),
                        duration_minutes=None)) == set()  # within the tolerated skew
    assert fields(draft(work_date=date(2026, 11, 20), start_time=time(11), end_time=time(12, 6),
                        duration_minutes=None)) == {"work_date", "end_time"}


def test_unknown_and_foreign_placements_look_the_same():
    assert fields(draft(), None) == {"placement_id"}
    assert fields(draft(), PL, student="stu-2") == {"placement_id"}


def test_outcomes_must_be_in_the_agreement():
    assert fields(draft(outcome_ids=("LO1", "LO7"))) == {"outcome_ids"}


def test_day_limit_counts_other_entries():
    other = Logged(uuid.uuid4(), date(2026, 11, 19), None, None, 23 * 60)
    assert fields(draft(duration_minutes=60), others=[other]) == set()
    assert fields(draft(duration_minutes=61), others=[other]) == {"duration_minutes"}


def test_overlap_with_another_entry():
    other = Logged(uuid.uuid4(), date(2026, 11, 19), time(8), time(12), 240)
    assert fields(draft(start_time=time(11), end_time=time(13), duration_minutes=None), others=[other]) == {
        "start_time", "end_time"}
    assert fields(draft(start_time=time(12), end_time=time(13), duration_minutes=None), others=[other]) == set()


def test_every_violation_is_reported_at_once():
    assert fields(draft(duration_minutes=0, work_date=date(2027, 1, 1), outcome_ids=("X",))) == {
        "duration_minutes", "work_date", "outcome_ids"}


def _decision(kind: str, revision: int = 2, reversed_: str = "confirmed") -> domain.MentorDecision:
    common = {"entry_id": uuid.uuid4(), "student_id": "s", "placement_id": "p", "mentor_id": "m"}
    if kind == "reversed":
        return TimeEntryDecisionReversed(**common, reversed=reversed_)
    if kind == "rejected":
        return TimeEntryRejected(**common, entry_revision=revision, reason="wrong_hours")
    return TimeEntryConfirmed(**common, entry_revision=revision)


def test_decisions():
    assert domain.decide(domain.PENDING, 2, _decision("confirmed")) is domain.CONFIRMED
    assert domain.decide(domain.PENDING, 2, _decision("rejected")) is domain.REJECTED
    assert domain.decide(domain.PENDING, 2, _decision("confirmed", 1)) is None  # the mentor saw an older revision
    assert domain.decide(domain.CONFIRMED, 3, _decision("reversed")) is domain.PENDING
    assert domain.decide(domain.REJECTED, 3, _decision("reversed", reversed_="rejected")) is domain.PENDING
    assert domain.decide(domain.PENDING, 3, _decision("reversed")) is domain.PENDING  # after a correction
    # the one rule (werkplek_events.rules.entry_status): a reversal of the other kind leaves the decision
    assert domain.decide(domain.REJECTED, 3, _decision("reversed", reversed_="confirmed")) is domain.REJECTED
    assert domain.refuse_change(domain.CONFIRMED, False) and domain.refuse_change(domain.PENDING, True)
    assert domain.refuse_change(domain.REJECTED, False) is None


def test_etag_matching():
    assert domain.etag_matches('"3"', 3) and domain.etag_matches('"1", "3"', 3) and domain.etag_matches("*", 9)
    assert not domain.etag_matches('"2"', 3) and not domain.etag_matches('W/"3"', 3)


def test_patch_keeps_the_rest_and_recomputes_duration():
    facts, _ = domain.resolve(draft(start_time=time(8), end_time=time(10), duration_minutes=None))
    assert facts is not None
    moved = domain.patched(facts, {"end_time": time(11)})
    assert domain.resolve(moved)[0].duration_minutes == 180  # type: ignore[union-attr]
    plain = domain.patched(facts, {"duration_minutes": 30})
    assert plain.start_time is None and domain.resolve(plain)[0].duration_minutes == 30  # type: ignore[union-attr]


def test_a_batch_counts_its_own_items_and_duplicates():
    first = draft(duration_minutes=1000)
    items: list[Draft | list[domain.Violation]] = [first, draft(duration_minutes=500), first,
                                                   [domain.Violation("x", "bad", "shape")]]
    kinds = [v.kind for v in domain.judge(items, {"pl-1": PL}, [], {}, "stu-1", NOW, SKEW)]
    assert kinds == [domain.CREATED, domain.INVALID, domain.DUPLICATE, domain.INVALID]
    taken = domain.judge([first], {"pl-1": PL}, [], {first.entry_id: "stu-2"}, "stu-1", NOW, SKEW)
    assert taken[0].kind == domain.CONFLICT


slot = st.tuples(st.integers(0, 23 * 60), st.integers(1, 12 * 60))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), slot, st.booleans()), max_size=40))
def test_accepted_entries_never_exceed_a_day_nor_overlap(spec):
    items = []
    for day_offset, (start, length), timed in spec:
        end = min(start + length, 24 * 60 - 1)
        kw: dict[str, object] = {"work_date": date(2026, 11, 17) + timedelta(days=day_offset)}
        if timed and end > start:
            kw.update(start_time=time(start // 60, start % 60), end_time=time(end // 60, end % 60),
                      duration_minutes=None)
        else:
            kw.update(duration_minutes=length)
        items.append(draft(**kw))
    accepted = [v.facts for v in domain.judge(items, {"pl-1": PL}, [], {}, "stu-1", NOW, SKEW) if v.facts]
    for day in {f.work_date for f in accepted}:
        same = [f for f in accepted if f.work_date == day]
        assert sum(f.duration_minutes for f in same) <= 24 * 60
        timed_ = sorted((f.start_time, f.end_time) for f in same if f.start_time is not None)
        assert all(a[1] <= b[0] for a, b in pairwise(timed_))  # type: ignore[operator]
