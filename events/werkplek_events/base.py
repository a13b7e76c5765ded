"""Base of every event: frozen, tolerant on read, identified by `event_id`, typed and versioned.

Events are named in the past tense. `EVENT_TYPE` + `VERSION` identify the contract; the topic registry
(`topics.py`) maps each event class to its topic. Within a version a payload only grows (new optional
fields, checked by `make schemas`) and readers ignore what they do not know; a breaking change is a
new VERSION on a new topic (docs/adr/0006).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PrivateAttr

from .limits import EMAIL_PATTERN, PERSONAL, TEXT_MAX, AcademicYear, Email, Id, Text

MAX_TEXT = TEXT_MAX  # kept for importers; the limits live in `limits.py`
__all__ = ["EMAIL_PATTERN", "MAX_TEXT", "PERSONAL", "AcademicYear", "AwareDatetime", "Email", "Event", "Id", "Minutes",
           "Model", "Text", "new_event_id", "utcnow"]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Minutes = Annotated[int, Field(ge=0, le=10_000_000)]

def utcnow() -> datetime:
    return datetime.now(UTC)


def new_event_id() -> uuid.UUID:
    return uuid.uuid4()


class Model(BaseModel):
    """Value objects inside events: frozen, and unknown fields are ignored (tolerant reader)."""

    model_config = ConfigDict(frozen=True, extra="ignore", use_enum_values=False)


class Event(Model):
    """Every event carries a unique id (also the CloudEvents `ce_id`) and when it happened."""

    EVENT_TYPE: ClassVar[str] = ""
    VERSION: ClassVar[int] = 1

    event_id: uuid.UUID = Field(default_factory=new_event_id)
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    # personal fields whose values the decoder could not give (path -> "erased" / "sealed"); not part
    # of the payload: the codec sets it when it opens a sealed record (personal.py)
    _redacted: dict[str, str] = PrivateAttr(default_factory=dict)

    @property
    def redacted(self) -> dict[str, str]:
        return self._redacted

    @classmethod
    def qualified_type(cls) -> str:
        """The CloudEvents `type`: reverse-DNS prefix, event type and major version."""
        return f"be.werkplek.{cls.EVENT_TYPE}.v{cls.VERSION}"

    def subject(self) -> str | None:
        """The CloudEvents `subject`: the entity the event is about (the student where there is one)."""
        return getattr(self, "student_id", None)
