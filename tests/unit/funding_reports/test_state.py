"""Folding input events into the cohort: idempotent, order-tolerant across topics, latest versions."""

from __future__ import annotations

import random
import uuid

from werkplek_events import Event, TimeEntryDecisionReversed
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.domain.report import build_draft, report_sections
from werkplek_funding_reports.domain.state import Cohort
from werkplek_funding_reports.domain.views import views_for

from .story import Story


def fold(events) -> Cohort:
    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    return cohort


def story_events(story: Story) -> list[Event]:
    events: list[Event] = [story.programme()]
    for n in range(6):
        events += story.dual_trajectory(f"{story.prog}-s{n}")
    return events


def sections(cohort: Cohort, story: Story) -> list:
    key = ReportKey(story.inst, story.prog, story.year)
    return report_sections(views_for(cohort, key, lambda s: f"t-{s}"), 5)


def test_a_dual_trajectory_meeting_all_criteria_is_seen_as_such():
    story = Story()
    cohort = fold(story_events(story))
    draft = build_draft(views_for(cohort, ReportKey(story.inst, story.prog, story.year), str))
    assert draft.figure(("dual_criteria_summary", "all_six", "met")).value == 6
    # and published: 6 of 6 would say "not met: 0", which is itself a disclosure, so both are hidden
    summary = next(s for s in sections(cohort, story) if s.name == "dual_criteria_summary")
    assert {r.label: r.cells["met"].suppressed for r in summary.rows}["all_six"]


def test_applying_the_same_stream_twice_changes_nothing():
    story = Story()
    events = story_events(story)
    once, twice = fold(events), fold(events + events)
    assert sections(once, story) == sections(twice, story)
    assert all(twice.apply(e) == set() for e in events)


def test_order_across_topics_does_not_matter():
    story = Story()
    events = story_events(story)
    shuffled = events[:]
    random.Random(7).shuffle(shuffled)
    assert sections(fold(events), story) == sections(fold(shuffled), story)


def test_an_older_share_version_does_not_overwrite_a_newer_one():
    story = Story()
    student = "s-1"
    old, new = story.share(student, 10_000), story.share(student, 60_000)
    cohort = fold([story.enrol(student), new, old])
    view = views_for(cohort, ReportKey(story.inst, story.prog, story.year), str)[0]
    assert view.share is not None and view.share.confirmed_minutes == 60_000


def test_enrolment_tells_which_reports_an_event_touches():
    story = Story()
    cohort = Cohort()
    assert cohort.apply(story.share("s-1", 1)) == set()  # not enrolled (yet): no report
    touched = cohort.apply(story.enrol("s-1"))
    assert {k.report_id for k in touched} == {f"{story.prog}:{story.year}", f"inst:{story.inst}:{story.year}"}
    assert cohort.apply(story.share("s-1", 2)) == touched


def test_a_cancelled_placement_is_left_out_and_signatures_count():
    story = Story()
    s = "s-1"
    events = [story.enrol(s, dual=True), story.placement(s, "p-1", "m", "w"), story.placement(s, "p-2", "m", "w"),
              story.placement_ended(s, "p-2"), story.signed(s, "p-1", "institution"),
              story.signed(s, "p-1", "workplace")]
    view = views_for(fold(events), ReportKey(story.inst, story.prog, story.year), str)[0]
    assert [p.placement_id for p in view.placements] == ["p-1"]
    assert view.placements[0].signed_by_institution and view.placements[0].signed_by_workplace


def test_institution_roll_up_spans_its_programmes():
    a = Story()
    b = Story(inst=a.inst)
    cohort = fold([a.enrol("s-a"), b.enrol("s-b"), Story().enrol("s-other")])
    roll = views_for(cohort, ReportKey(a.inst, None, a.year), str)
    assert sorted(v.student_id for v in roll) == ["s-a", "s-b"]


def test_confirmations_and_their_reversal_for_lineage():
    story = Story()
    e1, e2 = uuid.uuid4(), uuid.uuid4()
    c1, c2 = story.confirmed("s", "p", e1), story.confirmed("s", "p", e2)
    rev = TimeEntryDecisionReversed(entry_id=e2, student_id="s", placement_id="p", mentor_id="m",
                                    reversed="confirmed")
    cohort = fold([c1, c2, rev])
    assert cohort.confirmed_entries("s") == [e1]
