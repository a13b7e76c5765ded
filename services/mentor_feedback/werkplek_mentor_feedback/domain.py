"""The rules of mentor feedback, pure: who may act for which placement, what a confirmation,
rejection or reversal does to an entry, and which events an accepted message produces. No I/O here;
the handlers load the facts, call these functions and store what they return."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from werkplek_events import (
    AssessmentRecorded,
    Event,
    LearningAgreementSigned,
    OutcomeAssessment,
    TimeEntryConfirmed,
    TimeEntryDecisionReversed,
    TimeEntryRejected,
)
from werkplek_events.rules import Decisions, entry_status
from werkplek_events.vocabulary import ConfirmationChannel, Decision, EntryStatus, OutcomeKind, SigningParty

from .payloads import AgreementSigned, AssessmentPayload, EntryRef, RejectedEntry, ReversedEntry


@dataclass(frozen=True)
class Mentor:
    mentor_id: str
    webhook_source: str | None


@dataclass(frozen=True)
class Placement:
    placement_id: str
    student_id: str
    mentor_id: str
    outcomes: Mapping[str, OutcomeKind]  # the learning agreement: outcome id -> kind


@dataclass(frozen=True)
class Entry:
    entry_id: uuid.UUID
    student_id: str
    placement_id: str
    revision: int
    withdrawn: bool = False
    decision: Decision | None = None
    decided_revision: int | None = None

    @property
    def current_decision(self) -> Decision | None:
        """The decision standing on the current revision (None: pending), by the one rule
        (`werkplek_events.rules.entry_status`): a decision holds for the revision it was taken on; a
        correction makes the entry pending again."""
        status = entry_status(self.revision, Decisions.standing(self.decision, self.decided_revision))
        return None if status is EntryStatus.PENDING else Decision(status.value)


class Refused(Exception):
    """A message that is understood but cannot be applied; nothing of it is stored."""

    status = 400
    slug = "refused"
    title = "Refused"

    def __init__(self, detail: str, errors: Sequence[dict[str, str]] = ()) -> None:
        super().__init__(detail)
        self.detail, self.errors = detail, list(errors)


class Forbidden(Refused):
    status, slug, title = 403, "forbidden", "Not allowed for this mentor or placement"


class Unknown(Refused):
    status, slug, title = 422, "unknown-reference", "Unknown entry, placement or outcome"


class Conflict(Refused):
    status, slug, title = 409, "decision-conflict", "Conflicts with the entry's current state"


def authorise_source(source_id: str | None, mentor_id: str, mentor: Mentor | None) -> None:
    """A sending source acts only for the mentors bound to it (None: the mentor's own link)."""
    if source_id is None:
        return
    if mentor is None or mentor.webhook_source != source_id:
        raise Forbidden(f"source {source_id!r} is not bound to mentor {mentor_id!r}",
                        [{"field": "data.mentor_id", "message": "not bound to this source"}])


def authorise_placement(mentor_id: str, placement: Placement, field_: str) -> None:
    if placement.mentor_id != mentor_id:
        raise Forbidden(f"mentor {mentor_id!r} does not mentor placement {placement.placement_id!r}",
                        [{"field": field_, "message": "not a placement of this mentor"}])


@dataclass(frozen=True)
class Plan:
    """What an accepted message changes: the events to emit and a result per item for the answer."""

    events: list[Event] = field(default_factory=list)
    results: list[dict[str, str]] = field(default_factory=list)


def _entry_and_placement(i: int, ref_id: uuid.UUID, mentor_id: str, entries: Mapping[uuid.UUID, Entry],
                         placements: Mapping[str, Placement]) -> tuple[Entry, Placement]:
    fld = f"data.entries.{i}.entry_id"
    entry = entries.get(ref_id)
    if entry is None:
        raise Unknown(f"entry {ref_id} is not known (yet)", [{"field": fld, "message": "unknown entry"}])
    placement = placements.get(entry.placement_id)
    if placement is None:
        raise Unknown(f"the placement of entry {ref_id} is not known (yet)",
                      [{"field": fld, "message": "placement of this entry is unknown"}])
    authorise_placement(mentor_id, placement, fld)
    return entry, placement


def _check_decidable(i: int, entry: Entry, seen: int | None, wanted: Decision) -> bool:
    """True when the decision must be applied, False when it already holds; raises on a conflict."""
    fld = f"data.entries.{i}"
    if entry.withdrawn:
        raise Conflict(f"entry {entry.entry_id} was withdrawn", [{"field": fld + ".entry_id", "message": "withdrawn"}])
    if seen is not None and seen != entry.revision:
        raise Conflict(f"entry {entry.entry_id} changed: revision {entry.revision} is current, not {seen}",
                       [{"field": fld + ".revision", "message": f"current revision is {entry.revision}"}])
    current = entry.current_decision
    if current is not None and current != wanted:
        raise Conflict(f"entry {entry.entry_id} is already {current.value}; reverse that decision first",
                       [{"field": fld + ".entry_id", "message": f"already {current.value}; needs a reversal"}])
    return current is None


def plan_decisions(mentor_id: str, wanted: Decision, refs: Sequence[EntryRef], entries: Mapping[uuid.UUID, Entry],
                   placements: Mapping[str, Placement], channel: ConfirmationChannel) -> Plan:
    """Confirm or reject entries, all or nothing."""
    plan = Plan()
    for i, ref in enumerate(refs):
        entry, _ = _entry_and_placement(i, ref.entry_id, mentor_id, entries, placements)
        if not _check_decidable(i, entry, ref.revision, wanted):
            plan.results.append({"entry_id": str(entry.entry_id), "result": "unchanged"})
            continue
        common = {"entry_id": entry.entry_id, "student_id": entry.student_id, "placement_id": entry.placement_id,
                  "mentor_id": mentor_id, "entry_revision": entry.revision, "channel": channel}
        if wanted is Decision.CONFIRMED:
            plan.events.append(TimeEntryConfirmed(**common))
        else:
            assert isinstance(ref, RejectedEntry)
            plan.events.append(TimeEntryRejected(**common, reason=ref.reason, comment=ref.comment))
        plan.results.append({"entry_id": str(entry.entry_id), "result": wanted.value})
    return plan


def plan_reversals(mentor_id: str, refs: Sequence[ReversedEntry], entries: Mapping[uuid.UUID, Entry],
                   placements: Mapping[str, Placement]) -> Plan:
    plan = Plan()
    for i, ref in enumerate(refs):
        entry, _ = _entry_and_placement(i, ref.entry_id, mentor_id, entries, placements)
        current = entry.current_decision
        if current is None:
            raise Conflict(f"entry {entry.entry_id} has no decision on its current revision to reverse",
                           [{"field": f"data.entries.{i}.entry_id", "message": "nothing to reverse"}])
        plan.events.append(TimeEntryDecisionReversed(entry_id=entry.entry_id, student_id=entry.student_id,
                                                     placement_id=entry.placement_id, mentor_id=mentor_id,
                                                     reversed=current, comment=ref.comment))
        plan.results.append({"entry_id": str(entry.entry_id), "result": f"{current.value}_reversed"})
    return plan


def known_placement(placement_id: str, placement: Placement | None) -> Placement:
    if placement is None:
        raise Unknown(f"placement {placement_id!r} is not known (yet)",
                      [{"field": "data.placement_id", "message": "unknown placement"}])
    return placement


def plan_assessment(msg: AssessmentPayload, placement: Placement | None, already_recorded: bool) -> Plan:
    found = known_placement(msg.placement_id, placement)
    authorise_placement(msg.mentor_id, found, "data.placement_id")
    errors = _outcome_errors(msg, found)
    if errors:
        raise Unknown("the assessment names outcomes that are not in the learning agreement as given", errors)
    if already_recorded:
        return Plan(results=[{"assessment_id": msg.assessment_id, "result": "unchanged"}])
    event = AssessmentRecorded(
        assessment_id=msg.assessment_id, student_id=found.student_id, placement_id=found.placement_id,
        mentor_id=msg.mentor_id, moment=msg.moment, assessed_on=msg.assessed_on,
        outcomes=[OutcomeAssessment(outcome_id=o.outcome_id, kind=o.kind, level=o.level, comment=o.comment)
                  for o in msg.outcomes])
    return Plan([event], [{"assessment_id": msg.assessment_id, "result": "recorded"}])


def _outcome_errors(msg: AssessmentPayload, placement: Placement) -> list[dict[str, str]]:
    errors, seen = [], set()
    for i, o in enumerate(msg.outcomes):
        base = f"data.outcomes.{i}"
        agreed = placement.outcomes.get(o.outcome_id)
        if agreed is None:
            errors.append({"field": base + ".outcome_id", "message": "not an outcome of this learning agreement"})
        elif agreed != o.kind:
            errors.append({"field": base + ".kind", "message": f"the agreement has this outcome as {agreed.value}"})
        if o.outcome_id in seen:
            errors.append({"field": base + ".outcome_id", "message": "assessed twice in one message"})
        seen.add(o.outcome_id)
    return errors


def plan_signature(msg: AgreementSigned, placement: Placement | None, already_signed: bool) -> Plan:
    found = known_placement(msg.placement_id, placement)
    authorise_placement(msg.mentor_id, found, "data.placement_id")
    if already_signed:
        return Plan(results=[{"placement_id": found.placement_id, "result": "unchanged"}])
    event = LearningAgreementSigned(placement_id=found.placement_id, student_id=found.student_id,
                                    party=SigningParty.WORKPLACE, signed_by=msg.mentor_id, signed_at=msg.signed_at)
    return Plan([event], [{"placement_id": found.placement_id, "result": "signed"}])
