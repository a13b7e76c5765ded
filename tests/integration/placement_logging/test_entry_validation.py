"""Every validation rule of a time entry: a problem document naming every field at fault, and
nothing stored (no entry, no revision, no outbox event, no Idempotency-Key record)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from werkplek_common.auth import Role

from .conftest import bearer, entry, idem, make_cohort, new_id

PROBLEM = "application/problem+json"


async def _nothing_stored(pg, cohort, producer: str) -> None:
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 0
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE student_id = $1", cohort.student) == 0
    assert await pg.fetchval("SELECT count(*) FROM pl_idempotency WHERE principal = $1", cohort.student) == 0
    assert await pg.fetchval("SELECT count(*) FROM outbox WHERE producer = $1 AND key = $2::bytea"
                             " AND topic LIKE 'placement.time_entry.%'", producer, cohort.student.encode()) == 0


async def _refused(api, cohort, body, fields: set[str]) -> dict:
    r = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    doc = r.json()
    assert doc["status"] == 422 and doc["type"].endswith("/entry-invalid") and doc["title"]
    assert {e["field"] for e in doc["errors"]} == fields, doc
    assert all(e["message"] for e in doc["errors"])
    return doc


async def test_entry_before_the_placement_period(api, cohort, pg, pl_settings):
    await _refused(api, cohort, entry(cohort.placement, cohort.start - timedelta(days=1)), {"work_date"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_entry_on_an_ended_placement(api, cohort, pg, pl_settings):
    ended = date.today() - timedelta(days=10)
    r = await api.put(f"/v1/placements/{cohort.placement}/ending", json={"ended_on": ended.isoformat(),
                      "reason": "terminated_early"}, headers=cohort.coordinator)
    assert r.status_code == 200, r.text
    doc = await _refused(api, cohort, entry(cohort.placement, ended + timedelta(days=1)), {"placement_id", "work_date"})
    assert "ended" in doc["detail"]
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_entry_in_the_future(api, cohort, pg, pl_settings):
    await _refused(api, cohort, entry(cohort.placement, date.today() + timedelta(days=2)), {"work_date"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


@pytest.mark.parametrize("minutes", [0, -30])
async def test_duration_not_positive(api, cohort, pg, pl_settings, minutes):
    await _refused(api, cohort, entry(cohort.placement, cohort.start, duration_minutes=minutes), {"duration_minutes"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_more_than_24_hours_on_one_day_across_entries(api, cohort, pg, pl_settings):
    day = cohort.start + timedelta(days=1)
    ok = await api.post("/v1/me/entries", json=entry(cohort.placement, day, duration_minutes=20 * 60),
                        headers={**cohort.student_auth, **idem()})
    assert ok.status_code == 201
    before = await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE student_id = $1", cohort.student)
    doc = await _refused(api, cohort, entry(cohort.placement, day, duration_minutes=5 * 60), {"duration_minutes"})
    assert "1500 minutes" in doc["detail"]
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE student_id = $1", cohort.student) == before


async def test_overlapping_times_with_another_entry(api, cohort, pg, pl_settings):
    day = cohort.start + timedelta(days=2)
    ok = await api.post("/v1/me/entries", json=entry(cohort.placement, day, start_time="08:00", end_time="12:00",
                                                     duration_minutes=None), headers={**cohort.student_auth, **idem()})
    assert ok.status_code == 201, ok.text
    await _refused(api, cohort, entry(cohort.placement, day, start_time="11:30", end_time="13:00",
                                      duration_minutes=None), {"start_time", "end_time"})
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 1


async def test_unknown_placement(api, cohort, pg, pl_settings):
    await _refused(api, cohort, entry(new_id("pl"), cohort.start), {"placement_id"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_placement_of_another_student_looks_unknown(api, cohort, pg, pl_settings):
    other = await make_cohort(api, pl_settings, cohort.institution)
    theirs = await _refused(api, cohort, entry(other.placement, cohort.start), {"placement_id"})
    unknown = await _refused(api, cohort, entry(new_id("pl"), cohort.start), {"placement_id"})
    assert theirs["errors"] == unknown["errors"]  # existence is not revealed
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_every_field_at_fault_is_named_in_one_document(api, cohort, pg, pl_settings):
    body = entry(cohort.placement, date.today() + timedelta(days=400), duration_minutes=0, outcome_ids=["LO9"])
    await _refused(api, cohort, body, {"work_date", "duration_minutes", "outcome_ids"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_shape_errors_name_every_field(api, cohort, pg, pl_settings):
    body = {"entry_id": "not-a-uuid", "placement_id": cohort.placement, "work_date": "yesterday",
            "activity": "sleeping", "surprise": 1}
    await _refused(api, cohort, body, {"entry_id", "work_date", "activity", "surprise"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_entry_id_must_be_uuid7(api, cohort, pg, pl_settings):
    body = entry(cohort.placement, cohort.start, entry_id="8d3c9f6e-6e1a-4c3f-9b7a-2f1e0c4d5a6b")
    await _refused(api, cohort, body, {"entry_id"})
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_batch_judges_each_item_and_stores_only_the_valid_ones(api, cohort, pg, pl_settings):
    day = cohort.start + timedelta(days=5)
    items = [entry(cohort.placement, day, duration_minutes=600), entry(cohort.placement, day, duration_minutes=0),
             entry(cohort.placement, day, duration_minutes=900),  # 1500 with the first: over 24 h
             {"entry_id": "x"}, entry(cohort.placement, day + timedelta(days=1), duration_minutes=120)]
    items.append(items[0])  # the phone sent the first one twice
    r = await api.post("/v1/me/entries/batch", json={"entries": items}, headers={**cohort.student_auth, **idem()})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert [x["status"] for x in doc["results"]] == [201, 422, 422, 422, 201, 200]
    assert doc["accepted"] == 3 and doc["refused"] == 3
    assert doc["results"][2]["problem"]["errors"][0]["field"] == "duration_minutes"
    assert await pg.fetchval("SELECT count(*) FROM pl_entry WHERE student_id = $1", cohort.student) == 2


async def test_batch_of_more_than_500_is_refused(api, cohort, pg, pl_settings):
    items = [entry(cohort.placement, cohort.start) for _ in range(501)]
    r = await api.post("/v1/me/entries/batch", json={"entries": items}, headers={**cohort.student_auth, **idem()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "entries"
    await _nothing_stored(pg, cohort, pl_settings.outbox_producer)


async def test_a_student_logs_only_with_the_student_role(api, cohort, pl_settings):
    coord = bearer(pl_settings, Role.COORDINATOR, "c-1", cohort.institution)
    r = await api.post("/v1/me/entries", json=entry(cohort.placement, cohort.start), headers={**coord, **idem()})
    assert r.status_code == 403
