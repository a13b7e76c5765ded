"""Corrections and withdrawals: If-Match/ETag (428, 412), a new revision each time (the ledger is
append-only), and a confirmed entry is immutable (409 with the reason)."""

from __future__ import annotations

from datetime import timedelta

from werkplek_events import TimeEntryConfirmed, TimeEntryDecisionReversed, TimeEntryRejected

from .conftest import apply_decision, entry, idem


async def _logged(api, cohort, **over):
    body = entry(cohort.placement, cohort.start + timedelta(days=1), **over)
    r = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
    assert r.status_code == 201, r.text
    return body["entry_id"], r.headers["etag"]


async def test_patch_without_if_match_is_428(api, cohort, pg):
    eid, _ = await _logged(api, cohort)
    r = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 90}, headers=cohort.student_auth)
    assert r.status_code == 428 and r.json()["errors"][0]["field"] == "header.If-Match"
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE entry_id = $1::uuid", eid) == 1


async def test_patch_with_a_stale_etag_is_412(api, cohort, pg):
    eid, tag = await _logged(api, cohort)
    ok = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 90},
                         headers={**cohort.student_auth, "If-Match": tag})
    assert ok.status_code == 200 and ok.headers["etag"] != tag
    stale = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 30},
                            headers={**cohort.student_auth, "If-Match": tag})
    assert stale.status_code == 412 and stale.headers["etag"] == ok.headers["etag"]
    assert (await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)).json()["duration_minutes"] == 90


async def test_a_correction_is_a_new_revision_and_event(api, cohort, pg, pl_settings):
    eid, tag = await _logged(api, cohort)
    r = await api.patch(f"/v1/me/entries/{eid}", json={"start_time": "09:00", "end_time": "11:30"},
                        headers={**cohort.student_auth, "If-Match": tag})
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == 2 and r.json()["duration_minutes"] == 150
    revisions = await pg.fetch("SELECT revision, kind, duration_minutes FROM pl_entry_revision"
                               " WHERE entry_id = $1::uuid ORDER BY revision", eid)
    assert [(x["revision"], x["kind"], x["duration_minutes"]) for x in revisions] == [(1, "logged", 60),
                                                                                       (2, "corrected", 150)]
    topics = await pg.fetch("SELECT topic FROM outbox WHERE producer = $1 AND key = $2::bytea ORDER BY id",
                            pl_settings.outbox_producer, cohort.student.encode())
    assert [t["topic"] for t in topics][-2:] == ["placement.time_entry.logged.v1", "placement.time_entry.corrected.v1"]


async def test_an_invalid_correction_changes_nothing(api, cohort, pg):
    eid, tag = await _logged(api, cohort)
    r = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 0, "work_date": "2099-01-01"},
                        headers={**cohort.student_auth, "If-Match": tag})
    assert r.status_code == 422 and {e["field"] for e in r.json()["errors"]} == {"duration_minutes", "work_date"}
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE entry_id = $1::uuid", eid) == 1


async def _decide(api, cohort, eid, cls, **extra):
    event = cls(entry_id=eid, student_id=cohort.student, placement_id=cohort.placement, mentor_id=cohort.mentor,
                **extra)
    return await apply_decision(api.app.state.ledger.pool, event), event


async def test_a_confirmed_entry_is_immutable(api, cohort, pg):
    eid, _ = await _logged(api, cohort)
    effect, event = await _decide(api, cohort, eid, TimeEntryConfirmed, entry_revision=1)
    assert effect == "applied"
    assert (await apply_decision(api.app.state.ledger.pool, event)) == "duplicate"  # idempotent by event_id
    current = await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)
    assert current.json()["status"] == "confirmed"
    tag = current.headers["etag"]
    patch = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 30},
                            headers={**cohort.student_auth, "If-Match": tag})
    assert patch.status_code == 409 and patch.json()["reason"] == "confirmed" and "immutable" in patch.json()["detail"]
    gone = await api.delete(f"/v1/me/entries/{eid}", headers=cohort.student_auth)
    assert gone.status_code == 409
    assert await pg.fetchval("SELECT count(*) FROM pl_entry_revision WHERE entry_id = $1::uuid", eid) == 1
    effect, _ = await _decide(api, cohort, eid, TimeEntryDecisionReversed, reversed="confirmed")
    assert effect == "applied"
    tag = (await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)).headers["etag"]
    assert (await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 30},
                            headers={**cohort.student_auth, "If-Match": tag})).status_code == 200


async def test_a_rejected_entry_can_be_corrected_and_is_pending_again(api, cohort):
    eid, _ = await _logged(api, cohort)
    await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="wrong_hours")
    got = await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)
    assert got.json()["status"] == "rejected"
    r = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 45},
                        headers={**cohort.student_auth, "If-Match": got.headers["etag"]})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    stale, _ = await _decide(api, cohort, eid, TimeEntryConfirmed, entry_revision=1)  # the mentor saw revision 1
    assert stale == "stale"


async def test_withdraw_is_a_revision_and_frees_the_day(api, cohort, pg):
    eid, tag = await _logged(api, cohort, duration_minutes=24 * 60)
    r = await api.delete(f"/v1/me/entries/{eid}", headers={**cohort.student_auth, "If-Match": tag})
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["revision"] == 2
    kinds = await pg.fetch("SELECT kind FROM pl_entry_revision WHERE entry_id = $1::uuid ORDER BY revision", eid)
    assert [k["kind"] for k in kinds] == ["logged", "withdrawn"]
    again = await _logged(api, cohort, duration_minutes=24 * 60)  # the withdrawn hours no longer count
    assert again
    listed = await api.get("/v1/me/entries", params={"status": "withdrawn"}, headers=cohort.student_auth)
    assert [e["entry_id"] for e in listed.json()["items"]] == [eid]


async def test_list_is_keyset_paginated_and_filtered(api, cohort):
    items = [entry(cohort.placement, cohort.start + timedelta(days=i)) for i in range(7)]
    r = await api.post("/v1/me/entries/batch", json={"entries": items}, headers={**cohort.student_auth, **idem()})
    assert r.json()["accepted"] == 7
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await api.get("/v1/me/entries", params=params, headers=cohort.student_auth)).json()
        seen += [e["entry_id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [i["entry_id"] for i in items]
    window = await api.get("/v1/me/entries", params={"from": items[2]["work_date"], "to": items[3]["work_date"],
                                                     "placement_id": cohort.placement, "status": "pending"},
                           headers=cohort.student_auth)
    assert [e["entry_id"] for e in window.json()["items"]] == [items[2]["entry_id"], items[3]["entry_id"]]
    bad = await api.get("/v1/me/entries", params={"cursor": "!!"}, headers=cohort.student_auth)
    assert bad.status_code == 400
