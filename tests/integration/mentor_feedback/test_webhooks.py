"""Inbound webhooks end to end through the API and PostgreSQL: accepted messages are committed with
their events (outbox), everything refused stores nothing, a resent webhook-id is applied once."""

from __future__ import annotations

import uuid

from werkplek_events import AssessmentRecorded, LearningAgreementSigned, TimeEntryConfirmed, TimeEntryRejected

from tests.unit.mentor_feedback import factories as f

PROBLEMS = "https://werkplek.example/problems/"


def confirm(mentor: str, *ids: uuid.UUID, revision: int | None = None) -> dict:
    return {"mentor_id": mentor, "entries": [{"entry_id": str(i), **({"revision": revision} if revision else {})}
                                             for i in ids]}


def reject(mentor: str, entry_id: uuid.UUID, reason: str = "wrong_hours", comment: str = "was 3 hours") -> dict:
    return {"mentor_id": mentor, "entries": [{"entry_id": str(entry_id), "reason": reason, "comment": comment}]}


async def _nothing_stored(world, *entry_ids) -> None:
    assert await world.outbox(world.student) == []
    assert await world.outbox(world.student_b) == []
    rows = await world.pool.fetch("SELECT decision FROM mf_entries WHERE entry_id = ANY($1::uuid[])", list(entry_ids))
    assert all(r["decision"] is None for r in rows)


async def test_a_confirmation_is_committed_with_its_event(send, world):
    e1, e2 = await world.entry(), await world.entry()
    resp = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1, e2))
    assert resp.status_code == 202, resp.text
    assert [r["result"] for r in resp.json()["results"]] == ["confirmed", "confirmed"]
    events = await world.outbox(world.student)
    assert [type(e) for e in events] == [TimeEntryConfirmed, TimeEntryConfirmed]
    assert {e.entry_id for e in events} == {e1, e2}
    assert all(e.mentor_id == world.mentor_a and e.entry_revision == 1 for e in events)


async def test_the_same_webhook_id_is_applied_once_and_answered_with_the_first_result(send, world):
    e1 = await world.entry()
    first = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1), webhook_id="msg_same")
    again = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1), webhook_id="msg_same")
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["webhook-replayed"] == "true"
    assert len(await world.outbox(world.student)) == 1


async def test_bad_signature_and_stale_timestamp_are_distinguishable_401s(send, world):
    e1 = await world.entry()
    forged = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1),
                        secrets=world.secrets[world.source_b])
    stale = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1), skew=-301)
    future = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1), skew=301)
    assert forged.status_code == stale.status_code == future.status_code == 401
    assert forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["type"] == PROBLEMS + "webhook-bad-signature"
    assert stale.json()["type"] == future.json()["type"] == PROBLEMS + "webhook-stale-timestamp"
    assert (await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1), skew=-299)).status_code == 202


async def test_a_reserialised_body_is_refused(send, world, api, clock):
    e1 = await world.entry()
    body = f.message("hours.confirmed", confirm(world.mentor_a, e1))
    headers = f.signed(world.secrets[world.source_a], body, ts=int(clock.now))
    resp = await api.post(f"/webhooks/{world.source_a}", content=body.replace(b'", "', b'","'), headers=headers)
    assert resp.status_code == 401
    await _nothing_stored(world, e1)


async def test_unknown_source_is_refused(send, world, api, clock):
    body = f.message("hours.confirmed", confirm(world.mentor_a, uuid.uuid4()))
    resp = await api.post("/webhooks/no-such-source", content=body,
                          headers=f.signed(world.secrets[world.source_a], body, ts=int(clock.now)))
    assert resp.status_code == 401


async def test_malformed_json_is_400_and_schema_violations_name_the_field(send, world):
    e1 = await world.entry()
    broken = await send(world.source_a, "", {}, body=b'{"type": "hours.confirmed", "data": ')
    assert broken.status_code == 400 and broken.json()["errors"][0]["field"] == "body"
    kind = await send(world.source_a, "hours.approved", confirm(world.mentor_a, e1))
    assert kind.status_code == 422 and kind.json()["errors"][0]["field"] == "type"
    no_reason = await send(world.source_a, "hours.rejected",
                           {"mentor_id": world.mentor_a, "entries": [{"entry_id": str(e1), "reason": "lazy",
                                                                     "comment": ""}]})
    assert no_reason.status_code == 422
    assert {e["field"] for e in no_reason.json()["errors"]} == {"data.entries.0.reason", "data.entries.0.comment"}
    level = await send(world.source_a, "assessment.recorded", {
        "mentor_id": world.mentor_a, "assessment_id": f.uid("as"), "placement_id": world.pl_a, "moment": "final",
        "assessed_on": "2026-12-01", "outcomes": [{"outcome_id": "lo-1", "kind": "knowledge", "level": "great"}]})
    assert level.status_code == 422 and level.json()["errors"][0]["field"] == "data.outcomes.0.level"
    await _nothing_stored(world, e1)


async def test_unknown_entry_and_outcome_are_422(send, world):
    e1 = await world.entry()
    unknown = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1, uuid.uuid4()))
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "data.entries.1.entry_id"
    outcome = await send(world.source_a, "assessment.recorded", {
        "mentor_id": world.mentor_a, "assessment_id": f.uid("as"), "placement_id": world.pl_a, "moment": "final",
        "assessed_on": "2026-12-01", "outcomes": [{"outcome_id": "lo-1", "kind": "knowledge", "level": "achieved"},
                                                  {"outcome_id": "lo-99", "kind": "skill", "level": "achieved"}]})
    assert outcome.status_code == 422 and outcome.json()["errors"][0]["field"] == "data.outcomes.1.outcome_id"
    await _nothing_stored(world, e1)  # the known entry of the refused message was not confirmed either


async def test_authorisation_matrix(send, world):
    """source × mentor × placement: only a source bound to the mentor, for the mentor's placement."""
    own, other_placement, untooled = await world.entry(world.pl_a), await world.entry(world.pl_b), \
        await world.entry(world.pl_c)
    cases = [
        (world.source_a, world.mentor_a, other_placement, 403),  # bound mentor, not their placement
        (world.source_a, world.mentor_b, other_placement, 403),  # mentor not bound to this source
        (world.source_a, world.mentor_b, own, 403),
        (world.source_b, world.mentor_a, own, 403),
        (world.source_a, world.mentor_c, untooled, 403),  # a mentor without a tool, via someone's source
        (world.source_a, "m-nobody", own, 403),
        (world.source_b, world.mentor_b, own, 403),  # bound, but entry of another mentor's placement
    ]
    for source, mentor, entry_id, status in cases:
        resp = await send(source, "hours.confirmed", confirm(mentor, entry_id))
        assert resp.status_code == status, (source, mentor, resp.text)
        assert resp.json()["type"] == PROBLEMS + "forbidden"
    await _nothing_stored(world, own, other_placement, untooled)
    ok_a = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, own))
    ok_b = await send(world.source_b, "hours.confirmed", confirm(world.mentor_b, other_placement))
    assert ok_a.status_code == ok_b.status_code == 202


async def test_confirmed_cannot_be_rejected_without_an_explicit_reversal(send, world):
    e1 = await world.entry()
    assert (await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1))).status_code == 202
    refused = await send(world.source_a, "hours.rejected", reject(world.mentor_a, e1))
    assert refused.status_code == 409 and refused.json()["errors"][0]["field"] == "data.entries.0.entry_id"
    again = await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1))
    assert again.status_code == 202 and again.json()["results"][0]["result"] == "unchanged"
    reversed_ = await send(world.source_a, "hours.decision_reversed",
                           {"mentor_id": world.mentor_a, "entries": [{"entry_id": str(e1), "comment": "mistake"}]})
    assert reversed_.status_code == 202
    assert (await send(world.source_a, "hours.rejected", reject(world.mentor_a, e1))).status_code == 202
    assert (await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1))).status_code == 409
    kinds = [type(e).__name__ for e in await world.outbox(world.student)]
    assert kinds == ["TimeEntryConfirmed", "TimeEntryDecisionReversed", "TimeEntryRejected"]
    rejected = (await world.outbox(world.student))[-1]
    assert isinstance(rejected, TimeEntryRejected) and rejected.reason.value == "wrong_hours"


async def test_a_decision_on_a_stale_revision_conflicts_and_a_correction_reopens_the_entry(send, world):
    e1 = await world.entry()
    assert (await send(world.source_a, "hours.confirmed", confirm(world.mentor_a, e1))).status_code == 202
    corrected = f.entry(world.student, world.pl_a, revision=2)
    from werkplek_events import TimeEntryCorrected

    await world.apply(TimeEntryCorrected(**{**corrected.model_dump(), "entry_id": e1}))
    stale = await send(world.source_a, "hours.rejected", {"mentor_id": world.mentor_a, "entries": [
        {"entry_id": str(e1), "revision": 1, "reason": "wrong_hours", "comment": "x"}]})
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "data.entries.0.revision"
    fresh = await send(world.source_a, "hours.rejected", reject(world.mentor_a, e1))
    assert fresh.status_code == 202  # revision 2 is undecided: rejecting it needs no reversal
    assert (await world.outbox(world.student))[-1].entry_revision == 2


async def test_assessment_and_signature_are_recorded_once(send, world):
    assessment = {"mentor_id": world.mentor_a, "assessment_id": f.uid("as"), "placement_id": world.pl_a,
                  "moment": "mid_term", "assessed_on": "2026-11-15",
                  "outcomes": [{"outcome_id": "lo-1", "kind": "knowledge", "level": "developing", "comment": "ok"},
                               {"outcome_id": "lo-2", "kind": "skill", "level": "achieved"}]}
    assert (await send(world.source_a, "assessment.recorded", assessment)).status_code == 202
    resent = await send(world.source_a, "assessment.recorded", assessment)  # new webhook-id, same assessment
    assert resent.status_code == 202 and resent.json()["results"][0]["result"] == "unchanged"
    wrong_kind = await send(world.source_a, "assessment.recorded", {
        **assessment, "assessment_id": f.uid("as"),
        "outcomes": [{"outcome_id": "lo-1", "kind": "skill", "level": "achieved"}]})
    assert wrong_kind.status_code == 422 and wrong_kind.json()["errors"][0]["field"] == "data.outcomes.0.kind"
    signed = {"mentor_id": world.mentor_a, "placement_id": world.pl_a, "signed_at": "2026-09-01T10:00:00+02:00"}
    assert (await send(world.source_a, "learning_agreement.signed", signed)).status_code == 202
    not_theirs = await send(world.source_b, "learning_agreement.signed", {**signed, "mentor_id": world.mentor_b})
    assert not_theirs.status_code == 403
    events = await world.outbox(world.student)
    assert [type(e) for e in events] == [AssessmentRecorded, LearningAgreementSigned]
    assert events[0].student_id == world.student and len(events[0].outcomes) == 2
