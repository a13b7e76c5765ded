"""Use cases of the registry that feed the funding reports: the credits a student took and earned in
an academic year, and pilots (proeftuinen). Like every registry change, each stores its row and
stages its contract event in one transaction; the same terms again change nothing."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson
from werkplek_events import CreditsRecorded, PilotRegistered
from werkplek_events.placement import academic_year_of

from . import registry_store as store
from .registry import Registry, enrolment_id, invalid, put_row
from .schemas import CreditsIn, PilotIn


async def put_credits(reg: Registry, institution: str, student_id: str, academic_year: str,
                      doc: CreditsIn) -> tuple[int, Any]:
    """Credits of the enrolment's programme; after an enrolment moved to another programme they must be
    recorded again (the stored body names the programme, so the same numbers then emit anew)."""
    eid = enrolment_id(student_id, academic_year)
    async with reg.pool.acquire() as conn, conn.transaction():
        enrolment = await store.load(conn, "enrolment", eid, institution)
        if enrolment is None:
            raise store.not_found("enrolment")
        programme = await store.load(conn, "programme", enrolment["programme_id"], institution)
        ects = orjson.loads(programme["body"])["ects"] if programme is not None else None
        errors = []
        if doc.credits_earned > doc.credits_taken:
            errors.append({"field": "credits_earned", "message": "is above credits_taken"})
        if ects is not None and doc.credits_taken > ects:
            errors.append({"field": "credits_taken", "message": f"is above the programme's {ects} ECTS"})
        if errors:
            raise invalid(errors, "The credits are not valid")
        body = {"programme_id": enrolment["programme_id"], **doc.model_dump(mode="json")}
        event = CreditsRecorded(student_id=student_id, programme_id=enrolment["programme_id"],
                                institution_id=institution, academic_year=academic_year, **doc.model_dump())
        return await put_row(reg, "credits", eid, institution, body,
                             {"student_id": student_id, "academic_year": academic_year}, lambda _: [event], conn)


async def _pilot_errors(conn: asyncpg.Connection, institution: str, doc: PilotIn) -> list[dict[str, str]]:
    errors: list[dict[str, str]] = []
    programmes = await store.owned(conn, "programme", doc.programme_ids, institution)
    for i, pid in enumerate(doc.programme_ids):
        if pid not in programmes:
            errors.append({"field": f"programme_ids[{i}]", "message": "your institution has no programme with this id"})
        elif pid in doc.programme_ids[:i]:
            errors.append({"field": f"programme_ids[{i}]", "message": "is listed twice"})
    named = [p.workplace_id for p in doc.partners if p.workplace_id is not None]
    workplaces = await store.owned(conn, "workplace", named, institution)
    errors += [{"field": f"partners[{i}].workplace_id", "message": "your institution has no workplace with this id"}
               for i, p in enumerate(doc.partners) if p.workplace_id is not None and p.workplace_id not in workplaces]
    if doc.end_date < doc.start_date:
        errors.append({"field": "end_date", "message": "is before start_date"})
    first, last = academic_year_of(doc.start_date), academic_year_of(doc.end_date)
    for i, line in enumerate(doc.budget):
        if not first <= line.academic_year <= last:
            errors.append({"field": f"budget[{i}].academic_year",
                           "message": f"is outside the period {first} to {last}"})
        elif line.academic_year in [b.academic_year for b in doc.budget[:i]]:
            errors.append({"field": f"budget[{i}].academic_year", "message": "is listed twice"})
    return errors


async def put_pilot(reg: Registry, institution: str, pilot_id: str, doc: PilotIn) -> tuple[int, Any]:
    """Register a pilot or replace its terms (PilotRegistered): programmes and workplaces must be the
    institution's own, every budget line a year of the period."""
    body = doc.model_dump(mode="json")
    async with reg.pool.acquire() as conn, conn.transaction():
        errors = await _pilot_errors(conn, institution, doc)
        if errors:
            raise invalid(errors, "The pilot is not valid")
        return await put_row(reg, "pilot", pilot_id, institution, body, {}, lambda _: [PilotRegistered(
            pilot_id=pilot_id, institution_id=institution, **doc.model_dump())], conn)
