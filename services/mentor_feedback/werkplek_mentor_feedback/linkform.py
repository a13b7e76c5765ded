"""Reading the mentor page's form, pure. Fields per entry: `decision-<entry>` (confirm / reject /
empty: later), `revision-<entry>`, `reason-<entry>`, `comment-<entry>`; per placement:
`moment-<placement>`, `level-<placement>-<outcome>`, `note-<placement>-<outcome>`, `sign-<placement>`.
Only what the page offered counts. Errors name the field at fault with a catalogue key, so the page
can show each message next to its field, in the mentor's language."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkplek_events.limits import TEXT_MAX, clean_text, text_fault
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, OutcomeKind, RejectionReason

from .payloads import EntryRef, RejectedEntry

if TYPE_CHECKING:
    from .linkflow import Batch, ShownPlacement

FORM = "form"  # the error of the form as a whole


class FormInvalid(Exception):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors  # field name -> catalogue key


@dataclass(frozen=True)
class Assessment:
    placement_id: str
    moment: AssessmentMoment
    outcomes: tuple[tuple[str, OutcomeKind, AssessmentLevel, str], ...]  # id, kind, level, comment


@dataclass
class Choices:
    confirm: list[EntryRef] = field(default_factory=list)
    reject: list[RejectedEntry] = field(default_factory=list)
    assessments: list[Assessment] = field(default_factory=list)
    sign: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.confirm or self.reject or self.assessments or self.sign)


def _revision(form: Mapping[str, str], name: str, current: int) -> int:
    value = form.get(name, "")  # ASCII digits only: "²".isdigit() holds, int("²") does not
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 and int(value) > 0 else current


def _text(value: str, too_long: str) -> tuple[str, str | None]:
    """A comment as the contract stores it (NFC, at most TEXT_MAX), or the catalogue key of its fault."""
    if text_fault(value):
        return "", "error.text_control"
    value = clean_text(value.strip())
    return (value, None) if len(value) <= TEXT_MAX else ("", too_long)


def _decisions(form: Mapping[str, str], batch: Batch, choices: Choices, errors: dict[str, str]) -> None:
    reasons = {r.value for r in RejectionReason}
    for e in batch.entries:
        if e.decision:
            continue  # decided elsewhere meanwhile: the page shows it as done
        i = str(e.entry_id)
        decision, revision = form.get(f"decision-{i}", ""), _revision(form, f"revision-{i}", e.revision)
        if decision == "confirm":
            choices.confirm.append(EntryRef(entry_id=e.entry_id, revision=revision))
        elif decision == "reject":
            reason = form.get(f"reason-{i}", "")
            comment, fault = _text(form.get(f"comment-{i}", ""), "error.comment")
            if reason not in reasons:
                errors[f"reason-{i}"] = "error.reason"
            if fault or not comment:
                errors[f"comment-{i}"] = fault or "error.comment"
            elif reason in reasons:
                choices.reject.append(RejectedEntry(entry_id=e.entry_id, revision=revision,
                                                    reason=RejectionReason(reason), comment=comment))


def _assessment(form: Mapping[str, str], p: ShownPlacement, errors: dict[str, str]) -> Assessment | None:
    levels = {lvl.value for lvl in AssessmentLevel}
    outcomes = []
    for o in p.outcomes:
        level = form.get(f"level-{p.placement_id}-{o.outcome_id}", "")
        note, fault = _text(form.get(f"note-{p.placement_id}-{o.outcome_id}", ""), "error.outcome_comment")
        if fault:
            errors[f"note-{p.placement_id}-{o.outcome_id}"] = fault
        if level in levels:
            outcomes.append((o.outcome_id, o.kind, AssessmentLevel(level), note))
    if not outcomes:
        return None
    moment = form.get(f"moment-{p.placement_id}", "")
    if moment not in {m.value for m in AssessmentMoment}:
        errors[f"moment-{p.placement_id}"] = "error.moment"
        return None
    return Assessment(p.placement_id, AssessmentMoment(moment), tuple(outcomes))


def read_form(form: Mapping[str, str], batch: Batch) -> Choices:
    """The choices on the form; raises FormInvalid naming each field at fault (nothing is applied)."""
    choices, errors = Choices(), dict[str, str]()
    _decisions(form, batch, choices, errors)
    for p in batch.placements:
        assessment = _assessment(form, p, errors)
        if assessment is not None:
            choices.assessments.append(assessment)
        if not p.signed and form.get(f"sign-{p.placement_id}") == "yes":
            choices.sign.append(p.placement_id)
    if not errors and not choices:
        errors[FORM] = "error.nothing"
    if errors:
        raise FormInvalid(errors)
    return choices
