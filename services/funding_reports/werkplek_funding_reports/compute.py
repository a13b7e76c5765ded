"""Use cases on the cohort: compute one publication set (an institution's reports of one academic
year) as the events to publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from werkplek_events import FundingReportPublished, FundingTrajectoriesPublished, ReportSection, Watermark

from .domain.keys import ReportKey, SetKey
from .domain.pseudonym import pseudonym
from .domain.publication import PublicationSet, publication_set
from .domain.state import Cohort

ReportEvent = FundingReportPublished | FundingTrajectoriesPublished


@dataclass
class Mark:
    """The inputs a report reflects: newest event time and next offset per `topic:partition`."""

    last_event_time: datetime | None = None
    offsets: dict[str, int] = field(default_factory=dict)

    def advance(self, event_time: datetime, topic: str, partition: int, offset: int) -> None:
        if self.last_event_time is None or event_time > self.last_event_time:
            self.last_event_time = event_time
        self.offsets[f"{topic}:{partition}"] = offset + 1

    def watermark(self) -> Watermark:
        return Watermark(last_event_time=self.last_event_time, offsets=dict(sorted(self.offsets.items())))


def compute_set(cohort: Cohort, key: SetKey, key_bytes: bytes, min_count: int) -> PublicationSet:
    return publication_set(cohort, key, lambda sid: pseudonym(key_bytes, sid), min_count)


def report_event(key: ReportKey, sections: list[ReportSection], version: int, mark: Mark, now: datetime,
                 kind: type[ReportEvent] = FundingReportPublished) -> ReportEvent:
    return kind(
        report_id=key.report_id, scope=key.scope, institution_id=key.institution_id,
        programme_id=key.programme_id, pilot_id=key.pilot_id, academic_year=key.academic_year, version=version,
        generated_at=now, watermark=mark.watermark(), sections=sections)
