"""werkplek's event contract: models, CloudEvents codec and topic registry. Import from here."""

from .accounting import PhaseShare, ShareUpdated, StudentRiskStatusChanged
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
    ContinuumPosition,
    EnrolmentEnded,
    InstitutionContactChanged,
    LearningAgreement,
    LearningOutcome,
    MentorContactChanged,
    MentorRegistered,
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
    ReportCell,
    ReportMemberChanged,
    ReportRow,
    ReportSection,
    Watermark,
)
from .topics import BY_NAME, TOPICS, TopicSpec, all_topic_names, topic_for

__all__ = [
    "BY_NAME", "TOPICS", "AssessmentRecorded", "ConfirmationRequested", "ContinuumPosition", "DecodeError",
    "EnrolmentEnded", "Event", "FundingReportPublished", "FundingReportSnapshotted", "InstitutionContactChanged",
    "KafkaRecord",
    "KindCoverage", "LearningAgreement", "LearningAgreementSigned", "LearningOutcome", "MentorContactChanged",
    "MentorRegistered",
    "Model", "OutcomeAssessment", "OutcomeProgressUpdated", "OutcomeStatus", "PhaseShare", "PlacementAgreed",
    "PlacementAmended", "PlacementEnded", "ProgrammeRegistered", "ReportCell", "ReportMemberChanged", "ReportRow",
    "ReportSection",
    "ShareUpdated", "StatusThresholds", "StudentEnrolled", "StudentRiskStatusChanged", "TimeEntryConfirmed",
    "TimeEntryCorrected", "TimeEntryDecisionReversed", "TimeEntryLogged", "TimeEntryRejected",
    "TimeEntryWithdrawn", "TopicSpec", "Watermark", "WorkplaceRegistered", "all_topic_names", "decode",
    "encode", "new_event_id", "topic_for", "utcnow",
]
