"""One realistic instance of every event in the topic registry, for contract and broker round-trip tests.

One story: a graduaat student in Ghent, her placement at a hospital, a week of logged time, the mentor's
feedback, the accounting that follows and the programme's funding report. Every optional field that
has a value in practice is filled, so a schema check exercises the non-null branches too. Each call
returns new `event_id`s (a broker test can run twice against the same topics); all else is fixed.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from werkplek_events import (
    AssessmentRecorded,
    BudgetLine,
    ConfirmationRequested,
    ContinuumPosition,
    CreditsRecorded,
    EnrolmentEnded,
    Event,
    FundingReportPublished,
    FundingReportSnapshotted,
    FundingTrajectoriesPublished,
    InstitutionContactChanged,
    KindCoverage,
    LearningAgreement,
    LearningAgreementSigned,
    LearningOutcome,
    MentorContactChanged,
    MentorRegistered,
    OutcomeAssessment,
    OutcomeProgressUpdated,
    OutcomeStatus,
    PhaseShare,
    PilotPartner,
    PilotRegistered,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    ReportCell,
    ReportMemberChanged,
    ReportRow,
    ReportSection,
    ShareUpdated,
    StatusThresholds,
    StudentEnrolled,
    StudentRiskStatusChanged,
    SubjectErased,
    TimeEntryConfirmed,
    TimeEntryCorrected,
    TimeEntryDecisionReversed,
    TimeEntryLogged,
    TimeEntryRejected,
    TimeEntryWithdrawn,
    Watermark,
    WorkplaceRegistered,
    YearShare,
)
from werkplek_events.vocabulary import (
    AcquiredAt,
    ActivityKind,
    AgeBand,
    AssessmentLevel,
    AssessmentMoment,
    ConfirmationChannel,
    Decision,
    EnrolmentEndReason,
    EnrolmentStatus,
    Language,
    LearningEnvironment,
    Level,
    NaceSection,
    OutcomeKind,
    PartnerKind,
    PlacementEndReason,
    PlacementForm,
    RejectionReason,
    ReportScope,
    RequestPurpose,
    ShareStatus,
    SigningParty,
)

INSTITUTION = "hogent"
PROGRAMME = "grad-verpleegkunde"
STUDENT = "stu-20260117"
WORKPLACE = "wp-az-sint-lucas"
MENTOR = "mentor-an-de-smet"
PLACEMENT = "plc-2026-0042"
YEAR = "2026-2027"
PILOT = "proeftuin-duaal-zorg"
ENTRY = uuid.UUID("01936f2a-7c1e-7d3a-9b2e-4f6a8c0d1e2f")  # client-generated UUIDv7
OTHER_ENTRY = uuid.UUID("01936f2b-0a44-7f10-8c3d-5e7b9d1f2a30")


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _agreement() -> LearningAgreement:
    outcomes = [
        LearningOutcome(outcome_id="lo-zorgplan", title="Stelt een zorgplan op", kind=OutcomeKind.SKILL,
                        acquired_at=AcquiredAt.WORKPLACE),
        LearningOutcome(outcome_id="lo-hygiene", title="Kent de hygiënerichtlijnen",
                        kind=OutcomeKind.KNOWLEDGE, acquired_at=AcquiredAt.INSTITUTION),
        LearningOutcome(outcome_id="lo-houding", title="Communiceert respectvol met patiënten",
                        kind=OutcomeKind.ATTITUDE, acquired_at=AcquiredAt.WORKPLACE),
    ]
    return LearningAgreement(outcomes=outcomes, signed_by_institution_at=_at(2, 9),
                             signed_by_workplace_at=_at(3, 14, 30))


def _terms() -> dict[str, Any]:
    """The placement terms shared by the agreement and its amendment."""
    continuum = ContinuumPosition(learning_environment=5, extent=4, engagement=3, transfer=4, integration=4,
                                  target_group=3)
    return {"placement_id": PLACEMENT, "student_id": STUDENT, "mentor_id": MENTOR,
            "start_date": date(2026, 11, 2), "end_date": date(2027, 1, 29), "planned_minutes": 24_000,
            "form": PlacementForm.INTERNSHIP, "continuum": continuum, "learning_agreement": _agreement()}


def _registry() -> list[Event]:
    thresholds = StatusThresholds(at_risk_below=Decimal("0.9"), behind_below=Decimal("0.7"))
    return [
        ProgrammeRegistered(occurred_at=_at(1, 8), programme_id=PROGRAMME, institution_id=INSTITUTION,
                            name="Graduaat Verpleegkunde", level=Level.GRADUAAT, ects=120, hours_per_ects=27,
                            phases=2, required_share=Decimal("0.333333"), dual_min_share=Decimal("0.5"),
                            thresholds=thresholds),
        StudentEnrolled(occurred_at=_at(1, 9), student_id=STUDENT, programme_id=PROGRAMME,
                        institution_id=INSTITUTION, academic_year=YEAR, phase=1,
                        status=EnrolmentStatus.WORKING_STUDENT, age_band=AgeBand.OVER_25, dual_track=True,
                        entry_year=YEAR, pilot_id=PILOT),
        EnrolmentEnded(occurred_at=_at(30, 16), student_id=STUDENT, programme_id=PROGRAMME,
                       academic_year=YEAR, ended_on=date(2026, 11, 30),
                       reason=EnrolmentEndReason.TRANSFERRED),
        WorkplaceRegistered(occurred_at=_at(1, 10), workplace_id=WORKPLACE, institution_id=INSTITUTION,
                            name="AZ Sint-Lucas Gent", sector="gezondheidszorg",
                            environment=LearningEnvironment.AUTHENTIC, sector_code=NaceSection.Q),
        MentorRegistered(occurred_at=_at(1, 11), mentor_id=MENTOR, workplace_id=WORKPLACE,
                         institution_id=INSTITUTION, trained=True, webhook_source="nexuzhealth"),
        MentorContactChanged(occurred_at=_at(1, 12), mentor_id=MENTOR, institution_id=INSTITUTION,
                             email="an.peeters@azgroeninge.be", language=Language.NL),
        InstitutionContactChanged(occurred_at=_at(1, 8), institution_id=INSTITUTION,
                                  email="stagebureau@hogent.be", language=Language.EN),
    ]


def _placement() -> list[Event]:
    return [
        PlacementAgreed(occurred_at=_at(2, 9), programme_id=PROGRAMME, institution_id=INSTITUTION,
                        workplace_id=WORKPLACE, academic_year=YEAR, phase=1, **_terms()),
        PlacementAmended(occurred_at=_at(16, 13), reason="Extra nachtdiensten op vraag van de afdeling.",
                         **_terms()),
        PlacementEnded(occurred_at=_at(29, 17), placement_id=PLACEMENT, student_id=STUDENT,
                       ended_on=date(2026, 11, 29), reason=PlacementEndReason.TERMINATED_EARLY),
    ]


def _funding_inputs() -> list[Event]:
    partners = [PilotPartner(name="AZ Sint-Lucas Gent", kind=PartnerKind.WORKPLACE, workplace_id=WORKPLACE),
                PilotPartner(name="Zorgnet-Icuro", kind=PartnerKind.SECTOR_ORGANISATION)]
    return [
        CreditsRecorded(occurred_at=_at(30, 17), student_id=STUDENT, programme_id=PROGRAMME,
                        institution_id=INSTITUTION, academic_year=YEAR, credits_taken=30, credits_earned=24),
        PilotRegistered(occurred_at=_at(1, 7), pilot_id=PILOT, institution_id=INSTITUTION,
                        name="Proeftuin duaal verpleegkunde", programme_ids=[PROGRAMME], partners=partners,
                        start_date=date(2026, 9, 1), end_date=date(2028, 8, 31),
                        budget=[BudgetLine(academic_year=YEAR, amount_eur=Decimal("120000.00")),
                                BudgetLine(academic_year="2027-2028", amount_eur=Decimal("95000.00"))]),
    ]


def _time_entries() -> list[Event]:
    facts: dict[str, Any] = {"entry_id": ENTRY, "student_id": STUDENT, "placement_id": PLACEMENT,
                             "work_date": date(2026, 11, 17), "activity": ActivityKind.WORK,
                             "outcome_ids": ["lo-zorgplan", "lo-houding"], "start_time": time(7, 0)}
    return [
        TimeEntryLogged(occurred_at=_at(17, 16, 5), revision=1, end_time=time(15, 30), duration_minutes=480,
                        description="Ochtenddienst op de afdeling geriatrie.", **facts),
        TimeEntryCorrected(occurred_at=_at(18, 8, 12), revision=2, end_time=time(15, 0), duration_minutes=450,
                           description="Pauze vergeten af te trekken.", **facts),
        TimeEntryWithdrawn(occurred_at=_at(18, 8, 40), entry_id=OTHER_ENTRY, student_id=STUDENT,
                           placement_id=PLACEMENT, revision=1, reason="Dubbel ingegeven."),
    ]


def _decisions() -> list[Event]:
    decision: dict[str, Any] = {"entry_id": ENTRY, "student_id": STUDENT, "placement_id": PLACEMENT,
                                "mentor_id": MENTOR, "entry_revision": 2}
    return [
        TimeEntryConfirmed(occurred_at=_at(19, 10), channel=ConfirmationChannel.WEBHOOK, **decision),
        TimeEntryRejected(occurred_at=_at(19, 10, 30), channel=ConfirmationChannel.LINK,
                          reason=RejectionReason.WRONG_HOURS, comment="Dienst eindigde om 14u.", **decision),
        TimeEntryDecisionReversed(occurred_at=_at(19, 11), entry_id=ENTRY, student_id=STUDENT,
                                  placement_id=PLACEMENT, mentor_id=MENTOR, reversed=Decision.REJECTED,
                                  comment="Toch correct, excuses."),
    ]


def _assessment() -> AssessmentRecorded:
    outcomes = [
        OutcomeAssessment(outcome_id="lo-zorgplan", kind=OutcomeKind.SKILL, level=AssessmentLevel.ACHIEVED,
                          comment="Zelfstandig en volledig."),
        OutcomeAssessment(outcome_id="lo-houding", kind=OutcomeKind.ATTITUDE,
                          level=AssessmentLevel.DEVELOPING),
    ]
    return AssessmentRecorded(occurred_at=_at(20, 15), assessment_id="as-2026-0042-mid", student_id=STUDENT,
                              placement_id=PLACEMENT, mentor_id=MENTOR, moment=AssessmentMoment.MID_TERM,
                              assessed_on=date(2026, 11, 20), outcomes=outcomes)


def _progress() -> OutcomeProgressUpdated:
    mid_term: dict[str, Any] = {"latest_moment": AssessmentMoment.MID_TERM, "assessed_on": date(2026, 11, 20)}
    outcomes = [
        OutcomeStatus(outcome_id="lo-zorgplan", kind=OutcomeKind.SKILL, latest_level=AssessmentLevel.ACHIEVED,
                      **mid_term),
        OutcomeStatus(outcome_id="lo-houding", kind=OutcomeKind.ATTITUDE,
                      latest_level=AssessmentLevel.DEVELOPING, **mid_term),
        OutcomeStatus(outcome_id="lo-hygiene", kind=OutcomeKind.KNOWLEDGE),
    ]
    coverage = {
        OutcomeKind.SKILL: KindCoverage(agreed=1, assessed=1, achieved=1),
        OutcomeKind.ATTITUDE: KindCoverage(agreed=1, assessed=1, achieved=0),
        OutcomeKind.KNOWLEDGE: KindCoverage(agreed=1, assessed=0, achieved=0),
    }
    return OutcomeProgressUpdated(occurred_at=_at(20, 15, 1), student_id=STUDENT, version=3,
                                  outcomes=outcomes, coverage=coverage, achieved_share=Decimal("0.3333"),
                                  never_assessed=["lo-hygiene"])


def _feedback() -> list[Event]:
    return [
        _assessment(),
        LearningAgreementSigned(occurred_at=_at(3, 14, 30), placement_id=PLACEMENT, student_id=STUDENT,
                                party=SigningParty.WORKPLACE, signed_by=MENTOR, signed_at=_at(3, 14, 30)),
        ConfirmationRequested(occurred_at=_at(18, 18), request_id="req-7f3a91", mentor_id=MENTOR,
                              entry_ids=[ENTRY, OTHER_ENTRY], pending_minutes=930,
                              channel=ConfirmationChannel.LINK,
                              link_url="https://werkplek.hogent.be/bevestig/eyJhbGciOiJFZERTQSJ9.c2lnbmVk",
                              expires_at=_at(25, 18), purpose=RequestPurpose.REMINDER),
        _progress(),
    ]


def _accounting() -> list[Event]:
    # 5 400 of 97 200 study-load minutes confirmed; 6 480 were due by now (83 %: at risk below 90 %)
    shares: dict[str, Any] = {"real_share": Decimal("0.0556"), "projected_share": Decimal("0.2469")}
    phase_1 = PhaseShare(phase=1, confirmed_minutes=5_400, study_load_minutes=48_600, share=Decimal("0.1111"))
    return [
        ShareUpdated(occurred_at=_at(19, 10), student_id=STUDENT, programme_id=PROGRAMME, academic_year=YEAR,
                     version=7, as_of=date(2026, 11, 19), confirmed_minutes=5_400, pending_minutes=930,
                     rejected_minutes=0, planned_minutes=24_000, study_load_minutes=97_200,
                     target_to_date_minutes=6_480, per_phase=[phase_1], status=ShareStatus.AT_RISK,
                     per_year=[YearShare(academic_year=YEAR, confirmed_minutes=5_400, study_load_minutes=48_600,
                                         share=Decimal("0.1111"))],
                     on_course_for_required_share=False, build_up_ok=True,
                     caused_by=uuid.UUID("6f1c2d3e-4b5a-4c6d-8e7f-90a1b2c3d4e5"), **shares),
        StudentRiskStatusChanged(occurred_at=_at(19, 10), student_id=STUDENT, programme_id=PROGRAMME,
                                 previous_status=ShareStatus.ON_TRACK, status=ShareStatus.AT_RISK,
                                 worsened=True, version=7, **shares),
    ]


def _report_fields() -> dict[str, Any]:
    rows = [
        ReportRow(label="Fase 1", cells={"studenten": ReportCell(value=Decimal("42")),
                                         "gemiddeld_aandeel": ReportCell(value=Decimal("0.3512"))}),
        ReportRow(label="Fase 2", cells={"studenten": ReportCell(suppressed=True),
                                         "gemiddeld_aandeel": ReportCell(suppressed=True)}),
    ]
    section = ReportSection(name="werkplekaandeel", columns=["studenten", "gemiddeld_aandeel"], rows=rows)
    watermark = Watermark(last_event_time=_at(30, 23, 59), offsets={"0": 1_204, "1": 987, "2": 1_131})
    return {"occurred_at": _at(30, 23, 59), "report_id": f"fr-{PROGRAMME}-{YEAR}", "version": 12,
            "scope": ReportScope.PROGRAMME, "institution_id": INSTITUTION, "programme_id": PROGRAMME,
            "academic_year": YEAR, "generated_at": _at(30, 23, 59), "watermark": watermark,
            "sections": [section]}


def _reports() -> list[Event]:
    facts = {"$dict": [["assessments", {"$dict": []}]]}  # funding reports' own encoding (abridged)
    return [
        FundingReportPublished(**_report_fields()),
        FundingReportSnapshotted(snapshot_id="snap-2026-11-30", as_of=date(2026, 11, 30), **_report_fields()),
        FundingTrajectoriesPublished(**_report_fields()),
        ReportMemberChanged(occurred_at=_at(30, 23, 58), institution_id=INSTITUTION,
                            student_id=STUDENT, version=3, facts=facts,
                            last_event_time=_at(30, 23, 50), offsets={"placement.student.enrolled.v1:3": 17}),
    ]


def _privacy() -> list[Event]:
    return [SubjectErased(occurred_at=_at(28, 9), erasure_id=uuid.UUID("0a8f6c2e-51d4-4f0b-9e7a-3c2d1b0a9f8e"),
                          subject_kind="student", subject_id=STUDENT, institution_id=INSTITUTION)]


def sample_events() -> list[Event]:
    """One valid instance of every event class in `werkplek_events.topics.TOPICS`, in registry order."""
    return [*_registry(), *_placement(), *_funding_inputs(), *_time_entries(), *_decisions(), *_feedback(),
            *_accounting(), *_privacy(), *_reports()]
