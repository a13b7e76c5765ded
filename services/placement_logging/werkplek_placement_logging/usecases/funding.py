"""Use cases of the registry that feed the funding reports, over the ports of `uow.py`: the credits a
student took and earned in an academic year, and pilots (proeftuinen). Like every registry change,
each stores its row and stages its contract event in one unit; the same terms again change nothing.
Results and refusals are the registry's (`usecases/registry.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from werkplek_events import CreditsRecorded, PilotRegistered

from .. import registry_rules as rules
from ..registry_rules import body_of, enrolment_id
from ..schemas import CreditsIn, PilotIn
from ..uow import RegistryUnit, RegistryUoW
from .registry import Result, Stored, invalid, not_found, put, run


@dataclass(frozen=True)
class PutCredits:
    institution: str
    student_id: str
    academic_year: str
    doc: CreditsIn


async def put_credits(uow: RegistryUoW, cmd: PutCredits) -> Result:
    """Credits of the enrolment's programme; after an enrolment moved to another programme they must be
    recorded again (the stored body names the programme, so the same numbers then emit anew)."""
    doc, eid = cmd.doc, enrolment_id(cmd.student_id, cmd.academic_year)

    async def change(unit: RegistryUnit) -> Stored:
        enrolment = await unit.load("enrolment", eid, cmd.institution)
        if enrolment is None:
            raise not_found("enrolment")
        programme = await unit.load("programme", enrolment["programme_id"], cmd.institution)
        errors = rules.credits_errors(doc, body_of(programme)["ects"] if programme is not None else None)
        if errors:
            raise invalid(errors, "credits")
        body = {"programme_id": enrolment["programme_id"], **doc.model_dump(mode="json")}
        event = CreditsRecorded(student_id=cmd.student_id, programme_id=enrolment["programme_id"],
                                institution_id=cmd.institution, academic_year=cmd.academic_year, **doc.model_dump())
        stored, _ = await put(unit, "credits", eid, cmd.institution, body,
                              {"student_id": cmd.student_id, "academic_year": cmd.academic_year}, lambda _: [event])
        return stored
    return await run(uow, change)


@dataclass(frozen=True)
class PutPilot:
    institution: str
    pilot_id: str
    doc: PilotIn


async def put_pilot(uow: RegistryUoW, cmd: PutPilot) -> Result:
    """Register a pilot or replace its terms (PilotRegistered): programmes and workplaces must be the
    institution's own, every budget line a year of the period."""
    doc = cmd.doc

    async def change(unit: RegistryUnit) -> Stored:
        programmes = await unit.owned("programme", doc.programme_ids, cmd.institution)
        named = [p.workplace_id for p in doc.partners if p.workplace_id is not None]
        workplaces = await unit.owned("workplace", named, cmd.institution)
        errors = rules.pilot_errors(doc, programmes, workplaces)
        if errors:
            raise invalid(errors, "pilot")
        stored, _ = await put(unit, "pilot", cmd.pilot_id, cmd.institution, doc.model_dump(mode="json"), {},
                              lambda _: [PilotRegistered(pilot_id=cmd.pilot_id, institution_id=cmd.institution,
                                                         **doc.model_dump())])
        return stored
    return await run(uow, change)
