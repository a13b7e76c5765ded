"""Base of every event: frozen, tolerant on read, identified by `event_id`, typed and versioned.

Events are named in the past tense. `EVENT_TYPE` + `VERSION` identify the contract; the topic registry
(`topics.py`) maps each event class to its topic. An old payload is upgraded on read by an upcaster
(`upcasting.py`), never rewritten.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_TEXT = 500


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a UTC offset")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
AcademicYear = Annotated[str, Field(pattern=r"^20[0-9]{2}-20[0-9]{2}$", examples=["2026-2027"])]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Minutes = Annotated[int, Field(ge=0, le=10_000_000)]
# Personal data is marked in the schemas (`x-personal-data`), so the fields to protect or erase
# (privacy issue: crypto-shredding) are found from the contract, not from memory.
PERSONAL = "x-personal-data"
EMAIL_PATTERN = (r"^[^@\s<>\"(),;:]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                 r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN,
                             json_schema_extra={PERSONAL: "contact"}, examples=["an.peeters@azgroeninge.be"])]


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

    @classmethod
    def qualified_type(cls) -> str:
        """The CloudEvents `type`: reverse-DNS prefix, event type and major version."""
        return f"be.werkplek.{cls.EVENT_TYPE}.v{cls.VERSION}"

    def subject(self) -> str | None:
        """The CloudEvents `subject`: the entity the event is about (the student where there is one)."""
        return getattr(self, "student_id", None)
