"""The registry routes that feed the funding reports: credits per enrolment and year, pilots, and the
enrolment's pilot and year of entry, a workplace's NACE section. Idempotent PUTs, problem documents
naming every field at fault, another institution's ids answer 404, one contract event per change."""

from __future__ import annotations

import json

from werkplek_common.auth import Role
from werkplek_events import decode

from .conftest import bearer, make_cohort, new_id

YEAR = "2026-2027"


async def events(pg, producer: str, key: str) -> list:
    rows = await pg.fetch("SELECT topic, value, headers FROM outbox WHERE producer = $1 AND key = $2::bytea"
                          " ORDER BY id", producer, key.encode())
    return [decode(r["topic"], r["value"], [(k, v.encode()) for k, v in json.loads(r["headers"])]) for r in rows]


def fields(response) -> set[str]:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {e["field"] for e in response.json()["errors"]}


def pilot_doc(programme: str, workplace: str, **over: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "name": "Proeftuin duaal zorg", "programme_ids": [programme],
        "partners": [{"name": "AZ Sint-Jan", "kind": "workplace", "workplace_id": workplace},
                     {"name": "Zorgnet-Icuro", "kind": "sector_organisation"}],
        "start_date": "2026-09-01", "end_date": "2028-08-31",
        "budget": [{"academic_year": "2026-2027", "amount_eur": "120000.00"},
                   {"academic_year": "2027-2028", "amount_eur": "95000.50"}]}
    doc.update(over)
    return doc


async def test_credits_are_recorded_once_per_change(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    path = f"/v1/enrolments/{c.student}/{YEAR}/credits"
    first = await api.put(path, json={"credits_taken": 60, "credits_earned": 48}, headers=c.coordinator)
    assert first.status_code == 201, first.text
    assert first.json()["body"] == {"programme_id": c.programme, "credits_taken": 60, "credits_earned": 48}
    same = await api.put(path, json={"credits_taken": 60, "credits_earned": 48}, headers=c.coordinator)
    assert same.status_code == 200 and same.json()["version"] == 1
    changed = await api.put(path, json={"credits_taken": 60, "credits_earned": 54}, headers=c.coordinator)
    assert changed.status_code == 200 and changed.json()["version"] == 2
    got = await api.get(path, headers=c.coordinator)
    assert got.status_code == 200 and got.json()["body"]["credits_earned"] == 54
    recorded = [e for e in await events(pg, pl_settings.outbox_producer, c.student) if type(e).__name__ ==
                "CreditsRecorded"]
    assert [(e.programme_id, e.credits_taken, e.credits_earned) for e in recorded] == [
        (c.programme, 60, 48), (c.programme, 60, 54)]


async def test_bad_credits_answer_a_problem_naming_the_field(api, pl_settings, cohort):
    path = f"/v1/enrolments/{cohort.student}/{YEAR}/credits"
    above = await api.put(path, json={"credits_taken": 30, "credits_earned": 31}, headers=cohort.coordinator)
    assert above.status_code == 422 and fields(above) == {"credits_earned"}
    too_many = await api.put(path, json={"credits_taken": 130, "credits_earned": 0}, headers=cohort.coordinator)
    assert too_many.status_code == 422 and fields(too_many) == {"credits_taken"}  # the programme has 120 ECTS
    negative = await api.put(path, json={"credits_taken": -1, "credits_earned": 0}, headers=cohort.coordinator)
    assert negative.status_code == 422 and fields(negative) == {"body.credits_taken"}
    nobody = await api.put(f"/v1/enrolments/{new_id('stu')}/{YEAR}/credits",
                           json={"credits_taken": 30, "credits_earned": 30}, headers=cohort.coordinator)
    assert nobody.status_code == 404
    other = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    assert (await api.put(path, json={"credits_taken": 30, "credits_earned": 30}, headers=other)).status_code == 404
    assert (await api.get(path, headers=cohort.coordinator)).status_code == 404  # nothing was stored


async def test_credits_follow_an_enrolment_moved_to_another_programme(api, pl_settings, pg, cohort):
    path = f"/v1/enrolments/{cohort.student}/{YEAR}/credits"
    credits = {"credits_taken": 60, "credits_earned": 40}
    assert (await api.put(path, json=credits, headers=cohort.coordinator)).status_code == 201
    other = new_id("prog")
    r = await api.put(f"/v1/programmes/{other}", json={"name": "Graduaat Orthopedagogie", "level": "graduaat",
                                                      "ects": 120, "phases": 2}, headers=cohort.coordinator)
    assert r.status_code == 201
    moved = await api.put(f"/v1/enrolments/{cohort.student}/{YEAR}", json={
        "programme_id": other, "phase": 1, "status": "regular", "age_band": "under_21", "dual_track": True},
        headers=cohort.coordinator)
    assert moved.status_code == 200 and moved.json()["body"]["programme_id"] == other
    again = await api.put(path, json=credits, headers=cohort.coordinator)  # the same numbers, now for the new one
    assert again.status_code == 200 and again.json()["version"] == 2
    kinds = [(type(e).__name__, e.programme_id) for e in await events(pg, pl_settings.outbox_producer, cohort.student)
             if type(e).__name__ in ("StudentEnrolled", "CreditsRecorded")]
    assert kinds == [("StudentEnrolled", cohort.programme), ("CreditsRecorded", cohort.programme),
                     ("StudentEnrolled", other), ("CreditsRecorded", other)]


async def test_a_pilot_is_registered_and_trajectories_join_it(api, pl_settings, pg, cohort):
    pilot = new_id("pilot")
    r = await api.put(f"/v1/pilots/{pilot}", json=pilot_doc(cohort.programme, cohort.workplace),
                      headers=cohort.coordinator)
    assert r.status_code == 201, r.text
    assert (await api.put(f"/v1/pilots/{pilot}", json=pilot_doc(cohort.programme, cohort.workplace),
                          headers=cohort.coordinator)).json()["version"] == 1
    [registered] = await events(pg, pl_settings.outbox_producer, pilot)
    assert registered.programme_ids == [cohort.programme] and len(registered.partners) == 2
    assert [str(b.amount_eur) for b in registered.budget] == ["120000.00", "95000.50"]
    listed = await api.get("/v1/pilots", headers=cohort.coordinator)
    assert [p["id"] for p in listed.json()["items"]] == [pilot]
    joined = await api.put(f"/v1/enrolments/{cohort.student}/{YEAR}", json={
        "programme_id": cohort.programme, "phase": 1, "status": "regular", "age_band": "under_21",
        "dual_track": True, "pilot_id": pilot, "entry_year": "2025-2026"}, headers=cohort.coordinator)
    assert joined.status_code == 200, joined.text
    enrolled = [e for e in await events(pg, pl_settings.outbox_producer, cohort.student)
                if type(e).__name__ == "StudentEnrolled"]
    assert (enrolled[-1].pilot_id, enrolled[-1].entry_year) == (pilot, "2025-2026")
    other = bearer(pl_settings, Role.COORDINATOR, new_id("coord"), new_id("inst"))
    assert (await api.get(f"/v1/pilots/{pilot}", headers=other)).status_code == 404


async def test_a_pilot_without_budget_or_with_foreign_parts_is_refused(api, pl_settings, cohort):
    path = f"/v1/pilots/{new_id('pilot')}"
    no_budget = await api.put(path, json=pilot_doc(cohort.programme, cohort.workplace, budget=[]),
                              headers=cohort.coordinator)
    assert no_budget.status_code == 422 and fields(no_budget) == {"body.budget"}
    missing = pilot_doc(cohort.programme, cohort.workplace)
    del missing["budget"]
    assert fields(await api.put(path, json=missing, headers=cohort.coordinator)) == {"body.budget"}
    wrong = await api.put(path, json=pilot_doc(
        new_id("prog"), new_id("wp"), end_date="2026-08-31",
        budget=[{"academic_year": "2030-2031", "amount_eur": "1.00"}]), headers=cohort.coordinator)
    assert wrong.status_code == 422
    assert fields(wrong) == {"programme_ids[0]", "partners[0].workplace_id", "end_date", "budget[0].academic_year"}
    free = await api.put(path, json=pilot_doc(cohort.programme, cohort.workplace,
                                              budget=[{"academic_year": "2026-2027", "amount_eur": "0"}]),
                         headers=cohort.coordinator)
    assert free.status_code == 422 and fields(free) == {"body.budget.0.amount_eur"}
    assert (await api.get(path, headers=cohort.coordinator)).status_code == 404


async def test_an_enrolment_joins_only_a_pilot_of_its_programme_and_year(api, pl_settings, cohort):
    pilot = new_id("pilot")
    other = new_id("prog")
    await api.put(f"/v1/programmes/{other}", json={"name": "Bachelor", "level": "professional_bachelor", "ects": 180,
                                                   "phases": 3}, headers=cohort.coordinator)
    r = await api.put(f"/v1/pilots/{pilot}", json=pilot_doc(other, cohort.workplace, start_date="2027-09-01",
                                                           budget=[{"academic_year": "2027-2028",
                                                                    "amount_eur": "1000.00"}]),
                      headers=cohort.coordinator)
    assert r.status_code == 201, r.text
    base = {"programme_id": cohort.programme, "phase": 1, "status": "regular", "age_band": "under_21"}
    bad = await api.put(f"/v1/enrolments/{cohort.student}/{YEAR}", json={**base, "pilot_id": pilot,
                                                                         "entry_year": "2027-2028"},
                        headers=cohort.coordinator)
    assert bad.status_code == 422 and fields(bad) == {"pilot_id", "entry_year"}
    assert {e["message"] for e in bad.json()["errors"] if e["field"] == "pilot_id"} == {
        "the pilot does not include this programme", "the pilot runs in 2027-2028"}
    unknown = await api.put(f"/v1/enrolments/{cohort.student}/{YEAR}", json={**base, "pilot_id": new_id("pilot")},
                            headers=cohort.coordinator)
    assert unknown.status_code == 422 and fields(unknown) == {"pilot_id"}


async def test_a_workplace_has_a_nace_section_and_old_terms_stay_a_no_op(api, pl_settings, pg, cohort):
    path = f"/v1/workplaces/{cohort.workplace}"
    terms = {"name": "AZ Sint-Jan", "sector": "health", "environment": "authentic"}
    assert (await api.put(path, json=terms, headers=cohort.coordinator)).json()["version"] == 1  # as before
    coded = await api.put(path, json={**terms, "sector_code": "Q"}, headers=cohort.coordinator)
    assert coded.status_code == 200 and coded.json()["version"] == 2
    last = (await events(pg, pl_settings.outbox_producer, cohort.workplace))[-1]
    assert last.sector_code is not None and last.sector_code.value == "Q"
    bad = await api.put(path, json={**terms, "sector_code": "Z"}, headers=cohort.coordinator)
    assert bad.status_code == 422 and fields(bad) == {"body.sector_code"}
