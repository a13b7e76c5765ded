"""One student's trajectory over several academic years, as the events the services publish: the
registry's, the mentors', and the `ShareUpdated` that hour accounting's own use case
(`werkplek_hour_accounting.process.account_batch`) computes from them, never a hand-made share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from werkplek_events import (
    AssessmentRecorded,
    ContinuumPosition,
    Event,
    LearningAgreement,
    LearningAgreementSigned,
    LearningOutcome,
    MentorRegistered,
    OutcomeAssessment,
    PlacementAgreed,
    ProgrammeRegistered,
    ShareUpdated,
    StudentEnrolled,
    TimeEntryConfirmed,
    TimeEntryLogged,
    WorkplaceRegistered,
)
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.domain.records import StudentView
from werkplek_funding_reports.domain.state import Cohort
from werkplek_funding_reports.domain.views import views_for
from werkplek_hour_accounting.domain import new_state, programme_from
from werkplek_hour_accounting.process import account_batch, group_by_student

INST, WORKPLACE, MENTOR = "inst-t", "wp-t", "m-t"
T0 = datetime(2024, 9, 2, 8, tzinfo=UTC)
CONTINUUM = ContinuumPosition(learning_environment=5, extent=4, engagement=4, transfer=4, integration=4,
                              target_group=3)


def first_day(year: str) -> date:
    return date(int(year[:4]), 9, 15)


@dataclass
class Trajectory:
    """A dual student of a graduaat of 120 ECTS × 27 h (a phase: 194 400 / phases minutes)."""

    phases: int = 2
    student: str = field(default_factory=lambda: f"stu-{uuid.uuid4().hex[:8]}")
    programme_id: str = field(default_factory=lambda: f"prog-{uuid.uuid4().hex[:8]}")
    events: list[Event] = field(default_factory=list)
    year: str = ""
    clock: int = 0

    def __post_init__(self) -> None:
        self.programme = ProgrammeRegistered(programme_id=self.programme_id, institution_id=INST, name="Graduaat",
                                             level="graduaat", ects=120, hours_per_ects=27, phases=self.phases,
                                             dual_min_share="0.01")
        self.events += [self.programme, WorkplaceRegistered(workplace_id=WORKPLACE, institution_id=INST, name="AZ",
                                                            sector="care", environment="authentic", sector_code="Q"),
                        MentorRegistered(mentor_id=MENTOR, workplace_id=WORKPLACE, institution_id=INST, trained=True)]

    def _at(self) -> datetime:
        self.clock += 1
        return T0 + timedelta(minutes=self.clock)

    def enrol(self, year: str, phase: int) -> None:
        self.year = year
        self.events.append(StudentEnrolled(student_id=self.student, programme_id=self.programme_id,
                                           institution_id=INST, academic_year=year, phase=phase, status="regular",
                                           age_band="21_to_25", dual_track=True, occurred_at=self._at()))

    def place(self, pid: str, phase: int, outcomes: tuple[tuple[str, str, str], ...] = (
              ("lo-k", "knowledge", "institution"), ("lo-s", "skill", "workplace"),
              ("lo-a", "attitude", "workplace")), signed_by: tuple[str, ...] = ("institution", "workplace")) -> None:
        """A placement of this year and phase; its learning agreement signed by the parties named."""
        start = first_day(self.year)
        agreement = LearningAgreement(outcomes=[LearningOutcome(outcome_id=o, title=o, kind=k, acquired_at=w)
                                                for o, k, w in outcomes])
        self.events.append(PlacementAgreed(
            placement_id=pid, student_id=self.student, mentor_id=MENTOR, start_date=start,
            end_date=start + timedelta(days=200), planned_minutes=60_000, form="dual", continuum=CONTINUUM,
            learning_agreement=agreement, programme_id=self.programme_id, institution_id=INST,
            workplace_id=WORKPLACE, academic_year=self.year, phase=phase, occurred_at=self._at()))
        for party in signed_by:
            self.events.append(LearningAgreementSigned(placement_id=pid, student_id=self.student, party=party,
                                                       signed_by="x", signed_at=self._at()))

    def work(self, pid: str, minutes: int, confirmed: bool = True) -> None:
        """Minutes logged on the placement (entries of at most a day), confirmed by its mentor."""
        day = first_day(self.year)
        while minutes > 0:
            chunk, minutes = min(minutes, 600), minutes - min(minutes, 600)
            entry = TimeEntryLogged(entry_id=uuid.uuid4(), student_id=self.student, placement_id=pid, revision=1,
                                    work_date=day, duration_minutes=chunk, activity="work", occurred_at=self._at())
            self.events.append(entry)
            if confirmed:
                self.events.append(TimeEntryConfirmed(entry_id=entry.entry_id, student_id=self.student,
                                                      placement_id=pid, mentor_id=MENTOR, entry_revision=1,
                                                      occurred_at=self._at()))
            day += timedelta(days=1)

    def assess(self, pid: str, *outcome_ids: str) -> None:
        self.events.append(AssessmentRecorded(
            assessment_id=f"as-{uuid.uuid4().hex[:8]}", student_id=self.student, placement_id=pid, mentor_id=MENTOR,
            moment="mid_term", assessed_on=first_day(self.year) + timedelta(days=60),
            outcomes=[OutcomeAssessment(outcome_id=o, kind="skill", level="developing") for o in outcome_ids]))

    def share(self) -> ShareUpdated:
        """What hour accounting publishes for the events so far."""
        result = account_batch(group_by_student(self.events), new_state, {self.programme_id:
                               programme_from(self.programme)}, first_day(self.year) + timedelta(days=90))
        assert len(result.updates) == 1, result
        return result.updates[0]

    def view(self) -> StudentView:
        """The student as this year's programme report sees them, fed by the events and the share."""
        cohort = Cohort()
        for event in [*self.events, self.share()]:
            cohort.apply(event)
        views = views_for(cohort, ReportKey(INST, self.programme_id, self.year), lambda s: f"t-{s}")
        assert len(views) == 1
        return views[0]
