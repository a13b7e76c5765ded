"""Two institutions made through the real placement API and mirrored into mentor feedback from the
events the API staged (so both services see the same world): A, whose people attack, and B, the
other tenant; plus a second student of A with their own mentor (another student of the same
institution). Every object of a victim carries a marker in its data that no request ever sends, so
a 2xx answer that contains it has leaked another tenant's or student's data."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg
import httpx
from uuid6 import uuid7
from werkplek_common.auth import Role
from werkplek_common.devidp import mint
from werkplek_events import BY_NAME, decode
from werkplek_mentor_feedback.links import Link, make_token
from werkplek_mentor_feedback.projection import apply_event
from werkplek_mentor_feedback.sources import add_secret
from werkplek_placement_logging.config import Settings

from tests.support import dsn_of

YEAR = "2026-2027"


@dataclass
class Person:
    """One student's trajectory: their ids and who looks after them."""

    tag: str
    institution: str
    programme: str
    workplace: str
    mentor: str
    source: str
    student: str
    placement: str
    pilot: str = ""
    entry: str = ""
    secret: str = ""  # source's webhook secret
    marker: str = field(default="")

    @property
    def email(self) -> str:
        """The mentor's address; it carries the marker, so an answer that shows it has leaked it."""
        return f"{self.marker.lower()}@mentor.example"

    def ids(self) -> dict[str, str]:
        return {"programme": self.programme, "workplace": self.workplace, "mentor": self.mentor,
                "student": self.student, "placement": self.placement, "entry": self.entry,
                "institution": self.institution, "source": self.source, "pilot": self.pilot}


def person(tag: str, institution: str, programme: str | None = None) -> Person:
    short = uuid.uuid4().hex[:8]
    return Person(tag, institution, programme or f"bola-prog-{short}", f"bola-wp-{short}", f"bola-m-{short}",
                  f"bola-src-{short}", f"bola-stu-{short}", f"bola-pl-{short}", f"bola-pilot-{short}",
                  marker=f"SECRET-{tag}-{short}")


def bearer(settings: Settings, role: Role, sub: str, institution: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint(settings.data_dir, role=role, sub=sub, institution=institution)}"}


def placement_doc(p: Person, start: date, end: date) -> dict[str, Any]:
    return {"student_id": p.student, "academic_year": YEAR, "workplace_id": p.workplace, "mentor_id": p.mentor,
            "start_date": start.isoformat(), "end_date": end.isoformat(), "planned_minutes": 36000, "form": "dual",
            "continuum": dict.fromkeys(("learning_environment", "extent", "engagement", "transfer", "integration",
                                        "target_group"), 3),
            "learning_agreement": {"outcomes": [{"outcome_id": "LO1", "title": f"{p.marker} outcome", "kind": "skill",
                                                 "acquired_at": "workplace"}]}}


async def register(api: httpx.AsyncClient, settings: Settings, p: Person, with_programme: bool = True) -> None:
    coord = bearer(settings, Role.COORDINATOR, f"coord-{p.tag}", p.institution)
    start, end = date.today() - timedelta(days=30), date.today() + timedelta(days=30)
    steps: list[tuple[str, dict[str, Any]]] = [
        (f"/v1/workplaces/{p.workplace}", {"name": f"{p.marker} workplace", "sector": "care",
                                           "environment": "authentic"}),
        (f"/v1/mentors/{p.mentor}", {"workplace_id": p.workplace, "trained": True, "webhook_source": p.source}),
        (f"/v1/enrolments/{p.student}/{YEAR}", {"programme_id": p.programme, "phase": 1, "status": "regular",
                                                "age_band": "under_21"}),
        (f"/v1/placements/{p.placement}", placement_doc(p, start, end)),
    ]
    if with_programme:
        steps.insert(0, (f"/v1/programmes/{p.programme}", {"name": f"{p.marker} programme", "level": "graduaat",
                                                            "ects": 120, "phases": 2}))
    if with_programme:  # a pilot of the programme: funding's evaluation entity, owned like the rest
        steps.append((f"/v1/pilots/{p.pilot}", {
            "name": f"{p.marker} pilot", "programme_ids": [p.programme],
            "partners": [{"name": f"{p.marker} partner", "kind": "workplace", "workplace_id": p.workplace}],
            "start_date": start.isoformat(), "end_date": end.isoformat(),
            "budget": [{"academic_year": YEAR, "amount_eur": "1000.00"}]}))
    steps += [(f"/v1/mentors/{p.mentor}/contact", {"email": p.email, "language": "en"}),
              ("/v1/notification-address", {"email": f"office-{p.email}", "language": "nl"})]
    for path, body in steps:
        r = await api.put(path, json=body, headers=coord)
        assert r.status_code == 201 or (r.status_code == 200 and path == "/v1/notification-address"), (path, r.text)
    entry = {"entry_id": str(uuid7()), "placement_id": p.placement, "work_date": (date.today() - timedelta(days=1))
             .isoformat(), "duration_minutes": 90, "activity": "work", "description": f"{p.marker} entry"}
    r = await api.post("/v1/me/entries", json=entry, headers={
        **bearer(settings, Role.STUDENT, p.student, p.institution), "Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    p.entry = str(entry["entry_id"])


@dataclass
class World:
    attacker: Person  # institution A: its student, coordinator, mentor and tool attack
    other_student: Person  # another student of A, with another mentor and tool
    other_tenant: Person  # institution B
    link_token: str = ""


async def mirror_into_mentor_feedback(pl: asyncpg.Connection, conn: asyncpg.Connection, producer: str) -> None:
    """The projection applied to every event the placement API staged in this session (the worker
    would deliver them through Kafka; the rows are the same): read from placement logging's outbox,
    applied in mentor feedback's schema."""
    rows = await pl.fetch("SELECT topic, value, headers FROM outbox WHERE producer = $1 ORDER BY id", producer)
    for r in rows:
        if r["topic"] in BY_NAME:
            await apply_event(conn, decode(r["topic"], r["value"],
                                           [(k, v.encode()) for k, v in json.loads(r["headers"])]))


async def read_models(pl: asyncpg.Connection, conn: asyncpg.Connection, p: Person) -> None:
    """The read models of the share and the outcome progress (placement logging's own, and mentor
    feedback's), as their consumers would have filled them, each with the person's marker."""
    note = json.dumps({"student_id": p.student, "note": p.marker})
    await pl.execute("INSERT INTO pl_share_view (student_id, programme_id, version, status, real_share, body)"
                       " VALUES ($1, $2, 1, 'on_track', 0.5, $3::jsonb)", p.student, p.programme, note)
    await pl.execute("INSERT INTO pl_outcome_view (student_id, version, body) VALUES ($1, 1, $2::jsonb)",
                       p.student, note)
    await conn.execute("INSERT INTO outcome_progress_read_model (student_id, version, body, event_id)"
                       " VALUES ($1, 1, $2::jsonb, $3)", p.student, note, uuid.uuid4())


async def build(api: httpx.AsyncClient, settings: Settings, link_key: bytes) -> World:
    a_inst, b_inst = f"bola-inst-a-{uuid.uuid4().hex[:6]}", f"bola-inst-b-{uuid.uuid4().hex[:6]}"
    attacker = person("attacker", a_inst)
    other_student = person("other-student", a_inst, attacker.programme)
    other_tenant = person("other-tenant", b_inst)
    await register(api, settings, attacker)
    await register(api, settings, other_student, with_programme=False)
    await register(api, settings, other_tenant)
    world = World(attacker, other_student, other_tenant)
    pl = await asyncpg.connect(settings.service_dsn)
    conn = await asyncpg.connect(dsn_of(settings, "mentor_feedback"))
    try:
        await mirror_into_mentor_feedback(pl, conn, settings.outbox_producer)
        for p in (attacker, other_student, other_tenant):
            p.secret = await add_secret(conn, p.source)
            await conn.execute("UPDATE mf_sources SET institution_id = $2 WHERE source_id = $1", p.source,
                               p.institution)  # each institution's tool is its own (onboarding)
            await read_models(pl, conn, p)
        request_id = uuid.uuid4().hex
        expires = int(time.time()) + 3600
        await conn.execute("INSERT INTO mf_confirmation_requests (request_id, mentor_id, channel, entry_ids,"
                           " expires_at) VALUES ($1, $2, 'link', $3, to_timestamp($4))", request_id, attacker.mentor,
                           [uuid.UUID(attacker.entry)], expires)
        world.link_token = make_token(link_key, Link(request_id, expires))
    finally:
        await conn.close()
        await pl.close()
    return world


VICTIM_STATE = """
SELECT 'registry', id || ':' || version FROM (
  SELECT id, version, institution_id FROM pl_programme UNION ALL SELECT id, version, institution_id FROM pl_workplace
  UNION ALL SELECT id, version, institution_id FROM pl_mentor UNION ALL SELECT id, version, institution_id
  FROM pl_placement UNION ALL SELECT id, version, institution_id FROM pl_enrolment
  UNION ALL SELECT id, version, institution_id FROM pl_pilot) r WHERE institution_id = $1
UNION ALL SELECT 'enrolments', count(*)::text FROM pl_enrolment WHERE student_id = ANY($2::text[])
UNION ALL SELECT 'student', student_id || ':' || institution_id FROM pl_student WHERE student_id = ANY($2::text[])
UNION ALL SELECT 'transfer', student_id FROM pl_student_transfer WHERE student_id = ANY($2::text[])
UNION ALL SELECT 'entry', entry_id || ':' || version || ':' || decision || ':' || withdrawn FROM pl_entry
  WHERE student_id = ANY($2::text[])
UNION ALL SELECT 'mf_entry', entry_id || ':' || revision || ':' || coalesce(decision, '-') FROM mf_entries
  WHERE student_id = ANY($2::text[])
UNION ALL SELECT 'assessments', count(*)::text FROM mf_assessments WHERE student_id = ANY($2::text[])
UNION ALL SELECT 'signatures', count(*)::text FROM mf_signatures WHERE placement_id = ANY($3::text[])
UNION ALL SELECT 'contact', kind || ':' || id || ':' || version FROM pl_contact
  WHERE id = ANY($4::text[]) OR institution_id = $1
UNION ALL SELECT 'source', source_id || ':' || coalesce(endpoint_url, '-') || ':' || coalesce(retired_at::text, '-')
  || ':' || coalesce(institution_id, '-') FROM mf_sources WHERE source_id = ANY($5::text[])
UNION ALL SELECT 'source secrets', source_id || ':' || count(*) FROM mf_source_secrets
  WHERE source_id = ANY($5::text[]) GROUP BY source_id
ORDER BY 1, 2
"""


async def victim_state(conn: asyncpg.Connection, world: World) -> list[tuple[str, str]]:
    """Everything of the other tenant and of the other student that an attack could change."""
    students = [world.other_tenant.student, world.other_student.student]
    placements = [world.other_tenant.placement, world.other_student.placement]
    mentors = [world.other_tenant.mentor, world.other_student.mentor]
    sources = [world.other_tenant.source, world.other_student.source]
    rows = await conn.fetch(VICTIM_STATE, world.other_tenant.institution, students, placements, mentors, sources)
    return [(r[0], r[1]) for r in rows]
