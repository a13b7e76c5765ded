"""The registry's rules, as pure functions over the stored rows (`uow.Row`) and the documents sent:
what a change must satisfy (each violation names its field), and whether a PUT changes anything.
The use cases (`usecases/registry.py`, `usecases/funding.py`) read the rows and apply them."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from pydantic import BaseModel
from werkplek_events.placement import academic_year_of

from .schemas import CreditsIn, EnrolmentIn, PilotIn, PlacementIn
from .uow import Row

Errors = list[dict[str, str]]
NO_WORKPLACE = "your institution has no workplace with this id"
NO_PROGRAMME = "your institution has no programme with this id"


def error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def body_of(row: Row) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(row["body"])
    return body


def unchanged(current: Row | None, body: dict[str, Any]) -> bool:
    """Storing the same terms again changes nothing (and emits no event)."""
    return current is not None and body_of(current) == body


def terms(doc: BaseModel, added: tuple[str, ...]) -> dict[str, Any]:
    """The body to store: fields added to a document later are left out while empty, so terms stored
    before they existed compare equal and a repeated PUT stays a no-op."""
    return doc.model_dump(mode="json", exclude={f for f in added if getattr(doc, f) is None})


def enrolment_id(student_id: str, academic_year: str) -> str:
    return f"{student_id}/{academic_year}"


def year_start(academic_year: str) -> date:
    """An academic year "2026-2027" starts on 2026-09-01."""
    return date(int(academic_year[:4]), 9, 1)


def enrolment_errors(doc: EnrolmentIn, academic_year: str, programme: Row | None) -> Errors:
    if programme is None:
        errors = [error("programme_id", NO_PROGRAMME)]
    elif doc.phase > body_of(programme)["phases"]:
        errors = [error("phase", "the programme has fewer phases")]
    else:
        errors = []
    if doc.entry_year is not None and doc.entry_year > academic_year:
        errors.append(error("entry_year", "is after the academic year of the enrolment"))
    return errors


def pilot_membership_errors(doc: EnrolmentIn, academic_year: str, pilot: Row | None) -> Errors:
    """A trajectory joins a pilot of its institution that includes its programme and this year."""
    if pilot is None:
        return [error("pilot_id", "your institution has no pilot with this id")]
    pilot_terms = body_of(pilot)
    errors = []
    if doc.programme_id not in pilot_terms["programme_ids"]:
        errors.append(error("pilot_id", "the pilot does not include this programme"))
    first, last = (academic_year_of(date.fromisoformat(pilot_terms[k])) for k in ("start_date", "end_date"))
    if not first <= academic_year <= last:
        period = f"in {first}" if first == last else f"from {first} to {last}"
        errors.append(error("pilot_id", f"the pilot runs {period}"))
    return errors


def ended_on(enrolment: Row | None) -> str | None:
    """When the enrolment ended (ISO date), if it has."""
    return None if enrolment is None else body_of(enrolment).get("ended_on")


def placement_errors(doc: PlacementIn, enrolment: Row | None, workplace: Row | None, mentor: Row | None,
                     current: Row | None) -> Errors:
    """Every reference of the terms must be the institution's own (`enrolment` None: none of the
    institution's for this student and year); the period must make sense; an agreed placement keeps
    its student, year and workplace."""
    errors: Errors = []
    if enrolment is None:
        errors += [error(f, "the student has no enrolment in your institution for this year")
                   for f in ("student_id", "academic_year")]
    if workplace is None:
        errors.append(error("workplace_id", NO_WORKPLACE))
    if mentor is None or mentor["workplace_id"] != doc.workplace_id:
        errors.append(error("mentor_id", "no mentor with this id at this workplace"))
    if doc.end_date < doc.start_date:
        errors.append(error("end_date", "is before start_date"))
    ids = [o.outcome_id for o in doc.learning_agreement.outcomes]
    if len(ids) != len(set(ids)):
        errors.append(error("learning_agreement.outcomes", "outcome ids must be unique"))
    if current is not None:
        before = body_of(current)
        errors += [error(f, "cannot change on an agreed placement; end it and agree a new one")
                   for f in ("student_id", "academic_year", "workplace_id") if before[f] != getattr(doc, f)]
    return errors


def credits_errors(doc: CreditsIn, ects: int | None) -> Errors:
    errors = []
    if doc.credits_earned > doc.credits_taken:
        errors.append(error("credits_earned", "is above credits_taken"))
    if ects is not None and doc.credits_taken > ects:
        errors.append(error("credits_taken", f"is above the programme's {ects} ECTS"))
    return errors


def pilot_errors(doc: PilotIn, programmes: dict[str, Row], workplaces: dict[str, Row]) -> Errors:
    """Programmes and workplaces must be the institution's own (`programmes`, `workplaces`: those it has
    of the ids named), every budget line a year of the period, nothing listed twice."""
    errors: Errors = []
    for i, pid in enumerate(doc.programme_ids):
        if pid not in programmes:
            errors.append(error(f"programme_ids[{i}]", NO_PROGRAMME))
        elif pid in doc.programme_ids[:i]:
            errors.append(error(f"programme_ids[{i}]", "is listed twice"))
    errors += [error(f"partners[{i}].workplace_id", NO_WORKPLACE)
               for i, p in enumerate(doc.partners) if p.workplace_id is not None and p.workplace_id not in workplaces]
    if doc.end_date < doc.start_date:
        errors.append(error("end_date", "is before start_date"))
    first, last = academic_year_of(doc.start_date), academic_year_of(doc.end_date)
    for i, line in enumerate(doc.budget):
        if not first <= line.academic_year <= last:
            errors.append(error(f"budget[{i}].academic_year", f"is outside the period {first} to {last}"))
        elif line.academic_year in [b.academic_year for b in doc.budget[:i]]:
            errors.append(error(f"budget[{i}].academic_year", "is listed twice"))
    return errors
