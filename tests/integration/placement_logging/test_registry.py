"""The registry: each change stores the row and stages its contract event in one transaction; the same
terms again change nothing; amend carries complete terms; an ended placement cannot be amended."""

from __future__ import annotations

from werkplek_events import decode

from .conftest import make_cohort, new_id, placement_doc


async def _events(pg, producer: str, key: str) -> list:
    rows = await pg.fetch("SELECT topic, value, headers FROM outbox WHERE producer = $1 AND key = $2::bytea"
                          " ORDER BY id", producer, key.encode())
    import json

    return [decode(r["topic"], r["value"], [(k, v.encode()) for k, v in json.loads(r["headers"])]) for r in rows]


async def test_cohort_emits_one_contract_event_per_change(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    student_events = await _events(pg, pl_settings.outbox_producer, c.student)
    assert [type(e).__name__ for e in student_events] == ["StudentEnrolled", "PlacementAgreed"]
    agreed = student_events[1]
    assert agreed.programme_id == c.programme and agreed.institution_id == c.institution and agreed.phase == 1
    assert agreed.continuum.learning_environment == 5 and len(agreed.learning_agreement.outcomes) == 3
    for key, name in ((c.programme, "ProgrammeRegistered"), (c.workplace, "WorkplaceRegistered"),
                      (c.mentor, "MentorRegistered")):
        assert [type(e).__name__ for e in await _events(pg, pl_settings.outbox_producer, key)] == [name]
    mentor = (await _events(pg, pl_settings.outbox_producer, c.mentor))[0]
    assert mentor.webhook_source == "sim-tool-1" and mentor.trained


async def test_same_terms_again_change_nothing_and_amend_emits_complete_terms(api, pl_settings, pg):
    c = await make_cohort(api, pl_settings)
    doc = placement_doc(c.student, c.workplace, c.mentor, c.start, c.end)
    same = await api.put(f"/v1/placements/{c.placement}", json=doc, headers=c.coordinator)
    assert same.status_code == 200 and same.json()["version"] == 1
    tag = same.headers["etag"]
    doc["planned_minutes"] = 700 * 60
    stale = await api.put(f"/v1/placements/{c.placement}", json=doc, headers={**c.coordinator, "If-Match": '"9"'})
    assert stale.status_code == 412
    amended = await api.put(f"/v1/placements/{c.placement}", json={**doc, "reason": "more hours"},
                            headers={**c.coordinator, "If-Match": tag})
    assert amended.status_code == 200 and amended.json()["version"] == 2
    events = await _events(pg, pl_settings.outbox_producer, c.student)
    assert [type(e).__name__ for e in events] == ["StudentEnrolled", "PlacementAgreed", "PlacementAmended"]
    assert events[-1].planned_minutes == 700 * 60 and events[-1].reason == "more hours"
    moved = await api.put(f"/v1/placements/{c.placement}", json={**doc, "student_id": new_id("stu")},
                          headers=c.coordinator)
    assert moved.status_code == 422 and {e["field"] for e in moved.json()["errors"]} >= {"student_id"}
    ended = await api.put(f"/v1/placements/{c.placement}/ending", json={"ended_on": c.end.isoformat(),
                          "reason": "completed"}, headers=c.coordinator)
    assert ended.status_code == 200
    again = await api.put(f"/v1/placements/{c.placement}/ending", json={"ended_on": c.end.isoformat(),
                          "reason": "completed"}, headers=c.coordinator)
    assert again.status_code == 200 and again.json()["version"] == ended.json()["version"]
    late = await api.put(f"/v1/placements/{c.placement}", json={**doc, "planned_minutes": 1}, headers=c.coordinator)
    assert late.status_code == 409
    kinds = await pg.fetch("SELECT kind FROM pl_placement_revision WHERE placement_id = $1 ORDER BY version",
                           c.placement)
    assert [k["kind"] for k in kinds] == ["agreed", "amended", "ended"]
    events = await _events(pg, pl_settings.outbox_producer, c.student)
    assert type(events[-1]).__name__ == "PlacementEnded" and len(events) == 4


async def test_invalid_placement_names_every_field(api, pl_settings, pg, cohort):
    doc = placement_doc(new_id("stu"), new_id("wp"), new_id("m"), cohort.end, cohort.start)
    r = await api.put(f"/v1/placements/{new_id('pl')}", json=doc, headers=cohort.coordinator)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"student_id", "academic_year", "workplace_id", "mentor_id",
                                                        "end_date"}


async def test_enrolment_in_an_unknown_programme_is_refused(api, cohort):
    r = await api.put(f"/v1/enrolments/{new_id('stu')}/2026-2027", json={"programme_id": new_id("prog"),
                      "phase": 1, "status": "side_entrant", "age_band": "over_25"}, headers=cohort.coordinator)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "programme_id"
