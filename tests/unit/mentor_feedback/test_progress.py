"""Learning-outcome progress rules: latest assessment per agreed outcome, coverage by kind, achieved
share, never assessed; order-independent and idempotent (property tests)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from werkplek_events import AssessmentRecorded, OutcomeAssessment, PlacementAmended
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, OutcomeKind
from werkplek_mentor_feedback.progress import State, body, step

from . import factories as f

T0 = datetime(2026, 10, 1, tzinfo=UTC)
K, S, A = OutcomeKind.KNOWLEDGE, OutcomeKind.SKILL, OutcomeKind.ATTITUDE


def assessment(outcomes: dict[str, AssessmentLevel], *, on: date = date(2026, 11, 1),
               moment: AssessmentMoment = AssessmentMoment.MID_TERM, placement: str = "pl-1",
               at: datetime = T0) -> AssessmentRecorded:
    kinds = dict(f.OUTCOMES)
    return AssessmentRecorded(assessment_id=f.uid("as"), student_id="s-1", placement_id=placement, mentor_id="m-1",
                              moment=moment, assessed_on=on, occurred_at=at,
                              outcomes=[OutcomeAssessment(outcome_id=o, kind=kinds.get(o, S), level=lv)
                                        for o, lv in outcomes.items()])


def run(*events) -> tuple[State, list]:
    state, updates = State(student_id="s-1"), []
    for e in events:
        state, update = step(state, e)
        if update:
            updates.append(update)
    return state, updates


def test_progress_of_a_fresh_agreement_lists_every_outcome_as_never_assessed():
    _, [update] = run(f.placement("pl-1", "s-1", "m-1"))
    assert update.version == 1 and update.never_assessed == ["lo-1", "lo-2", "lo-3"]
    assert update.achieved_share == Decimal("0")
    assert update.coverage[K].agreed == update.coverage[S].agreed == update.coverage[A].agreed == 1


def test_latest_assessment_counts_and_achieved_share_is_reached_over_agreed():
    _, updates = run(f.placement("pl-1", "s-1", "m-1"),
                     assessment({"lo-1": AssessmentLevel.ACHIEVED, "lo-2": AssessmentLevel.NOT_YET}),
                     assessment({"lo-2": AssessmentLevel.EXCEEDS}, on=date(2027, 1, 10), moment=AssessmentMoment.FINAL),
                     assessment({"lo-1": AssessmentLevel.DEVELOPING}, on=date(2026, 10, 1)))  # older: ignored
    last = updates[-1]
    assert [u.version for u in updates] == [1, 2, 3]  # the older assessment changed nothing
    levels = {o.outcome_id: o.latest_level for o in last.outcomes}
    assert levels == {"lo-1": AssessmentLevel.ACHIEVED, "lo-2": AssessmentLevel.EXCEEDS, "lo-3": None}
    assert last.achieved_share == Decimal("0.6667") and last.never_assessed == ["lo-3"]
    assert last.coverage[S] .model_dump() == {"agreed": 1, "assessed": 1, "achieved": 1}
    assert last.coverage[A].model_dump() == {"agreed": 1, "assessed": 0, "achieved": 0}


def test_on_the_same_day_a_final_beats_a_mid_term_whatever_the_arrival_order():
    final = assessment({"lo-1": AssessmentLevel.NOT_YET}, moment=AssessmentMoment.FINAL)
    mid = assessment({"lo-1": AssessmentLevel.EXCEEDS}, at=T0 + timedelta(hours=1))
    for order in ((final, mid), (mid, final)):
        state, _ = run(f.placement("pl-1", "s-1", "m-1"), *order)
        assert body(state)["outcomes"][0].latest_level is AssessmentLevel.NOT_YET


def test_an_assessment_before_its_placement_is_held_and_counts_when_the_agreement_arrives():
    early = assessment({"lo-1": AssessmentLevel.ACHIEVED})
    state, updates = run(early)
    assert updates == [] and state.assessments  # held, nothing to show yet
    _, updates = run(early, f.placement("pl-1", "s-1", "m-1"))
    assert updates[-1].achieved_share == Decimal("0.3333")


def test_an_amendment_replaces_the_agreed_outcomes_and_an_older_one_is_ignored():
    agreed = f.placement("pl-1", "s-1", "m-1")
    amended = PlacementAmended(**{**agreed.model_dump(exclude={"event_id", "programme_id", "institution_id",
                                                               "workplace_id", "academic_year", "phase",
                                                               "learning_agreement"}),
                                  "occurred_at": agreed.occurred_at + timedelta(days=1)},
                               learning_agreement={"outcomes": [{"outcome_id": "lo-1", "title": "x",
                                                                 "kind": "knowledge", "acquired_at": "workplace"}]})
    for order in ((agreed, amended), (amended, agreed)):
        state, _ = run(*order, assessment({"lo-2": AssessmentLevel.ACHIEVED}))
        assert [o.outcome_id for o in body(state)["outcomes"]] == ["lo-1"]  # lo-2 no longer agreed


def test_an_event_applied_twice_changes_nothing():
    events = [f.placement("pl-1", "s-1", "m-1"), assessment({"lo-1": AssessmentLevel.ACHIEVED})]
    state, updates = run(*events)
    again, more = run(*events, *events)
    assert again == state and len(more) == len(updates)


levels = st.sampled_from(list(AssessmentLevel))
assessments = st.builds(
    lambda outs, day, final, minute: assessment(outs, on=date(2026, 10, 1) + timedelta(days=day),
                                                moment=AssessmentMoment.FINAL if final else AssessmentMoment.MID_TERM,
                                                at=T0 + timedelta(minutes=minute)),
    st.dictionaries(st.sampled_from(["lo-1", "lo-2", "lo-3", "lo-9"]), levels, min_size=1, max_size=4),
    st.integers(0, 5), st.booleans(), st.integers(0, 100))


@settings(max_examples=150, deadline=None)
@given(st.lists(assessments, min_size=0, max_size=8), st.randoms(use_true_random=False), st.integers(0, 9))
def test_any_order_and_any_duplicates_give_the_same_progress(items, rnd, at):
    events = [f.placement("pl-1", "s-1", "m-1"), *items]
    state, updates = run(*events)
    shuffled = events + events[: len(events) // 2]
    rnd.shuffle(shuffled)
    other, other_updates = run(*shuffled)
    assert body(other) == body(state)
    assert updates[-1].version == len(updates) and [u.version for u in updates] == list(range(1, len(updates) + 1))
    last = other_updates[-1]
    assert last.model_dump(exclude={"event_id", "occurred_at", "version"}) == \
        OutcomeProgressSnapshot(body(state))
    assert 0 <= last.achieved_share <= 1
    assert set(last.never_assessed) == {o.outcome_id for o in last.outcomes if o.latest_level is None}
    assert sum(c.agreed for c in last.coverage.values()) == len(last.outcomes)


def OutcomeProgressSnapshot(b: dict) -> dict:
    from werkplek_events import OutcomeProgressUpdated

    return OutcomeProgressUpdated(**b, version=1).model_dump(exclude={"event_id", "occurred_at", "version"})


def test_event_ids_are_derived_from_student_and_version():
    _, [a] = run(f.placement("pl-1", "s-1", "m-1"))
    _, [b] = run(f.placement("pl-1", "s-1", "m-1"))
    assert a.event_id == b.event_id and isinstance(a.event_id, uuid.UUID)
