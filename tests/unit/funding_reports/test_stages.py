"""The two stages of the report worker, driven in memory: students' events through `Members`, its
outputs through `Reports`, give exactly the reports the domain's rules compute from one cohort of
all events; a student who moves institution leaves the old unit's reports; a student removed from the
figures (full removal, docs/adr/0072) leaves them, in any order of the records; the states survive
their storage format; nothing changes twice for a repeated event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from werkplek_common.runtime import Context
from werkplek_events import Event, FundingReportPublished, ReportMemberChanged, StudentEnrolled, SubjectErased
from werkplek_funding_reports import codec
from werkplek_funding_reports.config import Settings
from werkplek_funding_reports.members import REFERENCE, Members, Reference
from werkplek_funding_reports.reports import Reports, UnitState

from .story import Story, expected_reports

CTX = Context(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC).date())


class Stages:
    def __init__(self) -> None:
        self.reference = Reference()
        self.members = Members("m")
        self.reports = Reports("r", Settings(reports_snapshot_every="never"), self.reference)
        self.students: dict[str, object] = {}
        self.units: dict[str, UnitState] = {}
        self.published: dict[str, FundingReportPublished] = {}

    def feed(self, events: Sequence[Event]) -> None:
        """As one batch: each student's events together, then each unit's members together."""
        by_student: dict[str, list[Event]] = {}
        for e in events:
            if isinstance(e, REFERENCE):
                self.reference.apply(e)
            else:
                by_student.setdefault(str(e.subject()), []).append(e)
        by_unit: dict[str, list[Event]] = {}
        for sid, mine in by_student.items():
            state = self.students.get(sid) or self.members.initial(sid)
            state, outputs = self.members.handle(state, mine, CTX)  # type: ignore[arg-type]
            self.students[sid] = self.members.load(sid, self.members.dump(state))  # through its storage
            for m in outputs:
                assert isinstance(m, ReportMemberChanged)
                by_unit.setdefault(m.institution_id, []).append(m)
        for key, members in by_unit.items():
            self.unit(key, members)

    def unit(self, key: str, members: list[Event]) -> None:
        state, outputs = self.reports.handle(self.units.get(key) or self.reports.initial(key), members, CTX)
        stored: dict[str, bytes] = {sid: blob for sid, blob in self.reports.dump_parts(state).items()
                                    if blob is not None}
        kept = {sid: codec.dumps(facts) for sid, facts in state.facts.items() if sid not in stored}
        self.units[key] = self.reports.load_parted(key, self.reports.dump(state), {**kept, **stored})
        for o in outputs:
            if isinstance(o, FundingReportPublished):
                before = self.published.get(o.report_id)
                if before is not None and before.institution_id == o.institution_id:
                    assert o.version == before.version + 1  # versions only go up, one by one
                self.published[o.report_id] = o


def test_the_stages_compute_what_one_cohort_computes():
    a, b = Story(), Story()
    b.inst = a.inst  # two programmes of one institution: one unit, three reports
    events: list[Event] = [a.programme(), b.programme()]
    for n in range(6):
        events += a.dual_trajectory(f"{a.prog}-s{n}", 30_000 + n) + b.dual_trajectory(f"{b.prog}-s{n}", 40_000 + n)
    stages = Stages()
    stages.feed(events)
    assert {rid: r.sections for rid, r in stages.published.items()} == expected_reports(events)
    versions = {rid: r.version for rid, r in stages.published.items()}
    stages.feed(events[2:5])  # repeated: nothing new
    assert {rid: r.version for rid, r in stages.published.items()} == versions


def test_a_student_who_moves_institution_leaves_the_old_units_reports():
    a, other = Story(), Story()
    events: list[Event] = [a.programme(), other.programme()]
    for n in range(6):
        events += a.dual_trajectory(f"{a.prog}-s{n}")
    stages = Stages()
    stages.feed(events)
    roll = f"inst:{a.inst}:{a.year}"
    first = stages.published[roll].version
    # the same enrolment (student, programme, year), now recorded at another institution
    first_enrolment = next(e for e in events if isinstance(e, StudentEnrolled) and e.student_id == f"{a.prog}-s0")
    moved = other.enrol(f"{a.prog}-s0", dual=True).model_copy(  # recorded later: the latest enrolment wins
        update={"programme_id": a.prog, "occurred_at": first_enrolment.occurred_at + timedelta(minutes=1)})
    stages.feed([moved])
    assert f"{a.prog}-s0" not in stages.units[a.inst].facts
    assert f"{a.prog}-s0" in stages.units[other.inst].facts
    assert stages.published[roll].version == first + 1


def _erased(story: Story, student: str, remove: bool) -> SubjectErased:
    return SubjectErased(erasure_id=uuid.uuid4(), subject_kind="student", subject_id=student,
                         institution_id=story.inst, remove_from_figures=remove)


def _cohort_of(story: Story, dual: int = 6, other: int = 5) -> list[Event]:
    events: list[Event] = [story.programme()]
    for n in range(dual):
        events += story.dual_trajectory(f"{story.prog}-s{n}", 30_000 + 1_000 * n)
    for n in range(other):
        events += [story.enrol(f"{story.prog}-n{n}"), story.share(f"{story.prog}-n{n}", 1_000)]
    return events


def test_full_removal_recomputes_the_reports_without_the_student_and_keeps_them_out():
    a = Story()
    events = _cohort_of(a)
    gone = f"{a.prog}-s0"
    without = [e for e in events if e.subject() != gone]
    stages = Stages()
    stages.feed(events)
    assert {rid: r.sections for rid, r in stages.published.items()} == expected_reports(events)
    versions = {rid: r.version for rid, r in stages.published.items()}

    stages.feed([_erased(a, gone, remove=False)])  # an erasure that keeps the figures changes none
    assert {rid: r.version for rid, r in stages.published.items()} == versions
    stages.feed([_erased(a, gone, remove=True)])
    assert {rid: r.sections for rid, r in stages.published.items()} == expected_reports(without)
    assert expected_reports(without) != expected_reports(events)  # the student did count before
    assert gone not in stages.units[a.inst].facts
    versions = {rid: r.version for rid, r in stages.published.items()}
    # a later record of theirs (a share, a redelivered enrolment) changes nothing
    stages.feed([a.share(gone, 90_000), *[e for e in events if e.subject() == gone]])
    assert {rid: r.version for rid, r in stages.published.items()} == versions
    assert gone not in stages.units[a.inst].facts


def test_a_rebuild_that_reads_the_removal_first_never_counts_the_student():
    """The topics are read in no set order: the privacy topic's record before the student's others."""
    a = Story()
    events = _cohort_of(a)
    gone = f"{a.prog}-s1"
    stages = Stages()
    stages.feed([a.programme(), _erased(a, gone, remove=True)])
    stages.feed(events)
    assert {rid: r.sections for rid, r in stages.published.items()} == \
        expected_reports([e for e in events if e.subject() != gone])


def test_erasures_of_mentors_and_ones_keeping_the_figures_leave_no_state():
    """Their records reach the members stage too (the privacy topic is one of its inputs), keyed by
    the subject: a state is written only for a full removal."""
    stages, a = Stages(), Story()
    mentor = SubjectErased(erasure_id=uuid.uuid4(), subject_kind="mentor", subject_id=f"m-{a.prog}",
                           institution_id=a.inst)
    for event in (mentor, _erased(a, f"{a.prog}-s0", remove=False)):
        key = event.subject_id
        initial = stages.members.initial(key)
        state, outputs = stages.members.handle(initial, [event], CTX)
        assert state is initial and outputs == []
    removed, outputs = stages.members.handle(stages.members.initial("x"), [_erased(a, "x", remove=True)], CTX)
    assert removed.cohort.removed == {"x"} and outputs == []  # never sent anywhere: nothing to take back


def test_full_removal_is_for_students_only():
    with pytest.raises(ValidationError, match="student only"):
        SubjectErased(erasure_id=uuid.uuid4(), subject_kind="mentor", subject_id="m-1", institution_id="i-1",
                      remove_from_figures=True)
