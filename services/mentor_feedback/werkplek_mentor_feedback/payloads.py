"""The webhook payloads mentors' tools send, following the Standard Webhooks envelope
`{"type": ..., "timestamp": ..., "data": {...}}`. Strict: unknown fields are refused, so a typo in a
field name is reported instead of silently ignored. Ids and texts take the contract's limits
(`werkplek_events.limits`): a comment is normalised (NFC) and refused where it could not be stored."""

from __future__ import annotations

import uuid
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from werkplek_events.base import AwareDatetime
from werkplek_events.limits import Comment, Id, Text
from werkplek_events.vocabulary import ActivityKind, AssessmentLevel, AssessmentMoment, OutcomeKind, RejectionReason


class Kind(StrEnum):
    HOURS_CONFIRMED = "hours.confirmed"
    HOURS_REJECTED = "hours.rejected"
    HOURS_DECISION_REVERSED = "hours.decision_reversed"
    ASSESSMENT_RECORDED = "assessment.recorded"
    AGREEMENT_SIGNED = "learning_agreement.signed"


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EntryRef(Strict):
    entry_id: uuid.UUID
    revision: Annotated[int, Field(ge=1)] | None = None  # the revision the mentor saw; current if omitted


class RejectedEntry(EntryRef):
    reason: RejectionReason
    comment: Comment  # a rejection always explains itself


class ReversedEntry(Strict):
    entry_id: uuid.UUID
    comment: Text = ""


Entries = Annotated[list[EntryRef], Field(min_length=1, max_length=500)]


class HoursConfirmed(Strict):
    mentor_id: Id
    entries: Entries

    @model_validator(mode="after")
    def _distinct(self) -> HoursConfirmed:
        _require_distinct([e.entry_id for e in self.entries])
        return self


class HoursRejected(Strict):
    mentor_id: Id
    entries: Annotated[list[RejectedEntry], Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _distinct(self) -> HoursRejected:
        _require_distinct([e.entry_id for e in self.entries])
        return self


class HoursDecisionReversed(Strict):
    mentor_id: Id
    entries: Annotated[list[ReversedEntry], Field(min_length=1, max_length=500)]


class AssessedOutcome(Strict):
    outcome_id: Id
    kind: OutcomeKind
    level: AssessmentLevel
    comment: Text = ""


class AssessmentPayload(Strict):
    mentor_id: Id
    assessment_id: Id
    placement_id: Id
    moment: AssessmentMoment
    assessed_on: date
    outcomes: Annotated[list[AssessedOutcome], Field(min_length=1, max_length=200)]


class AgreementSigned(Strict):
    mentor_id: Id
    placement_id: Id
    signed_at: AwareDatetime


def _require_distinct(ids: list[uuid.UUID]) -> None:
    if len(set(ids)) != len(ids):
        raise ValueError("an entry may appear only once per message")


Payload = HoursConfirmed | HoursRejected | HoursDecisionReversed | AssessmentPayload | AgreementSigned
MODELS: dict[Kind, type[Strict]] = {
    Kind.HOURS_CONFIRMED: HoursConfirmed, Kind.HOURS_REJECTED: HoursRejected,
    Kind.HOURS_DECISION_REVERSED: HoursDecisionReversed, Kind.ASSESSMENT_RECORDED: AssessmentPayload,
    Kind.AGREEMENT_SIGNED: AgreementSigned,
}


class Malformed(Exception):
    """The body is not a valid message; `errors` name each field at fault."""

    def __init__(self, status: int, errors: list[dict[str, str]], kind: str = "unknown") -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.status, self.errors, self.kind = status, errors, kind


def envelope_schema() -> dict[str, Any]:
    """The body as the OpenAPI document shows it: the envelope, `data` one of the kinds' models."""
    kinds: list[dict[str, Any]] = []
    defs: dict[str, Any] = {}
    for kind, model in MODELS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        defs.update(schema.pop("$defs", {}))
        kinds.append({"title": kind.value, "type": "object", "required": ["type", "data"], "properties": {
            "type": {"const": kind.value}, "timestamp": {"type": "string", "format": "date-time"}, "data": schema}})
    # nested models inline: the document has no place for $defs of a hand-written body
    return _inline({"oneOf": kinds}, defs)


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.rsplit("/", 1)[-1] in defs:
            return _inline(defs[ref.rsplit("/", 1)[-1]], defs)
        return {k: _inline(v, defs) for k, v in node.items()}
    if isinstance(node, list):
        return [_inline(v, defs) for v in node]
    return node


def parse(doc: Any) -> tuple[Kind, Payload]:
    """Validate the envelope and its data; raises `Malformed` (422) naming the fields."""
    if not isinstance(doc, dict):
        raise Malformed(422, [{"field": "body", "message": "must be a JSON object"}])
    try:
        kind = Kind(str(doc.get("type")))
    except ValueError:
        allowed = ", ".join(k.value for k in Kind)
        raise Malformed(422, [{"field": "type", "message": f"must be one of {allowed}"}]) from None
    if not isinstance(doc.get("data"), dict):
        raise Malformed(422, [{"field": "data", "message": "must be a JSON object"}], kind)
    try:
        return kind, MODELS[kind].model_validate(doc["data"])  # type: ignore[return-value]
    except ValidationError as exc:
        errors = [{"field": ".".join(["data", *(str(p) for p in e["loc"])]), "message": e["msg"]}
                  for e in exc.errors()]
        raise Malformed(422, errors, kind) from None


# --- outbound: what we send to a tool's endpoint -------------------------------------------------------

class OutboundEntry(Strict):
    entry_id: uuid.UUID
    student_id: Id
    placement_id: Id
    revision: Annotated[int, Field(ge=1, description="confirm or reject this revision (`revision` in the answer)")]
    work_date: date
    minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    activity: ActivityKind
    description: Text = ""


class ConfirmationRequestData(Strict):
    request_id: Id
    mentor_id: Id
    expires_at: AwareDatetime | None = None
    entries: Annotated[list[OutboundEntry], Field(max_length=500)]


class OutboundConfirmationRequested(Strict):
    """Entries of a mentor bound to the tool await a decision; answer with `hours.confirmed` /
    `hours.rejected` webhooks. Sent with Standard Webhooks headers, signed with every valid secret."""

    type: Literal["confirmation.requested"] = "confirmation.requested"
    timestamp: AwareDatetime
    data: ConfirmationRequestData
