"""Use cases of the registry (coordinators, scoped to their institution). Each change stores the row
and stages its contract event in one transaction; storing the same terms again changes nothing.
Every id of another institution, in the path or in the body, answers as an unknown one; a student
belongs to the institution that enrolled them first (`registry_store.claim_student`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import orjson
from pydantic import BaseModel
from werkplek_common.problems import Problem, problem_type
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
from werkplek_events.placement import academic_year_of

from . import registry_store as store
from .domain import etag_matches
from .metrics import REGISTRY_CHANGES
from .schemas import EnrolmentEndIn, EnrolmentIn, MentorIn, PlacementEndIn, PlacementIn, ProgrammeIn, WorkplaceIn


@dataclass(frozen=True)
class Registry:
    pool: asyncpg.Pool
    producer: str
    source: str


def invalid(errors: list[dict[str, str]], what: str) -> Problem:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return Problem(422, what, detail, type_=problem_type("registry-invalid"), errors=errors)


async def put_row(reg: Registry, kind: str, obj_id: str, institution: str, body: dict[str, Any],
               extra: dict[str, Any], make_events: Callable[[asyncpg.Record | None], list[Event]],
               conn: asyncpg.Connection) -> tuple[int, asyncpg.Record]:
    """201 when created, 200 when changed or unchanged (then no event)."""
    status, row, _ = await _put_events(reg, kind, obj_id, institution, body, extra, make_events, conn)
    return status, row


async def _put_events(reg: Registry, kind: str, obj_id: str, institution: str, body: dict[str, Any],
                      extra: dict[str, Any], make_events: Callable[[asyncpg.Record | None], list[Event]],
                      conn: asyncpg.Connection) -> tuple[int, asyncpg.Record, list[Event]]:
    current = await store.claim(conn, kind, obj_id, institution)
    if current is not None and orjson.loads(current["body"]) == body:
        return 200, current, []
    events = make_events(current)
    row = await store.save(conn, kind, obj_id, institution, body, extra, events,
                           producer=reg.producer, source=reg.source)
    REGISTRY_CHANGES.labels(kind).inc()
    return (201 if current is None else 200), row, events


async def put_programme(reg: Registry, institution: str, programme_id: str, doc: ProgrammeIn) -> tuple[int, Any]:
    body = doc.model_dump(mode="json")
    async with reg.pool.acquire() as conn, conn.transaction():
        return await put_row(reg, "programme", programme_id, institution, body, {}, lambda _: [ProgrammeRegistered(
            programme_id=programme_id, institution_id=institution, **doc.model_dump())], conn)


def terms(doc: BaseModel, added: tuple[str, ...]) -> dict[str, Any]:
    """The body to store: fields added to a document later are left out while empty, so terms stored
    before they existed compare equal and a repeated PUT stays a no-op."""
    return doc.model_dump(mode="json", exclude={f for f in added if getattr(doc, f) is None})


async def put_workplace(reg: Registry, institution: str, workplace_id: str, doc: WorkplaceIn) -> tuple[int, Any]:
    body = terms(doc, ("sector_code",))
    async with reg.pool.acquire() as conn, conn.transaction():
        return await put_row(reg, "workplace", workplace_id, institution, body, {}, lambda _: [WorkplaceRegistered(
            workplace_id=workplace_id, institution_id=institution, **doc.model_dump())], conn)


async def put_mentor(reg: Registry, institution: str, mentor_id: str, doc: MentorIn) -> tuple[int, Any]:
    body = doc.model_dump(mode="json")
    async with reg.pool.acquire() as conn, conn.transaction():
        if await store.load(conn, "workplace", doc.workplace_id, institution, via="body") is None:
            raise invalid([{"field": "workplace_id", "message": "your institution has no workplace with this id"}],
                           "The mentor is not valid")
        return await put_row(reg, "mentor", mentor_id, institution, body, {"workplace_id": doc.workplace_id},
                          lambda _: [MentorRegistered(mentor_id=mentor_id, institution_id=institution,
                                                      **doc.model_dump())], conn)


def enrolment_id(student_id: str, academic_year: str) -> str:
    return f"{student_id}/{academic_year}"


def year_start(academic_year: str) -> date:
    """An academic year "2026-2027" starts on 2026-09-01."""
    return date(int(academic_year[:4]), 9, 1)


def _enrolment_ended(ended_on: str) -> Problem:
    return Problem(409, "The enrolment has ended", f"it ended on {ended_on}",
                   type_=problem_type("enrolment-ended"))


async def put_enrolment(reg: Registry, institution: str, student_id: str, academic_year: str,
                        doc: EnrolmentIn) -> tuple[int, Any]:
    body = {"student_id": student_id, "academic_year": academic_year, **terms(doc, ("entry_year", "pilot_id"))}
    extra = {"student_id": student_id, "academic_year": academic_year, "programme_id": doc.programme_id,
             "phase": doc.phase}
    eid = enrolment_id(student_id, academic_year)
    async with reg.pool.acquire() as conn, conn.transaction():
        await store.claim_student(conn, student_id, institution, enrol=True)
        current = await store.claim(conn, "enrolment", eid, institution)
        programme = await store.load(conn, "programme", doc.programme_id, institution, via="body")
        errors = []
        if programme is None:
            errors.append({"field": "programme_id", "message": "your institution has no programme with this id"})
        elif doc.phase > orjson.loads(programme["body"])["phases"]:
            errors.append({"field": "phase", "message": "the programme has fewer phases"})
        if doc.entry_year is not None and doc.entry_year > academic_year:
            errors.append({"field": "entry_year", "message": "is after the academic year of the enrolment"})
        errors += await _pilot_errors(conn, institution, doc, academic_year)
        if errors:
            raise invalid(errors, "The enrolment is not valid")
        if current is not None and (ended_on := orjson.loads(current["body"]).get("ended_on")) is not None:
            raise _enrolment_ended(ended_on)
        return await put_row(reg, "enrolment", eid, institution, body, extra,
                          lambda _: [StudentEnrolled(student_id=student_id, institution_id=institution,
                                                     academic_year=academic_year, **doc.model_dump())], conn)


async def _pilot_errors(conn: asyncpg.Connection, institution: str, doc: EnrolmentIn,
                        academic_year: str) -> list[dict[str, str]]:
    """A trajectory joins a pilot of its institution that includes its programme and this year."""
    if doc.pilot_id is None:
        return []
    pilot = await store.load(conn, "pilot", doc.pilot_id, institution, via="body")
    if pilot is None:
        return [{"field": "pilot_id", "message": "your institution has no pilot with this id"}]
    terms = orjson.loads(pilot["body"])
    errors = []
    if doc.programme_id not in terms["programme_ids"]:
        errors.append({"field": "pilot_id", "message": "the pilot does not include this programme"})
    first, last = (academic_year_of(date.fromisoformat(terms[k])) for k in ("start_date", "end_date"))
    if not first <= academic_year <= last:
        period = f"in {first}" if first == last else f"from {first} to {last}"
        errors.append({"field": "pilot_id", "message": f"the pilot runs {period}"})
    return errors


async def _placement_errors(conn: asyncpg.Connection, institution: str, doc: PlacementIn,
                            current: asyncpg.Record | None) -> tuple[list[dict[str, str]], asyncpg.Record | None]:
    """Every reference of the terms must be the institution's own; the period must make sense."""
    errors: list[dict[str, str]] = []
    enrolment = await store.load(conn, "enrolment", enrolment_id(doc.student_id, doc.academic_year), institution,
                                 via="body")
    if enrolment is not None and await store.foreign_student(conn, doc.student_id, institution, "body"):
        enrolment = None  # the institution's enrolment of a student who has moved (or was never its own)
    if enrolment is None:
        errors += [{"field": f, "message": "the student has no enrolment in your institution for this year"}
                   for f in ("student_id", "academic_year")]
    if await store.load(conn, "workplace", doc.workplace_id, institution, via="body") is None:
        errors.append({"field": "workplace_id", "message": "your institution has no workplace with this id"})
    mentor = await store.load(conn, "mentor", doc.mentor_id, institution, via="body")
    if mentor is None or mentor["workplace_id"] != doc.workplace_id:
        errors.append({"field": "mentor_id", "message": "no mentor with this id at this workplace"})
    if doc.end_date < doc.start_date:
        errors.append({"field": "end_date", "message": "is before start_date"})
    ids = [o.outcome_id for o in doc.learning_agreement.outcomes]
    if len(ids) != len(set(ids)):
        errors.append({"field": "learning_agreement.outcomes", "message": "outcome ids must be unique"})
    if current is not None:
        before = orjson.loads(current["body"])
        errors += [{"field": f, "message": "cannot change on an agreed placement; end it and agree a new one"}
                   for f in ("student_id", "academic_year", "workplace_id") if before[f] != getattr(doc, f)]
    return errors, enrolment


async def put_placement(reg: Registry, institution: str, placement_id: str, doc: PlacementIn,
                        if_match: str | None) -> tuple[int, Any]:
    """Agree a placement (PlacementAgreed) or amend its terms (PlacementAmended, complete terms)."""
    body = doc.model_dump(mode="json", exclude={"reason"})
    async with reg.pool.acquire() as conn, conn.transaction():
        current = await store.claim(conn, "placement", placement_id, institution)
        _preconditions(current, if_match)
        errors, enrolment = await _placement_errors(conn, institution, doc, current)
        if errors:
            raise invalid(errors, "The placement is not valid")
        if current is not None and current["ended_on"] is not None:
            raise Problem(409, "The placement has ended", f"it ended on {current['ended_on']}; agree a new one",
                          type_=problem_type("placement-ended"))
        assert enrolment is not None
        terms = doc.model_dump(exclude={"academic_year", "workplace_id", "reason"})

        def events(existing: asyncpg.Record | None) -> list[Event]:
            if existing is None:
                return [PlacementAgreed(placement_id=placement_id, institution_id=institution,
                                        programme_id=enrolment["programme_id"], workplace_id=doc.workplace_id,
                                        academic_year=doc.academic_year, phase=enrolment["phase"], **terms)]
            return [PlacementAmended(placement_id=placement_id, reason=doc.reason, **terms)]

        extra = {"student_id": doc.student_id, "start_date": doc.start_date, "end_date": doc.end_date,
                 "outcome_ids": [o.outcome_id for o in doc.learning_agreement.outcomes]}
        status, row, staged = await _put_events(reg, "placement", placement_id, institution, body, extra, events,
                                                conn)
        if staged:
            await _revision(conn, row, "agreed" if current is None else "amended", staged[0])
        return status, row


async def _revision(conn: asyncpg.Connection, row: asyncpg.Record, kind: str, event: Event) -> None:
    """Every agreed, amended or ended version of a placement is kept."""
    await conn.execute("INSERT INTO pl_placement_revision (placement_id, version, kind, body, event_id)"
                       " VALUES ($1, $2, $3, $4::jsonb, $5)", row["id"], row["version"], kind, row["body"],
                       event.event_id)


def _preconditions(current: asyncpg.Record | None, if_match: str | None) -> None:
    if current is not None and if_match is not None and not etag_matches(if_match, current["version"]):
        raise Problem(412, "The placement has changed", "read it again and resend the change",
                      type_=problem_type("precondition-failed"))


async def end_placement(reg: Registry, institution: str, placement_id: str, doc: PlacementEndIn) -> tuple[int, Any]:
    async with reg.pool.acquire() as conn, conn.transaction():
        current = await store.claim(conn, "placement", placement_id, institution)
        if current is None:
            raise store.not_found("placement")
        body = orjson.loads(current["body"])
        if current["ended_on"] is not None:
            if current["ended_on"] == doc.ended_on and body.get("end_reason") == doc.reason.value:
                return 200, current
            raise Problem(409, "The placement has already ended", f"it ended on {current['ended_on']}",
                          type_=problem_type("placement-ended"))
        if doc.ended_on < current["start_date"]:
            raise invalid([{"field": "ended_on", "message": "is before the start of the placement"}],
                           "The ending is not valid")
        event = PlacementEnded(placement_id=placement_id, student_id=current["student_id"], ended_on=doc.ended_on,
                               reason=doc.reason)
        body["end_reason"] = doc.reason.value
        row = await store.update(conn, "placement", placement_id, body, {"ended_on": doc.ended_on}, [event],
                                 producer=reg.producer, source=reg.source)
        await _revision(conn, row, "ended", event)
        REGISTRY_CHANGES.labels("placement_ended").inc()
        return 200, row


async def end_enrolment(reg: Registry, institution: str, student_id: str, academic_year: str,
                        doc: EnrolmentEndIn) -> tuple[int, Any]:
    """End an enrolment (EnrolmentEnded): the ending is kept in the enrolment's body."""
    eid = enrolment_id(student_id, academic_year)
    async with reg.pool.acquire() as conn, conn.transaction():
        current = await store.claim(conn, "enrolment", eid, institution)
        if current is None:
            raise store.not_found("enrolment")
        body = orjson.loads(current["body"])
        if body.get("ended_on") is not None:
            if body["ended_on"] == doc.ended_on.isoformat() and body.get("end_reason") == doc.reason.value:
                return 200, current
            raise _enrolment_ended(body["ended_on"])
        if doc.ended_on < year_start(academic_year):
            raise invalid([{"field": "ended_on", "message": "is before the start of the academic year"}],
                           "The ending is not valid")
        event = EnrolmentEnded(student_id=student_id, programme_id=current["programme_id"],
                               academic_year=academic_year, ended_on=doc.ended_on, reason=doc.reason)
        body.update(ended_on=doc.ended_on.isoformat(), end_reason=doc.reason.value)
        row = await store.update(conn, "enrolment", eid, body, {}, [event], producer=reg.producer, source=reg.source)
        REGISTRY_CHANGES.labels("enrolment_ended").inc()
        return 200, row
