"""Tenant isolation by construction: a student belongs to the institution that enrolled them first.
The hijack that leaked five of 560 attacks (X enrols Y's student for a later year with one of X's
programmes, agrees a placement, then reads the student's share) is refused at its first step; a
student's token must name the registry's institution; a transfer needs both coordinators."""

from __future__ import annotations

from prometheus_client import REGISTRY
from werkplek_common.auth import Role

from .conftest import bearer, entry, idem, make_cohort, new_id, placement_doc

ENROL = {"phase": 1, "status": "regular", "age_band": "21_to_25"}


def refusals(kind: str, via: str) -> float:
    return REGISTRY.get_sample_value("werkplek_tenant_refusals_total", {"kind": kind, "via": via}) or 0.0


async def test_the_enrolment_hijack_is_refused_at_its_first_step(api, pl_settings, cohort, pg):
    victim = cohort  # institution Y and its student
    attacker = await make_cohort(api, pl_settings)  # institution X, with programmes, workplaces, mentors
    before = refusals("student", "path")
    hijack = await api.put(f"/v1/enrolments/{victim.student}/2027-2028",
                           json={"programme_id": attacker.programme, **ENROL}, headers=attacker.coordinator)
    assert hijack.status_code == 404, hijack.text
    assert hijack.headers["content-type"] == "application/problem+json"
    assert hijack.json()["title"] == "No such student"
    assert refusals("student", "path") == before + 1
    assert await pg.fetchval("SELECT count(*) FROM pl_enrolment WHERE student_id = $1", victim.student) == 1
    assert await pg.fetchval("SELECT institution_id FROM pl_student WHERE student_id = $1",
                             victim.student) == victim.institution

    # the later steps fail on their own too: no placement, no share, no view of the victim's terms
    placed = await api.put(f"/v1/placements/{new_id('pl')}", headers=attacker.coordinator,
                           json={**placement_doc(victim.student, attacker.workplace, attacker.mentor, attacker.start,
                                                 attacker.end), "academic_year": "2027-2028"})
    assert placed.status_code == 422 and "student_id" in {e["field"] for e in placed.json()["errors"]}
    await pg.execute("INSERT INTO pl_share_view (student_id, programme_id, version, status, real_share, body)"
                     " VALUES ($1, $2, 1, 'on_track', 0.5, '{}') ON CONFLICT (student_id) DO NOTHING",
                     victim.student, victim.programme)
    shares = await api.get("/v1/shares", params={"limit": 500}, headers=attacker.coordinator)
    assert victim.student not in {s["student_id"] for s in shares.json()["items"]}
    own = await api.get("/v1/shares", params={"limit": 500}, headers=victim.coordinator)
    assert victim.student in {s["student_id"] for s in own.json()["items"]}
    mine = await api.get(f"/v1/enrolments/{victim.student}/2026-2027", headers=victim.coordinator)
    assert mine.json()["body"]["programme_id"] == victim.programme  # Y's view did not switch


async def test_a_students_token_must_name_the_registrys_institution(api, pl_settings, cohort):
    other = new_id("inst")
    before = refusals("student", "token")
    wrong = bearer(pl_settings, Role.STUDENT, cohort.student, other)
    for method, path in (("GET", "/v1/me/entries"), ("GET", "/v1/me/share"), ("POST", "/v1/me/entries")):
        r = await api.request(method, path, json=entry(cohort.placement, cohort.start), headers={**wrong, **idem()})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["errors"] == [{"field": "token.werkplek_institution", "message": "differs from the registry's"}]
    assert refusals("student", "token") == before + 3
    missing = bearer(pl_settings, Role.STUDENT, cohort.student)
    r = await api.get("/v1/me/entries", headers=missing)
    assert r.status_code == 401 and r.json()["errors"][0]["field"] == "token.werkplek_institution"
    ok = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start),
                        headers={**cohort.student_auth, **idem()})
    assert ok.status_code == 201, ok.text


async def test_a_transfer_needs_both_coordinators(api, pl_settings, cohort, pg):
    here, there = cohort, await make_cohort(api, pl_settings)
    student = here.student
    nobody = bearer(pl_settings, Role.COORDINATOR, "c-3", new_id("inst"))
    # the receiving institution cannot take the student, nor can a third one see anything
    assert (await api.put(f"/v1/students/{student}/transfer/acceptance", headers=there.coordinator)).status_code == 404
    assert (await api.get(f"/v1/students/{student}", headers=there.coordinator)).status_code == 404
    offer = await api.put(f"/v1/students/{student}/transfer", json={"to_institution_id": there.institution},
                          headers=here.coordinator)
    assert offer.status_code == 201, offer.text
    assert offer.json()["transfer"]["to_institution_id"] == there.institution
    again = await api.put(f"/v1/students/{student}/transfer", json={"to_institution_id": there.institution},
                          headers=here.coordinator)
    assert again.status_code == 200
    assert (await api.get(f"/v1/students/{student}/transfer", headers=there.coordinator)).status_code == 200
    assert (await api.get(f"/v1/students/{student}/transfer", headers=nobody)).status_code == 404
    assert (await api.put(f"/v1/students/{student}/transfer/acceptance", headers=nobody)).status_code == 404
    assert (await api.put(f"/v1/students/{student}/transfer/acceptance", headers=here.coordinator)).status_code == 404
    assert await pg.fetchval("SELECT institution_id FROM pl_student WHERE student_id = $1", student) == here.institution

    accepted = await api.put(f"/v1/students/{student}/transfer/acceptance", headers=there.coordinator)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["institution_id"] == there.institution and accepted.json()["transfer"] is None
    assert await pg.fetchval("SELECT count(*) FROM pl_student_transfer_log WHERE student_id = $1", student) == 1

    # from now on the receiving institution enrols the student; the former one only ends what it had
    enrolled = await api.put(f"/v1/enrolments/{student}/2027-2028", json={"programme_id": there.programme, **ENROL},
                             headers=there.coordinator)
    assert enrolled.status_code == 201, enrolled.text
    refused = await api.put(f"/v1/enrolments/{student}/2027-2028", json={"programme_id": here.programme, **ENROL},
                            headers=here.coordinator)
    assert refused.status_code == 404
    ended = await api.put(f"/v1/enrolments/{student}/2026-2027/ending", headers=here.coordinator,
                          json={"ended_on": "2026-12-01", "reason": "transferred"})
    assert ended.status_code == 200, ended.text
    assert (await api.get("/v1/me/entries", headers=here.student_auth)).status_code == 403  # the old claim
    token = bearer(pl_settings, Role.STUDENT, student, there.institution)
    assert (await api.get("/v1/me/entries", headers=token)).status_code == 200


async def test_an_institution_cannot_offer_a_student_to_itself_or_offer_anothers(api, pl_settings, cohort):
    other = await make_cohort(api, pl_settings)
    own = await api.put(f"/v1/students/{cohort.student}/transfer", json={"to_institution_id": cohort.institution},
                        headers=cohort.coordinator)
    assert own.status_code == 422 and own.json()["errors"][0]["field"] == "to_institution_id"
    theirs = await api.put(f"/v1/students/{other.student}/transfer", json={"to_institution_id": cohort.institution},
                           headers=cohort.coordinator)
    assert theirs.status_code == 404
    too_long = await api.put(f"/v1/students/{cohort.student}/transfer", json={"to_institution_id": "i" * 50},
                             headers=cohort.coordinator)
    assert too_long.status_code == 422
