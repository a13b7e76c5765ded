"""The mentor's reason of a rejection on the entry (issue 11): `apply_decision` stores the reason and
comment with the rejection and clears them when the entry is confirmed, the decision reversed or the
student corrects the entry; a redelivered rejection changes nothing; the student's reads return it."""

from __future__ import annotations

from datetime import timedelta

from werkplek_events import TimeEntryConfirmed, TimeEntryDecisionReversed, TimeEntryRejected

from .conftest import apply_decision, entry, idem

COMMENT = "Je was die dag op opleiding, niet bij ons."


async def _logged(api, cohort, days=1):
    body = entry(cohort.placement, cohort.start + timedelta(days=days))
    r = await api.post("/v1/me/entries", json=body, headers={**cohort.student_auth, **idem()})
    assert r.status_code == 201, r.text
    return body["entry_id"]


async def _decide(api, cohort, eid, cls, **extra):
    event = cls(entry_id=eid, student_id=cohort.student, placement_id=cohort.placement, mentor_id=cohort.mentor,
                **extra)
    return await apply_decision(api.app.state.ledger.pool, event), event


async def _stored(pg, eid):
    row = await pg.fetchrow("SELECT decision, rejection_reason, rejection_comment, version FROM pl_entry"
                            " WHERE entry_id = $1::uuid", eid)
    return row["decision"], row["rejection_reason"], row["rejection_comment"], row["version"]


async def test_a_rejection_keeps_the_reason_and_the_reads_return_it(api, cohort, pg):
    eid = await _logged(api, cohort)
    effect, event = await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="not_at_workplace",
                                  comment=COMMENT)
    assert effect == "applied"
    decision, reason, comment, version = await _stored(pg, eid)
    assert (decision, reason, comment) == ("rejected", "not_at_workplace", COMMENT)
    assert await apply_decision(api.app.state.ledger.pool, event) == "duplicate"  # redelivered
    assert await _stored(pg, eid) == (decision, reason, comment, version)
    assert await pg.fetchval("SELECT reason FROM pl_entry_decision WHERE event_id = $1", event.event_id) == reason

    one = (await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)).json()
    assert one["status"] == "rejected"
    assert one["rejection"] == {"reason": "not_at_workplace", "comment": COMMENT}
    listed = await api.get("/v1/me/entries", params={"status": "rejected"}, headers=cohort.student_auth)
    assert [(e["entry_id"], e["rejection"]) for e in listed.json()["items"]] == [(eid, one["rejection"])]


async def test_a_rejection_without_comment_has_an_empty_comment(api, cohort):
    eid = await _logged(api, cohort)
    await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="duplicate")
    got = (await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)).json()
    assert got["rejection"] == {"reason": "duplicate", "comment": ""}


async def test_a_reversal_and_a_confirmation_clear_the_reason(api, cohort, pg):
    eid = await _logged(api, cohort)
    await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="wrong_hours", comment="Tot 15 u.")
    effect, _ = await _decide(api, cohort, eid, TimeEntryDecisionReversed, reversed="rejected")
    assert effect == "applied"
    assert (await _stored(pg, eid))[:3] == ("pending", None, None)
    assert (await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)).json()["rejection"] is None
    await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="wrong_date")
    assert (await _stored(pg, eid))[:3] == ("rejected", "wrong_date", "")
    await _decide(api, cohort, eid, TimeEntryDecisionReversed, reversed="rejected")
    await _decide(api, cohort, eid, TimeEntryConfirmed, entry_revision=1)
    assert (await _stored(pg, eid))[:3] == ("confirmed", None, None)
    got = (await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)).json()
    assert got["status"] == "confirmed" and got["rejection"] is None


async def test_a_correction_clears_the_reason_and_an_old_rejection_stays_stale(api, cohort, pg):
    eid = await _logged(api, cohort)
    await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="wrong_hours", comment="Tot 15 u.")
    got = await api.get(f"/v1/me/entries/{eid}", headers=cohort.student_auth)
    r = await api.patch(f"/v1/me/entries/{eid}", json={"duration_minutes": 45},
                        headers={**cohort.student_auth, "If-Match": got.headers["etag"]})
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["rejection"] is None
    assert (await _stored(pg, eid))[:3] == ("pending", None, None)
    # a rejection of the revision the student already corrected changes nothing
    stale, _ = await _decide(api, cohort, eid, TimeEntryRejected, entry_revision=1, reason="other", comment="x")
    assert stale == "stale"
    assert (await _stored(pg, eid))[:3] == ("pending", None, None)
