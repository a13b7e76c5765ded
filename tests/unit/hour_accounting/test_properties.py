"""Properties of the accounting state: idempotent under redelivery, independent of arrival order
(stronger than what per-key ordering requires: our inputs span several topics), and a correction or
decision followed by its reversal restores the figures."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from werkplek_events import Event, TimeEntryCorrected, TimeEntryLogged
from werkplek_events.vocabulary import Decision
from werkplek_hour_accounting.domain import apply, new_state, programme_from
from werkplek_hour_accounting.projection import figures

from .builders import AS_OF, agreed, amended, confirmed, corrected, enrolled, logged, programme, rejected, reversal

PROGRAMME = programme_from(programme())
S = "stu-p"


@st.composite
def stories(draw):
    """A valid history of one student: enrolment, placements, entries with corrections and decisions."""
    placements = [f"p{i}" for i in range(draw(st.integers(1, 2)))]
    events: list[Event] = [enrolled(S, dual=draw(st.booleans()))]
    for i, pid in enumerate(placements):
        events.append(agreed(S, pid, date(2026, 10, 1), date(2026, 11, 30), draw(st.integers(0, 40_000)), i + 1))
        if draw(st.booleans()):
            events.append(amended(S, pid, planned=draw(st.integers(0, 40_000)), minutes_later=i + 1))
    for _ in range(draw(st.integers(0, 6))):
        minutes, placement = draw(st.integers(1, 600)), draw(st.sampled_from(placements))
        day = date(2026, 10, 1) + timedelta(days=draw(st.integers(0, 40)))
        entry: TimeEntryLogged | TimeEntryCorrected = logged(S, minutes, placement, uuid.uuid4(), day)
        events.append(entry)
        for step in draw(st.lists(st.sampled_from(["correct", "confirm", "reject"]), max_size=3)):
            if step == "correct":
                entry = corrected(entry, draw(st.integers(1, 600)))
                events.append(entry)
            else:
                decision = confirmed(entry) if step == "confirm" else rejected(entry)
                events.append(decision)
                if draw(st.booleans()):
                    events.append(reversal(entry, Decision.CONFIRMED if step == "confirm" else Decision.REJECTED))
    return events


def fold(events):
    state = new_state(S)
    for e in events:
        state = apply(state, e)
    return state


@settings(max_examples=150, deadline=None)
@given(stories(), st.data())
def test_redelivery_changes_nothing(events, data):
    redelivered = data.draw(st.lists(st.sampled_from(events), max_size=len(events)))
    assert fold(events + redelivered) == fold(events)
    assert fold(events + events) == fold(events)


@settings(max_examples=150, deadline=None)
@given(stories(), st.randoms(use_true_random=False))
def test_any_arrival_order_gives_the_same_state(events, rnd):
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert fold(shuffled) == fold(events)
    assert figures(fold(shuffled), PROGRAMME, AS_OF) == figures(fold(events), PROGRAMME, AS_OF)


@settings(max_examples=100, deadline=None)
@given(stories(), st.integers(1, 600), st.integers(1, 600))
def test_a_correction_followed_by_its_reversal_restores_the_figures(events, original, other):
    entry = logged(S, original, "p0")
    before = fold([*events, entry])
    step = corrected(entry, other)
    after = fold([*events, entry, step, corrected(step, original)])
    assert figures(after, PROGRAMME, AS_OF) == figures(before, PROGRAMME, AS_OF)


@settings(max_examples=100, deadline=None)
@given(stories(), st.sampled_from([Decision.CONFIRMED, Decision.REJECTED]))
def test_a_decision_followed_by_its_reversal_restores_the_figures(events, kind):
    entry = logged(S, 480, "p0")
    before = fold([*events, entry])
    decision = confirmed(entry) if kind == Decision.CONFIRMED else rejected(entry)
    after = fold([*events, entry, decision, reversal(entry, kind)])
    assert figures(after, PROGRAMME, AS_OF) == figures(before, PROGRAMME, AS_OF)
