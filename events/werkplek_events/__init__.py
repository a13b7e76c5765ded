"""werkplek's event contract: models, CloudEvents codec and topic registry. Import from here."""

from .accounting import PhaseShare, ShareUpdated, StudentRiskStatusChanged, YearShare
from .base import Event, Model, new_event_id, utcnow
from .codec import DecodeError, KafkaRecord, decode, encode
from .feedback import (
    AssessmentRecorded,
    ConfirmationRequested,
    KindCoverage,
    LearningAgreementSigned,
    OutcomeAssessment,
    OutcomeProgressUpdated,
    OutcomeStatus,
    TimeEntryConfirmed,
    TimeEntryDecisionReversed,
    TimeEntryRejected,
)
from .placement import (
    BudgetLine,
    ContinuumPosition,
    CreditsRecorded,
    EnrolmentEnded,
    LearningAgreement,
    LearningOutcome,
    MentorRegistered,
    PilotPartner,
    PilotRegistered,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    StatusThresholds,
    StudentEnrolled,
    TimeEntryCorrected,
    TimeEntryLogged,
    TimeEntryWithdrawn,
    WorkplaceRegistered,
)
from .reporting import (
    FundingReportPublished,
    FundingReportSnapshotted,
    FundingTrajectoriesPublished,
    ReportCell,
    ReportRow,
    ReportSection,
    Watermark,
)
from .topics import BY_NAME, TOPICS, TopicSpec, all_topic_names, topic_for

__all__ = [
    "BY_NAME", "TOPICS", "AssessmentRecorded", "BudgetLine", "ConfirmationRequested", "ContinuumPosition",
    "CreditsRecorded", "DecodeError", "EnrolmentEnded", "Event", "FundingReportPublished",
    "FundingReportSnapshotted", "FundingTrajectoriesPublished", "KafkaRecord", "KindCoverage", "LearningAgreement",
    "LearningAgreementSigned", "LearningOutcome", "MentorRegistered", "Model", "OutcomeAssessment",
    "OutcomeProgressUpdated", "OutcomeStatus", "PhaseShare", "PilotPartner", "PilotRegistered", "PlacementAgreed",
    "PlacementAmended", "PlacementEnded", "ProgrammeRegistered", "ReportCell", "ReportRow", "ReportSection",
    "ShareUpdated", "StatusThresholds", "StudentEnrolled", "StudentRiskStatusChanged", "TimeEntryConfirmed",
    "TimeEntryCorrected", "TimeEntryDecisionReversed", "TimeEntryLogged", "TimeEntryRejected", "TimeEntryWithdrawn",
    "TopicSpec", "Watermark", "WorkplaceRegistered", "YearShare", "all_topic_names", "decode", "encode",
    "new_event_id", "topic_for", "utcnow",
]
