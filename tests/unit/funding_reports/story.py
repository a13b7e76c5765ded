"""Builders of input events for one institution, programme and year (unit and integration tests)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

from werkplek_events import (
    AssessmentRecorded,
    BudgetLine,
    ContinuumPosition,
    CreditsRecorded,
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
    PilotPartner,
    PilotRegistered,
    PlacementAgreed,
    PlacementEnded,
    ProgrammeRegistered,
    ReportSection,
    ShareUpdated,
    StudentEnrolled,
    TimeEntryConfirmed,
    TimeEntryCorrected,
    TimeEntryLogged,
    WorkplaceRegistered,
    YearShare,
)
from werkplek_funding_reports.compute import compute_set
from werkplek_funding_reports.config import DEV_KEY
from werkplek_funding_reports.domain.state import Cohort

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
              pilot: str | None = None, year: str | None = None, entry_year: str | None = None,
              at: datetime | None = None) -> StudentEnrolled:
        return StudentEnrolled(student_id=student, programme_id=self.prog, institution_id=self.inst,
                               academic_year=year or self.year, phase=1, status=status, age_band=age,
                               dual_track=dual, pilot_id=pilot, entry_year=entry_year, occurred_at=at or NOW)

    def credits(self, student: str, taken: int = 60, earned: int = 45, at: datetime | None = None) -> CreditsRecorded:
        return CreditsRecorded(student_id=student, programme_id=self.prog, institution_id=self.inst,
                               academic_year=self.year, credits_taken=taken, credits_earned=earned,
                               occurred_at=at or NOW)

    def pilot(self, pid: str, budget: str = "90000.00", programmes: tuple[str, ...] = ()) -> PilotRegistered:
        return PilotRegistered(pilot_id=pid, institution_id=self.inst, name="Proeftuin duaal zorg",
                               programme_ids=list(programmes or (self.prog,)),
                               partners=[PilotPartner(name="AZ Sint-Jan", kind="workplace", workplace_id="w-1"),
                                         PilotPartner(name="Zorgnet", kind="sector_organisation")],
                               start_date=date(2026, 9, 1), end_date=date(2027, 8, 31),
                               budget=[BudgetLine(academic_year=self.year, amount_eur=D(budget))])

    def ended(self, student: str, reason: str = "dropped_out") -> EnrolmentEnded:
        return EnrolmentEnded(student_id=student, programme_id=self.prog, academic_year=self.year,
                              ended_on=date(2027, 2, 1), reason=reason)

    def workplace(self, wid: str, env: str = "authentic", code: str | None = "Q") -> WorkplaceRegistered:
        return WorkplaceRegistered(workplace_id=wid, institution_id=self.inst, name="AZ Sint-Jan", sector="care",
                                   environment=env, sector_code=code)

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

    def share(self, student: str, confirmed: int, projected: str = "0.4000", status: str = "on_track",
              phases: tuple[int, ...] = (1,)) -> ShareUpdated:
        """A share in the shape hour accounting publishes (all minutes this year, in the phases named)."""
        version = self.versions[student] = self.versions.get(student, 0) + 1
        real = (D(confirmed) / D(LOAD)).quantize(D("0.0001"))
        per = confirmed // len(phases)
        return ShareUpdated(
            student_id=student, programme_id=self.prog, academic_year=self.year, version=version,
            as_of=date(2026, 11, 2), confirmed_minutes=confirmed, pending_minutes=0, rejected_minutes=0,
            planned_minutes=40_000, study_load_minutes=LOAD, target_to_date_minutes=10_000, real_share=real,
            projected_share=D(projected), status=status,
            per_phase=[PhaseShare(phase=p, confirmed_minutes=per if p in phases else 0, study_load_minutes=LOAD // 2,
                                  share=(D(per if p in phases else 0) / D(LOAD // 2)).quantize(D("0.0001")))
                       for p in (1, 2)],
            per_year=[YearShare(academic_year=self.year, confirmed_minutes=confirmed, study_load_minutes=LOAD // 2,
                                share=(D(confirmed) / D(LOAD // 2)).quantize(D("0.0001")))])

    def progress(self, student: str, version: int = 1, achieved: int = 1) -> OutcomeProgressUpdated:
        cov = {k: KindCoverage(agreed=1, assessed=1, achieved=achieved) for k in ("knowledge", "skill", "attitude")}
        return OutcomeProgressUpdated(student_id=student, version=version, outcomes=[], coverage=cov,
                                      achieved_share=D(achieved), never_assessed=[])

    def assessed(self, student: str, pid: str, aid: str, *outcomes: str) -> AssessmentRecorded:
        return AssessmentRecorded(assessment_id=aid, student_id=student, placement_id=pid, mentor_id="m",
                                  moment="mid_term", assessed_on=date(2026, 12, 1),
                                  outcomes=[OutcomeAssessment(outcome_id=o, kind="skill", level="achieved")
                                            for o in outcomes or ("lo-1",)])

    def logged(self, student: str, pid: str, entry: uuid.UUID,
               revision: int = 1) -> TimeEntryLogged | TimeEntryCorrected:
        """A time entry of the day before the story's instant (never today: it could end in the future)."""
        kind = TimeEntryLogged if revision == 1 else TimeEntryCorrected
        return kind(entry_id=entry, student_id=student, placement_id=pid, revision=revision,
                    work_date=(NOW - timedelta(days=1)).date(), duration_minutes=480, activity="work")

    def confirmed(self, student: str, pid: str, entry: uuid.UUID, revision: int = 1) -> TimeEntryConfirmed:
        return TimeEntryConfirmed(entry_id=entry, student_id=student, placement_id=pid, mentor_id="m",
                                  entry_revision=revision)

    def worked(self, student: str, pid: str, entry: uuid.UUID) -> list[Event]:
        """An entry logged and confirmed by its mentor."""
        return [self.logged(student, pid, entry), self.confirmed(student, pid, entry)]

    def dual_trajectory(self, student: str, confirmed: int = 50_000, pilot: str | None = None) -> list[Event]:
        """A dual student meeting all six criteria (its workplace outcomes lo-1 and lo-2 assessed)."""
        pid, mid, wid = f"pl-{student}", f"m-{student}", f"w-{student}"
        entry = uuid.uuid4()
        return [self.enrol(student, dual=True, pilot=pilot), self.workplace(wid), self.mentor(mid, wid),
                self.placement(student, pid, mid, wid, signed=True), self.progress(student),
                self.logged(student, pid, entry),
                TimeEntryConfirmed(entry_id=entry, student_id=student, placement_id=pid, mentor_id=mid,
                                   entry_revision=1),
                self.assessed(student, pid, f"as-{student}", "lo-1", "lo-2"), self.share(student, confirmed)]


def expected_reports(events: Sequence[Event]) -> dict[str, list[ReportSection]]:
    """What the report rules compute from all the events folded at once (the domain's own fold): every
    publication set of the cohort, by report id."""
    whole = Cohort()
    for e in events:
        whole.apply(e)
    out: dict[str, list[ReportSection]] = {}
    for set_key in sorted({k.set_key for k in whole.report_keys()}):
        computed = compute_set(whole, set_key, DEV_KEY.encode(), 5)
        out.update({k.report_id: sections for k, sections in computed.reports.items()})
    return out
