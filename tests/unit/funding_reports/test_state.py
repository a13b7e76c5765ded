"""Folding input events into the cohort: idempotent, order-tolerant across topics, latest versions and
facts; bad and early input (a moved enrolment, a programme not registered yet, credits of another
programme) handled as docs/reports.md says."""

from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from werkplek_events import (
    CreditsRecorded,
    Event,
    PilotRegistered,
    SubjectErased,
    TimeEntryDecisionReversed,
    TimeEntryRejected,
)
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.domain.publication import publication_set
from werkplek_funding_reports.domain.state import Cohort
from werkplek_funding_reports.domain.views import views_for
from werkplek_funding_reports.members import REFERENCE_FACTS

from .story import NOW, Story


def fold(events) -> Cohort:
    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    return cohort


def story_events(story: Story, n: int = 6) -> list[Event]:
    events: list[Event] = [story.programme()]
    for i in range(n):
        events += story.dual_trajectory(f"{story.prog}-s{i}")
    return events


def published(cohort: Cohort, story: Story) -> dict[str, list]:
    computed = publication_set(cohort, (story.inst, story.year), lambda s: f"t-{s}", 5)
    return {k.report_id: v for k, v in computed.reports.items()}


def key(story: Story, programme: str | None = None) -> ReportKey:
    return ReportKey(story.inst, programme or story.prog, story.year)


def test_a_dual_trajectory_meeting_all_criteria_is_seen_as_such():
    story = Story()
    cohort = fold(story_events(story))
    computed = publication_set(cohort, (story.inst, story.year), str, 5)
    assert computed.drafts[key(story)].figure(("dual_criteria_summary", "all_six", "met")).value == 6
    rows = next(s for s in computed.trajectories[key(story)] if s.name == "dual_criteria").rows
    assert [r.cells["all_six"].reason for r in rows] == ["all_met"] * 6
    # published: 6 of 6 would say "not met: 0", which is itself a disclosure, so both are hidden
    summary = next(s for s in computed.reports[key(story)] if s.name == "dual_criteria_summary")
    assert {r.label: r.cells["met"].suppressed for r in summary.rows}["all_six"]


def test_applying_the_same_stream_twice_changes_nothing():
    story = Story()
    events = story_events(story)
    once, twice = fold(events), fold(events + events)
    assert published(once, story) == published(twice, story)
    assert all(twice.apply(e) == set() for e in events)


def test_order_across_topics_does_not_matter():
    story = Story()
    events = story_events(story)
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    assert published(fold(events), story) == published(fold(shuffled), story)


def test_an_older_share_version_does_not_overwrite_a_newer_one():
    story = Story()
    old, new = story.share("s-1", 10_000), story.share("s-1", 60_000)
    cohort = fold([story.programme(), story.enrol("s-1"), new, old])
    view = views_for(cohort, key(story), str)[0]
    assert view.share is not None and view.share.confirmed_minutes == 60_000 and view.share.year_minutes == 60_000


def test_enrolment_tells_which_reports_an_event_touches():
    story = Story()
    cohort = fold([story.programme()])
    assert cohort.apply(story.share("s-1", 1)) == set()  # not enrolled (yet): no report
    touched = cohort.apply(story.enrol("s-1"))
    assert {k.report_id for k in touched} == {f"{story.prog}:{story.year}", f"inst:{story.inst}:{story.year}"}
    assert cohort.apply(story.share("s-1", 2)) == touched


def test_input_for_a_programme_not_registered_yet_is_held_until_it_arrives():
    story = Story()
    cohort = fold([story.enrol("s-1"), story.credits("s-1"), story.share("s-1", 100)])
    assert cohort.report_keys() == set()  # no report names an unknown programme, nor its institution's roll-up
    assert views_for(cohort, ReportKey(story.inst, None, story.year), str) == []
    touched = cohort.apply(story.programme())
    assert {k.report_id for k in touched} == {f"{story.prog}:{story.year}", f"inst:{story.inst}:{story.year}"}
    view = views_for(cohort, key(story), str)[0]
    assert view.credits is not None and view.credits.taken == 60 and view.share is not None


def test_an_enrolment_moved_to_another_programme_mid_year_counts_there_only():
    a = Story()
    b = Story(inst=a.inst)
    first = a.enrol("s-1", dual=True)
    moved = b.enrol("s-1", at=NOW + timedelta(days=60))
    cohort = fold([a.programme(), b.programme(), first, a.credits("s-1")])
    touched = cohort.apply(moved)
    assert {k.report_id for k in touched} >= {f"{a.prog}:{a.year}", f"{b.prog}:{b.year}"}  # both recomputed
    assert views_for(cohort, key(a), str) == []
    [view] = views_for(cohort, key(b), str)
    assert view.credits is None  # credits recorded for programme A do not count in B
    cohort.apply(b.credits("s-1", 30, 30, at=NOW + timedelta(days=61)))  # recorded again after the move
    assert views_for(cohort, key(b), str)[0].credits is not None
    assert fold([a.programme(), b.programme(), moved, first]).enrolments == cohort.enrolments  # any order


def test_credits_earned_above_credits_taken_are_refused_by_the_contract():
    story = Story()
    with pytest.raises(ValidationError, match="credits_earned is above credits_taken"):
        story.credits("s-1", taken=30, earned=31)
    assert story.credits("s-1", taken=30, earned=30).credits_earned == 30


def test_a_pilot_without_a_budget_is_refused_by_the_contract():
    good = Story().pilot("pilot-1").model_dump()
    with pytest.raises(ValidationError, match="budget"):
        PilotRegistered.model_validate({**good, "budget": []})
    with pytest.raises(ValidationError, match="outside the pilot's period"):
        PilotRegistered.model_validate({**good, "budget": [{"academic_year": "2030-2031", "amount_eur": "1.00"}]})


def test_latest_credits_win_by_time_not_arrival():
    story = Story()
    early, late = story.credits("s-1", 60, 20), story.credits("s-1", 60, 50, at=NOW + timedelta(days=1))
    for events in ([early, late], [late, early]):
        cohort = fold([story.programme(), story.enrol("s-1"), *events])
        assert views_for(cohort, key(story), str)[0].credits.earned == 50  # type: ignore[union-attr]
    assert isinstance(late, CreditsRecorded)


def test_a_pilot_has_a_report_for_each_year_of_its_period_with_its_trajectories():
    story = Story()
    cohort = fold([story.programme(), story.pilot("pilot-1"), story.enrol("s-1", dual=True, pilot="pilot-1"),
                   story.enrol("s-2", dual=True)])
    pilot = ReportKey(story.inst, None, story.year, "pilot-1")
    assert pilot in cohort.report_keys() and pilot.report_id == f"pilot:pilot-1:{story.year}"
    assert [v.student_id for v in views_for(cohort, pilot, str)] == ["s-1"]


def test_a_cancelled_placement_is_left_out_and_signatures_count():
    story = Story()
    s = "s-1"
    events = [story.programme(), story.enrol(s, dual=True), story.placement(s, "p-1", "m", "w"),
              story.placement(s, "p-2", "m", "w"), story.placement_ended(s, "p-2"),
              story.signed(s, "p-1", "institution"), story.signed(s, "p-1", "workplace")]
    view = views_for(fold(events), key(story), str)[0]
    assert [p.placement_id for p in view.placements] == ["p-1"]
    assert view.placements[0].signed_by_institution and view.placements[0].signed_by_workplace


def test_institution_roll_up_spans_its_programmes():
    a = Story()
    b = Story(inst=a.inst)
    other = Story()
    cohort = fold([a.programme(), b.programme(), other.programme(), a.enrol("s-a"), b.enrol("s-b"),
                   other.enrol("s-other")])
    roll = views_for(cohort, ReportKey(a.inst, None, a.year), str)
    assert sorted(v.student_id for v in roll) == ["s-a", "s-b"]


def test_confirmations_and_their_reversal_for_lineage():
    story = Story()
    e1, e2 = uuid.uuid4(), uuid.uuid4()
    rev = TimeEntryDecisionReversed(entry_id=e2, student_id="s", placement_id="p", mentor_id="m",
                                    reversed="confirmed")
    cohort = fold([*story.worked("s", "p", e1), *story.worked("s", "p", e2), rev])
    assert cohort.confirmed_entries("s") == [e1]


def test_a_corrected_entry_is_not_confirmed_by_the_confirmation_of_its_older_revision():
    """The old disagreement: lineage kept an entry confirmed after its correction (it looked only at
    confirmation and reversal times) while hour accounting's share counts it pending. Both follow
    `werkplek_events.rules.entry_status` now, in any arrival order."""
    from werkplek_hour_accounting.domain import apply_all, new_state
    from werkplek_hour_accounting.projection import _tallies

    story = Story()
    entry = uuid.uuid4()
    events = [story.logged("s", "p", entry), story.confirmed("s", "p", entry), story.logged("s", "p", entry, 2)]
    for order in (events, events[::-1], [events[1], events[2], events[0]]):
        assert fold(order).confirmed_entries("s") == []
    assert fold([*events, story.confirmed("s", "p", entry, 2)]).confirmed_entries("s") == [entry]
    # hour accounting, fed the same facts (and the placement they need), counts the entry pending
    agreed = story.placement("s", "p", "m", "w")
    state = apply_all(new_state("s"), [agreed, *events])
    overall = _tallies(state, {"p"})[0]
    assert (overall.confirmed, overall.pending) == (0, 480)


def test_a_confirmation_counts_only_once_its_entry_is_known_and_not_withdrawn():
    story = Story()
    entry = uuid.uuid4()
    assert fold([story.confirmed("s", "p", entry)]).confirmed_entries("s") == []  # held: entry not logged yet
    assert fold([story.confirmed("s", "p", entry), story.logged("s", "p", entry)]).confirmed_entries("s") == [entry]
    rejected = TimeEntryRejected(entry_id=entry, student_id="s", placement_id="p", mentor_id="m", entry_revision=1,
                                 reason="wrong_hours")
    both = fold([*story.worked("s", "p", entry), rejected])  # which came last cannot be told: pending
    assert both.confirmed_entries("s") == []


def test_a_pilot_report_waits_for_its_pilot():
    """An enrolment naming a pilot may arrive before the PilotRegistered (another topic): the set is
    computed without the pilot's report, which follows once the pilot is known."""
    from werkplek_funding_reports.domain.publication import publication_set

    from .story import Story

    story = Story()
    cohort = Cohort()
    for e in [story.programme(), *story.dual_trajectory(f"{story.prog}-s0", pilot="pilot-late")]:
        cohort.apply(e)
    early = publication_set(cohort, (story.inst, story.year), str, 5)
    assert all(k.pilot_id is None for k in early.reports)
    cohort.apply(story.pilot("pilot-late"))
    later = publication_set(cohort, (story.inst, story.year), str, 5)
    assert {k.pilot_id for k in later.reports} == {None, "pilot-late"}


def _every_fact_of(cohort: Cohort, student: str) -> list[str]:
    """The cohort's attributes that still hold anything of the student (but the event ids seen, the
    removed students and the reference data: the story names a student's workplace and mentor after them)."""
    skip = ("seen", "removed", *REFERENCE_FACTS)
    return [name for name, value in vars(cohort).items() if name not in skip and student in repr(value)]


def test_full_removal_drops_every_fact_of_the_student_in_any_order():
    story = Story()
    gone = f"{story.prog}-s2"
    events = story_events(story)
    mine = [e for e in events if e.subject() == gone]
    erased = SubjectErased(erasure_id=uuid.uuid4(), subject_kind="student", subject_id=gone,
                           institution_id=story.inst, remove_from_figures=True)
    extra = [story.credits(gone), story.ended(gone), story.placement_ended(gone, f"pl-{gone}"),
             story.signed(gone, f"pl-{gone}", "workplace"), story.share(gone, 2_000)]
    whole = fold(events + extra)
    assert len(_every_fact_of(whole, gone)) >= 10  # every kind of fact above is held before
    others = fold([e for e in events if e.subject() != gone])
    for order in ([*events, *extra, erased], [erased, *events, *extra],
                  random.Random(7).sample([*events, *extra, erased], len(events) + len(extra) + 1)):
        cohort = fold(order)
        assert _every_fact_of(cohort, gone) == [], order.index(erased)
        assert published(cohort, story) == published(others, story)
    kept = fold([*events, erased.model_copy(update={"remove_from_figures": False, "event_id": uuid.uuid4()})])
    assert published(kept, story) == published(fold(events), story) != published(others, story)
    assert [e for e in mine if fold([*events, erased]).apply(e)] == []  # seen or removed: no report changes
