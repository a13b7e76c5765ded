"""Events of funding reports. Reports carry no personal data: counts (suppressed below the
threshold), ratios and pseudonymous trajectory ids only. A report is a list of sections of rows,
so an export renders any section (one sheet each) without knowing its meaning."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import Field

from .base import AcademicYear, AwareDatetime, Event, Id, Model
from .vocabulary import ReportScope


class ReportCell(Model):
    """One figure. `suppressed` cells have no value: a count below the threshold, or derivable from one."""

    value: Decimal | None = None
    suppressed: bool = False
    # A code from a closed vocabulary (e.g. why a dual-learning criterion fails), never free text.
    reason: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9_]+$")] | None = None


class ReportRow(Model):
    label: Annotated[str, Field(max_length=200)]
    cells: dict[str, ReportCell]


class ReportSection(Model):
    name: Annotated[str, Field(max_length=100)]
    columns: list[str]
    rows: list[ReportRow]


class Watermark(Model):
    """The inputs a report reflects: the newest input event time, and the next offset per partition."""

    last_event_time: AwareDatetime | None = None
    offsets: dict[str, int] = {}


class _Report(Event):
    report_id: Id
    scope: ReportScope
    institution_id: Id
    programme_id: Id | None = None  # None for an institution roll-up and a pilot
    pilot_id: Id | None = None  # set for a pilot's report only
    academic_year: AcademicYear
    version: Annotated[int, Field(ge=1)]
    generated_at: AwareDatetime
    watermark: Watermark
    sections: list[ReportSection]

    def subject(self) -> str | None:
        return self.report_id


class FundingReportPublished(_Report):
    EVENT_TYPE: ClassVar[str] = "reporting.funding_report.published"


class FundingReportSnapshotted(_Report):
    """An "as of" report: published once on the snapshot topic and never changed afterwards."""

    EVENT_TYPE: ClassVar[str] = "reporting.funding_report.snapshotted"

    snapshot_id: Id
    as_of: date


class FundingTrajectoriesPublished(_Report):
    """The per-trajectory rows of a programme report (dual criteria with reason codes, the year's share
    of every student), under pseudonyms. Individual-level data: published on its own access-restricted
    topic, never on the report topic."""

    EVENT_TYPE: ClassVar[str] = "reporting.funding_trajectories.published"


class ReportMemberChanged(Event):
    """Internal to funding reports (its repartition topic, keyed by institution): one student's facts
    as the reports of that institution need them (all its academic years: a cohort's success is
    reported in the year it closes, and its reports of a year are suppressed together), gathered from
    the student-keyed topics by the student's owner and sent to the owner of the institution's reports.
    `facts` is funding reports' own encoding of the student's part of its cohort (None: the student
    left this institution); the highest `version` per student wins. `offsets` are the next
    offsets of the student's input records reflected (`<topic>:<partition>`), for the watermarks."""

    EVENT_TYPE: ClassVar[str] = "reporting.report_member.changed"

    institution_id: Id
    student_id: Id
    version: Annotated[int, Field(ge=1)]
    facts: dict[str, Any] | None
    last_event_time: AwareDatetime | None = None
    offsets: dict[str, int] = {}

    def subject(self) -> str | None:
        return self.student_id
