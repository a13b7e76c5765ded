"""Events of privacy: a data subject's erasure (GDPR art. 17, docs/adr/0072)."""

from __future__ import annotations

import uuid
from typing import ClassVar, Literal

from .base import Event, Id

SubjectKind = Literal["student", "mentor"]


class SubjectErased(Event):
    """A coordinator had a student or mentor erased. Placement logging has destroyed the subject's
    data keys (every sealed field of theirs now decodes as erased) and removed its own copies; each
    service that keeps free text or contact data removes its copies when it sees this event
    (idempotently: the event may come twice). The ids stay, as pseudonyms: the hours keep counting."""

    EVENT_TYPE: ClassVar[str] = "privacy.subject.erased"

    erasure_id: uuid.UUID
    subject_kind: SubjectKind
    subject_id: Id
    institution_id: Id

    def subject(self) -> str | None:
        return self.subject_id
