"""Events of privacy: a data subject's erasure (GDPR art. 17, docs/adr/0072)."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from pydantic import model_validator

from .base import Event, Id

SubjectKind = Literal["student", "mentor"]


class SubjectErased(Event):
    """A coordinator had a student or mentor erased. Placement logging has destroyed the subject's
    data keys (every sealed field of theirs now decodes as erased) and removed its own copies; each
    service that keeps free text or contact data removes its copies when it sees this event
    (idempotently: the event may come twice). The ids stay, as pseudonyms: the hours keep counting,
    unless `remove_from_figures` (a student only, "full removal"): then every aggregate figure leaves
    the student out from now on, recomputed without them, also when rebuilt from the topics.
    A later event for the same erasure may add full removal to an erasure that kept the figures."""

    EVENT_TYPE: ClassVar[str] = "privacy.subject.erased"

    erasure_id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: Id
    institution_id: Id
    remove_from_figures: bool = False  # added in 2026-12: full removal (a student only)

    @model_validator(mode="after")
    def _students_only(self) -> SubjectErased:
        if self.remove_from_figures and self.subject_kind != "student":
            raise ValueError("remove_from_figures is for a student only: a mentor's figures are not theirs")
        return self

    def subject(self) -> str | None:
        return self.subject_id

    def removed_student(self) -> str | None:
        """The student every figure must leave out, when this erasure asked full removal."""
        return self.subject_id if self.subject_kind == "student" and self.remove_from_figures else None
