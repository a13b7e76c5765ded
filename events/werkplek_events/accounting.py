"""Events of hour accounting: a student's real workplace share and risk status."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import Field

from .base import AcademicYear, Event, Id, Minutes, Model
from .vocabulary import ShareStatus

Ratio = Annotated[Decimal, Field(ge=0, decimal_places=4)]  # rounded half-even to 4 places


class PhaseShare(Model):
    phase: Annotated[int, Field(ge=1, le=6)]
    confirmed_minutes: Minutes
    study_load_minutes: Minutes
    share: Ratio


class YearShare(Model):
    """Confirmed minutes of the placements of one academic year ÷ the study load of one year of the
    programme (its study load ÷ its phases)."""

    academic_year: AcademicYear
    confirmed_minutes: Minutes
    study_load_minutes: Minutes
    share: Ratio


class ShareUpdated(Event):
    """Emitted only when a value changed. `version` rises by one per change of the student's state."""

    EVENT_TYPE: ClassVar[str] = "accounting.share.updated"

    student_id: Id
    programme_id: Id
    academic_year: AcademicYear | None = None
    version: Annotated[int, Field(ge=1)]
    as_of: date
    confirmed_minutes: Minutes
    pending_minutes: Minutes
    rejected_minutes: Minutes
    planned_minutes: Minutes
    study_load_minutes: Minutes
    target_to_date_minutes: Minutes
    real_share: Ratio
    projected_share: Ratio
    per_phase: list[PhaseShare] = []
    per_year: list[YearShare] = []  # every academic year with placements, and the current one
    status: ShareStatus
    on_course_for_required_share: bool | None = None  # graduaat: the 1/3 rule
    build_up_ok: bool | None = None  # dual track: share does not fall from phase 1 on
    caused_by: uuid.UUID | None = None  # event id of the input that produced this version


class StudentRiskStatusChanged(Event):
    """The "student at risk" signal: emitted when the status worsens, and when it recovers."""

    EVENT_TYPE: ClassVar[str] = "accounting.student.risk_status_changed"

    student_id: Id
    programme_id: Id
    previous_status: ShareStatus
    status: ShareStatus
    worsened: bool
    real_share: Ratio
    projected_share: Ratio
    version: Annotated[int, Field(ge=1)]
