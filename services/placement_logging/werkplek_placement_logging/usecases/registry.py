"""Use cases of the registry (coordinators, scoped to their institution), over the ports of `uow.py`.
Each change stores the row and stages its contract event in one unit; storing the same terms again
changes nothing. Every id of another institution, in the path or in the body, answers as an unknown
one; a student belongs to the institution that enrolled them first. Each returns `Stored` (the row,
whether it was created, what changed: the metric label, None when nothing did) or a `Refusal`; the
rules are `registry_rules.py`, the entrypoint `routes_registry.py`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from werkplek_events import (
    EnrolmentEnded,
    Event,
    MentorRegistered,
    PlacementAgreed,
    PlacementAmended,
    PlacementEnded,
    ProgrammeRegistered,
    StudentEnrolled,
    WorkplaceRegistered,
)

from .. import registry_rules as rules
from ..domain import etag_matches
from ..registry_rules import Errors, body_of, enrolment_id
from ..schemas import EnrolmentEndIn, EnrolmentIn, MentorIn, PlacementEndIn, PlacementIn, ProgrammeIn, WorkplaceIn
from ..uow import NotOwned, RegistryUnit, RegistryUoW, Row


class Reason(StrEnum):
    """Why a change of the registry was refused; nothing of it is stored."""

    NOT_FOUND = "not_found"  # no such object of the institution (or another institution's)
    INVALID = "invalid"  # the terms break a rule (each error names its field)
    ENDED = "ended"  # the enrolment or placement has ended: it cannot change
    ALREADY_ENDED = "already_ended"  # another ending of an ended placement
    CHANGED = "changed"  # If-Match names another version


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    subject: str  # what was refused: "placement", "enrolment", "ending", ...
    detail: str = ""
    errors: Errors = field(default_factory=list)


@dataclass(frozen=True)
class Stored:
    row: Row
    created: bool
    changed: str | None  # the metric label of the change; None when the same terms were stored again


Result = Stored | Refusal


class Refused(Exception):
    """Leaves the unit (so it rolls back) carrying the refusal."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


def invalid(errors: Errors, subject: str) -> Refused:
    return Refused(Refusal(Reason.INVALID, subject, "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                           errors))



async def run(uow: RegistryUoW, change: Callable[[RegistryUnit], Awaitable[Stored]]) -> Result:
    """The change in one unit; a refusal (or another institution's id) rolls it back."""
    try:
        async with uow.begin() as unit:
            return await change(unit)
    except Refused as refused:
        return refused.refusal
    except NotOwned as other:
        return Refusal(Reason.NOT_FOUND, other.kind, f"your institution has no {other.kind} with this id")


def not_found(kind: str) -> Refused:
    return Refused(Refusal(Reason.NOT_FOUND, kind, f"your institution has no {kind} with this id"))


async def put(unit: RegistryUnit, kind: str, obj_id: str, institution: str, body: dict[str, Any],
              extra: dict[str, Any], make_events: Callable[[Row | None], list[Event]]) -> tuple[Stored, list[Event]]:
    """Created, changed, or the same terms again (then no event)."""
    current = await unit.claim(kind, obj_id, institution)
    if rules.unchanged(current, body):
        assert current is not None
        return Stored(current, False, None), []
    events = make_events(current)
    row = await unit.save(kind, obj_id, institution, body, extra, events)
    return Stored(row, current is None, kind), events


# --- programmes, workplaces, mentors ---------------------------------------------------------------

@dataclass(frozen=True)
class PutProgramme:
    institution: str
    programme_id: str
    doc: ProgrammeIn


async def put_programme(uow: RegistryUoW, cmd: PutProgramme) -> Result:
    async def change(unit: RegistryUnit) -> Stored:
        stored, _ = await put(unit, "programme", cmd.programme_id, cmd.institution, cmd.doc.model_dump(mode="json"),
                              {}, lambda _: [ProgrammeRegistered(programme_id=cmd.programme_id,
                                                                 institution_id=cmd.institution,
                                                                 **cmd.doc.model_dump())])
        return stored
    return await run(uow, change)


@dataclass(frozen=True)
class PutWorkplace:
    institution: str
    workplace_id: str
    doc: WorkplaceIn


async def put_workplace(uow: RegistryUoW, cmd: PutWorkplace) -> Result:
    async def change(unit: RegistryUnit) -> Stored:
        stored, _ = await put(unit, "workplace", cmd.workplace_id, cmd.institution,
                              rules.terms(cmd.doc, ("sector_code",)), {},
                              lambda _: [WorkplaceRegistered(workplace_id=cmd.workplace_id,
                                                             institution_id=cmd.institution, **cmd.doc.model_dump())])
        return stored
    return await run(uow, change)


@dataclass(frozen=True)
class PutMentor:
    institution: str
    mentor_id: str
    doc: MentorIn


async def put_mentor(uow: RegistryUoW, cmd: PutMentor) -> Result:
    async def change(unit: RegistryUnit) -> Stored:
        if await unit.load("workplace", cmd.doc.workplace_id, cmd.institution, via="body") is None:
            raise invalid([rules.error("workplace_id", rules.NO_WORKPLACE)], "mentor")
        stored, _ = await put(unit, "mentor", cmd.mentor_id, cmd.institution, cmd.doc.model_dump(mode="json"),
                              {"workplace_id": cmd.doc.workplace_id},
                              lambda _: [MentorRegistered(mentor_id=cmd.mentor_id, institution_id=cmd.institution,
                                                          **cmd.doc.model_dump())])
        return stored
    return await run(uow, change)


# --- students: enrolments --------------------------------------------------------------------------

@dataclass(frozen=True)
class PutEnrolment:
    institution: str
    student_id: str
    academic_year: str
    doc: EnrolmentIn


def _ended(subject: str, on: object, more: str = "") -> Refused:
    return Refused(Refusal(Reason.ENDED, subject, f"it ended on {on}{more}"))


async def put_enrolment(uow: RegistryUoW, cmd: PutEnrolment) -> Result:
    doc, year = cmd.doc, cmd.academic_year
    body = {"student_id": cmd.student_id, "academic_year": year, **rules.terms(doc, ("entry_year", "pilot_id"))}
    extra = {"student_id": cmd.student_id, "academic_year": year, "programme_id": doc.programme_id,
             "phase": doc.phase}
    eid = enrolment_id(cmd.student_id, year)

    async def change(unit: RegistryUnit) -> Stored:
        await unit.claim_student(cmd.student_id, cmd.institution, enrol=True)
        current = await unit.claim("enrolment", eid, cmd.institution)
        programme = await unit.load("programme", doc.programme_id, cmd.institution, via="body")
        errors = rules.enrolment_errors(doc, year, programme)
        if doc.pilot_id is not None:
            pilot = await unit.load("pilot", doc.pilot_id, cmd.institution, via="body")
            errors += rules.pilot_membership_errors(doc, year, pilot)
        if errors:
            raise invalid(errors, "enrolment")
        if (ended_on := rules.ended_on(current)) is not None:
            raise _ended("enrolment", ended_on)
        stored, _ = await put(unit, "enrolment", eid, cmd.institution, body, extra,
                              lambda _: [StudentEnrolled(student_id=cmd.student_id, institution_id=cmd.institution,
                                                         academic_year=year, **doc.model_dump())])
        return stored
    return await run(uow, change)


@dataclass(frozen=True)
class EndEnrolment:
    institution: str
    student_id: str
    academic_year: str
    doc: EnrolmentEndIn


async def end_enrolment(uow: RegistryUoW, cmd: EndEnrolment) -> Result:
    """End an enrolment (EnrolmentEnded): the ending is kept in the enrolment's body."""
    doc, eid = cmd.doc, enrolment_id(cmd.student_id, cmd.academic_year)

    async def change(unit: RegistryUnit) -> Stored:
        current = await unit.claim("enrolment", eid, cmd.institution)
        if current is None:
            raise not_found("enrolment")
        body = body_of(current)
        if body.get("ended_on") is not None:
            if body["ended_on"] == doc.ended_on.isoformat() and body.get("end_reason") == doc.reason.value:
                return Stored(current, False, None)
            raise _ended("enrolment", body["ended_on"])
        if doc.ended_on < rules.year_start(cmd.academic_year):
            raise invalid([rules.error("ended_on", "is before the start of the academic year")], "ending")
        event = EnrolmentEnded(student_id=cmd.student_id, programme_id=current["programme_id"],
                               academic_year=cmd.academic_year, ended_on=doc.ended_on, reason=doc.reason)
        body.update(ended_on=doc.ended_on.isoformat(), end_reason=doc.reason.value)
        return Stored(await unit.update("enrolment", eid, body, {}, [event]), False, "enrolment_ended")
    return await run(uow, change)


# --- placements ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PutPlacement:
    institution: str
    placement_id: str
    doc: PlacementIn
    if_match: str | None


async def _placement_refs(unit: RegistryUnit, institution: str, doc: PlacementIn) -> tuple[Row | None, Row | None,
                                                                                            Row | None]:
    """The enrolment (None: not the institution's, or of a student who has moved), workplace and
    mentor the terms name."""
    enrolment = await unit.load("enrolment", enrolment_id(doc.student_id, doc.academic_year), institution,
                                via="body")
    if enrolment is not None and await unit.foreign_student(doc.student_id, institution, "body"):
        enrolment = None  # the institution's enrolment of a student who has moved (or was never its own)
    workplace = await unit.load("workplace", doc.workplace_id, institution, via="body")
    mentor = await unit.load("mentor", doc.mentor_id, institution, via="body")
    return enrolment, workplace, mentor


async def put_placement(uow: RegistryUoW, cmd: PutPlacement) -> Result:
    """Agree a placement (PlacementAgreed) or amend its terms (PlacementAmended, complete terms)."""
    doc, pid, inst = cmd.doc, cmd.placement_id, cmd.institution
    body = doc.model_dump(mode="json", exclude={"reason"})
    placement_terms = doc.model_dump(exclude={"academic_year", "workplace_id", "reason"})
    extra = {"student_id": doc.student_id, "start_date": doc.start_date, "end_date": doc.end_date,
             "outcome_ids": [o.outcome_id for o in doc.learning_agreement.outcomes]}

    async def change(unit: RegistryUnit) -> Stored:
        current = await unit.claim("placement", pid, inst)
        if current is not None and cmd.if_match is not None and not etag_matches(cmd.if_match, current["version"]):
            raise Refused(Refusal(Reason.CHANGED, "placement", "read it again and resend the change"))
        enrolment, workplace, mentor = await _placement_refs(unit, inst, doc)
        errors = rules.placement_errors(doc, enrolment, workplace, mentor, current)
        if errors:
            raise invalid(errors, "placement")
        if current is not None and current["ended_on"] is not None:
            raise _ended("placement", current["ended_on"], "; agree a new one")
        assert enrolment is not None

        def events(existing: Row | None) -> list[Event]:
            if existing is None:
                return [PlacementAgreed(placement_id=pid, institution_id=inst, programme_id=enrolment["programme_id"],
                                        workplace_id=doc.workplace_id, academic_year=doc.academic_year,
                                        phase=enrolment["phase"], **placement_terms)]
            return [PlacementAmended(placement_id=pid, reason=doc.reason, **placement_terms)]

        stored, staged = await put(unit, "placement", pid, inst, body, extra, events)
        if staged:
            await unit.keep_revision(stored.row, "agreed" if current is None else "amended", staged[0])
        return stored
    return await run(uow, change)


@dataclass(frozen=True)
class EndPlacement:
    institution: str
    placement_id: str
    doc: PlacementEndIn


async def end_placement(uow: RegistryUoW, cmd: EndPlacement) -> Result:
    doc = cmd.doc

    async def change(unit: RegistryUnit) -> Stored:
        current = await unit.claim("placement", cmd.placement_id, cmd.institution)
        if current is None:
            raise not_found("placement")
        body = body_of(current)
        if current["ended_on"] is not None:
            if current["ended_on"] == doc.ended_on and body.get("end_reason") == doc.reason.value:
                return Stored(current, False, None)
            raise Refused(Refusal(Reason.ALREADY_ENDED, "placement", f"it ended on {current['ended_on']}"))
        start: date = current["start_date"]
        if doc.ended_on < start:
            raise invalid([rules.error("ended_on", "is before the start of the placement")], "ending")
        event = PlacementEnded(placement_id=cmd.placement_id, student_id=current["student_id"], ended_on=doc.ended_on,
                               reason=doc.reason)
        body["end_reason"] = doc.reason.value
        row = await unit.update("placement", cmd.placement_id, body, {"ended_on": doc.ended_on}, [event])
        await unit.keep_revision(row, "ended", event)
        return Stored(row, False, "placement_ended")
    return await run(uow, change)
