"""The topic registry: the single source for topic creation, KafkaTopic manifests and AsyncAPI.

One event type per topic, named `<domain>.<entity>.<event>.v<N>`. Everything whose order matters per
student is keyed by `student_id` and shares one partition count, so a faust agent can co-partition them.
Topics keep everything (retention -1), so a rebuild can start from the beginning and a funding report
can be recomputed as it was at any past instant: reference data and latest-state topics too, because
compaction would drop the earlier values such a replay needs (docs/adr/0051). Only the report topic is
compacted (latest version per report; its history is the snapshot topic). Each consumed topic has a
`.dlq` companion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from . import accounting, feedback, placement, privacy, reporting
from .base import Event

STUDENT_PARTITIONS = 8
# A DLQ keeps a failed record (sealed fields stay sealed, docs/adr/0070) this long for repair, then
# Kafka deletes it (docs/privacy.md, "Retention"); `WERKPLEK_DLQ_RETENTION_DAYS` sets it per stack.
DLQ_RETENTION_DAYS = 30


@dataclass(frozen=True)
class TopicSpec:
    event: type[Event]
    key_fields: tuple[str, ...]
    partitions: int = STUDENT_PARTITIONS
    cleanup: Literal["delete", "compact"] = "delete"
    consumed: bool = True
    description: str = ""
    # the producer sends an output it cannot publish (a derived value that breaks a limit) to the DLQ,
    # so one bad key never stops the others: a DLQ even where nobody consumes the topic
    quarantine: bool = False

    @property
    def name(self) -> str:
        return f"{self.event.EVENT_TYPE}.v{self.event.VERSION}"

    @property
    def dlq(self) -> str | None:
        return f"{self.name}.dlq" if self.consumed or self.quarantine else None

    def key_of(self, event: Event) -> str:
        return ":".join(str(getattr(event, f)) for f in self.key_fields)

    def configs(self) -> dict[str, str]:
        """Broker-side topic configs; compacted topics clean aggressively so readers see latest state."""
        if self.cleanup == "compact":
            return {"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1", "segment.ms": "3600000"}
        return {"cleanup.policy": "delete", "retention.ms": "-1"}

    @staticmethod
    def dlq_configs(retention_days: int = DLQ_RETENTION_DAYS) -> dict[str, str]:
        return {"cleanup.policy": "delete", "retention.ms": str(retention_days * 86_400_000)}


STUDENT = ("student_id",)
TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(placement.ProgrammeRegistered, ("programme_id",), 1,
              description="A programme with its study load and required workplace share (latest per programme)."),
    TopicSpec(placement.StudentEnrolled, STUDENT, description="A student's enrolment in a programme, phase and year."),
    TopicSpec(placement.EnrolmentEnded, STUDENT,
              description="An enrolment ended: graduated, dropped out or transferred."),
    TopicSpec(placement.WorkplaceRegistered, ("workplace_id",), 1,
              description="A workplace, its sector and learning environment (latest per workplace)."),
    TopicSpec(placement.MentorRegistered, ("mentor_id",), 1,
              description="A workplace mentor, trained or not, and the webhook source bound to them (latest per id)."),
    TopicSpec(placement.MentorContactChanged, ("mentor_id",), 1, "compact",
              description="A mentor's e-mail address and language (personal data; latest state, erasable)."),
    TopicSpec(placement.InstitutionContactChanged, ("institution_id",), 1, "compact",
              description="The notification address of an institution's coordinators (latest state)."),
    TopicSpec(placement.PlacementAgreed, STUDENT, description="A placement with its continuum and learning agreement."),
    TopicSpec(placement.PlacementAmended, STUDENT, description="New complete terms of a placement."),
    TopicSpec(placement.PlacementEnded, STUDENT, description="A placement ended."),
    TopicSpec(placement.CreditsRecorded, STUDENT,
              description="Credits a student took and earned in an academic year (latest per student and year)."),
    TopicSpec(placement.PilotRegistered, ("pilot_id",), 1,
              description="A pilot (proeftuin): programmes, partners, period and budget (latest per pilot)."),
    TopicSpec(placement.TimeEntryLogged, STUDENT, description="A student logged workplace time."),
    TopicSpec(placement.TimeEntryCorrected, STUDENT, description="A new revision of a time entry."),
    TopicSpec(placement.TimeEntryWithdrawn, STUDENT, description="A time entry was withdrawn by its student."),
    TopicSpec(feedback.TimeEntryConfirmed, STUDENT, description="A mentor confirmed a time entry."),
    TopicSpec(feedback.TimeEntryRejected, STUDENT, description="A mentor rejected a time entry, with a reason."),
    TopicSpec(feedback.TimeEntryDecisionReversed, STUDENT, description="A mentor reversed a decision."),
    TopicSpec(feedback.AssessmentRecorded, STUDENT, description="A mentor assessed learning outcomes."),
    TopicSpec(feedback.LearningAgreementSigned, STUDENT, description="One party signed a learning agreement."),
    TopicSpec(feedback.ConfirmationRequested, ("mentor_id",),
              description="Entries await a mentor's confirmation (link or outbound webhook)."),
    TopicSpec(feedback.OutcomeProgressUpdated, STUDENT,
              description="A student's learning-outcome progress (latest: highest version)."),
    TopicSpec(accounting.ShareUpdated, STUDENT,
              description="A student's real workplace share, per phase and academic year (latest: highest version)."),
    TopicSpec(accounting.StudentRiskStatusChanged, STUDENT,
              description="A student's status worsened (at risk, behind) or recovered."),
    TopicSpec(privacy.SubjectErased, ("subject_id",),
              description="A student or mentor was erased: every service removes its copies of their personal data."),
    TopicSpec(reporting.FundingReportPublished, ("report_id",), 4, "compact", consumed=False, quarantine=True,
              description="The latest funding report per programme and academic year, or per institution."),
    TopicSpec(reporting.FundingReportSnapshotted, ("snapshot_id",), 4, consumed=False,
              description="An immutable 'as of' funding report."),
    TopicSpec(reporting.FundingTrajectoriesPublished, ("report_id",), 4, "compact", consumed=False,
              description="Per-trajectory rows of a programme report, pseudonymous (access-restricted)."),
    TopicSpec(reporting.ReportMemberChanged, ("institution_id",),
              description="Internal to funding reports: a student's report facts, repartitioned from students"
                          " to the institution whose reports they feed (owned through the consumer group)."),
)

BY_NAME: dict[str, TopicSpec] = {t.name: t for t in TOPICS}
BY_EVENT: dict[type[Event], TopicSpec] = {t.event: t for t in TOPICS}
BY_TYPE: dict[str, TopicSpec] = {t.event.qualified_type(): t for t in TOPICS}


def topic_for(event: Event | type[Event]) -> TopicSpec:
    cls = event if isinstance(event, type) else type(event)
    try:
        return BY_EVENT[cls]
    except KeyError:
        raise KeyError(f"{cls.__name__} has no topic in the registry") from None


def all_topic_names() -> list[str]:
    """Every topic the system needs, DLQs included."""
    names = [t.name for t in TOPICS]
    return names + [t.dlq for t in TOPICS if t.dlq]
