"""Builders of input events for one institution, programme and year (unit and integration tests)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal as D

from werkplek_events import (
    AssessmentRecorded,
    ContinuumPosition,
    EnrolmentEnded,
    Event,
    KindCoverage,
    LearningAgreement,
    LearningAgreementSigned,
    LearningOutcome,
    MentorRegistered,
    OutcomeAssessment,
    OutcomeProgressUpdated,
    PhaseShare,
    PlacementAgreed,
    PlacementEnded,
    ProgrammeRegistered,
    ShareUpdated,
    StudentEnrolled,
    TimeEntryConfirmed,
    WorkplaceRegistered,
)

YEAR = "2026-2027"
LOAD = 120 * 27 * 60
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def short() -> str:
    return uuid.uuid4().hex[:10]


@dataclass
class Story:
    inst: str = field(default_factory=lambda: f"inst-{short()}")
    prog: str = field(default_factory=lambda: f"prog-{short()}")
    year: str = YEAR
    versions: dict[str, int] = field(default_factory=dict)

    def programme(self, dual_min_share: str | None = "0.25") -> ProgrammeRegistered:
        return ProgrammeRegistered(programme_id=self.prog, institution_id=self.inst, name="Graduaat Zorg",
                                   level="graduaat", ects=120, hours_per_ects=27, phases=2,
                                   dual_min_share=D(dual_min_share) if dual_min_share else None)

    def enrol(self, student: str, status: str = "regular", age: str = "21_to_25", dual: bool = False,
              ) -> StudentEnrolled:
        return StudentEnrolled(student_id=student, programme_id=self.prog, institution_id=self.inst,
                               academic_year=self.year, phase=1, status=status, age_band=age, dual_track=dual)

    def ended(self, student: str, reason: str = "dropped_out") -> EnrolmentEnded:
        return EnrolmentEnded(student_id=student, programme_id=self.prog, academic_year=self.year,
                              ended_on=date(2027, 2, 1), reason=reason)

    def workplace(self, wid: str, env: str = "authentic") -> WorkplaceRegistered:
        return WorkplaceRegistered(workplace_id=wid, institution_id=self.inst, name="AZ Sint-Jan", sector="care",
                                   environment=env)

    def mentor(self, mid: str, wid: str, trained: bool = True) -> MentorRegistered:
        return MentorRegistered(mentor_id=mid, workplace_id=wid, institution_id=self.inst, trained=trained)

    def placement(self, student: str, pid: str, mid: str, wid: str, form: str = "dual",
                  kinds: tuple[tuple[str, str], ...] = (("knowledge", "institution"), ("skill", "workplace"),
                                                        ("attitude", "workplace")),
                  signed: bool = False, position: int = 3) -> PlacementAgreed:
        outcomes = [LearningOutcome(outcome_id=f"lo-{i}", title=f"Outcome {i}", kind=k, acquired_at=a)
                    for i, (k, a) in enumerate(kinds)]
        agreement = LearningAgreement(outcomes=outcomes, signed_by_institution_at=NOW if signed else None,
                                      signed_by_workplace_at=NOW if signed else None)
        scale = dict.fromkeys(("learning_environment", "extent", "engagement", "transfer", "integration",
                               "target_group"), position)
        return PlacementAgreed(
            placement_id=pid, student_id=student, mentor_id=mid, start_date=date(2026, 9, 21),
            end_date=date(2027, 6, 30), planned_minutes=40_000, form=form, continuum=ContinuumPosition(**scale),
            learning_agreement=agreement, programme_id=self.prog, institution_id=self.inst, workplace_id=wid,
            academic_year=self.year, phase=1)

    def placement_ended(self, student: str, pid: str, reason: str = "cancelled") -> PlacementEnded:
        return PlacementEnded(placement_id=pid, student_id=student, ended_on=date(2026, 10, 1), reason=reason)

    def signed(self, student: str, pid: str, party: str) -> LearningAgreementSigned:
        return LearningAgreementSigned(placement_id=pid, student_id=student, party=party, signed_by="x-1",
                                       signed_at=NOW)

    def share(self, student: str, confirmed: int, projected: str = "0.4000",
              phases: tuple[tuple[int, str], ...] = ((1, "0.1000"),), status: str = "on_track") -> ShareUpdated:
        version = self.versions[student] = self.versions.get(student, 0) + 1
        real = (D(confirmed) / D(LOAD)).quantize(D("0.0001"))
        return ShareUpdated(
            student_id=student, programme_id=self.prog, academic_year=self.year, version=version,
            as_of=date(2026, 11, 2), confirmed_minutes=confirmed, pending_minutes=0, rejected_minutes=0,
            planned_minutes=40_000, study_load_minutes=LOAD, target_to_date_minutes=10_000, real_share=real,
            projected_share=D(projected), status=status,
            per_phase=[PhaseShare(phase=p, confirmed_minutes=0, study_load_minutes=LOAD // 2, share=D(s))
                       for p, s in phases])

    def progress(self, student: str, version: int = 1, achieved: int = 1) -> OutcomeProgressUpdated:
        cov = {k: KindCoverage(agreed=1, assessed=1, achieved=achieved) for k in ("knowledge", "skill", "attitude")}
        return OutcomeProgressUpdated(student_id=student, version=version, outcomes=[], coverage=cov,
                                      achieved_share=D(achieved), never_assessed=[])

    def assessed(self, student: str, pid: str, aid: str) -> AssessmentRecorded:
        return AssessmentRecorded(assessment_id=aid, student_id=student, placement_id=pid, mentor_id="m",
                                  moment="mid_term", assessed_on=date(2026, 12, 1),
                                  outcomes=[OutcomeAssessment(outcome_id="lo-1", kind="skill", level="achieved")])

    def confirmed(self, student: str, pid: str, entry: uuid.UUID) -> TimeEntryConfirmed:
        return TimeEntryConfirmed(entry_id=entry, student_id=student, placement_id=pid, mentor_id="m",
                                  entry_revision=1)

    def dual_trajectory(self, student: str, confirmed: int = 50_000) -> list[Event]:
        """A dual student meeting all six criteria."""
        pid, mid, wid = f"pl-{student}", f"m-{student}", f"w-{student}"
        return [self.enrol(student, dual=True), self.workplace(wid), self.mentor(mid, wid),
                self.placement(student, pid, mid, wid, signed=True), self.progress(student),
                self.share(student, confirmed, phases=((1, "0.1000"), (2, "0.1500")))]
