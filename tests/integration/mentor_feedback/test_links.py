"""The mentor page behind a link: a batch of pending entries becomes a signed single-use link; the
page lists the entries and the mentor's placements, one submission applies decisions, assessments
and signatures as the same events a tool's webhooks produce; a link used twice, expired or tampered
is refused with a page saying so; the fresh-link form answers the same for known and unknown
addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from werkplek_events import (
    AssessmentRecorded,
    LearningAgreementSigned,
    MentorContactChanged,
    TimeEntryConfirmed,
    TimeEntryRejected,
)
from werkplek_events.vocabulary import AssessmentLevel, AssessmentMoment, ConfirmationChannel, Language, RequestPurpose
from werkplek_mentor_feedback.confirmations import form_requests
from werkplek_mentor_feedback.notifications import Notifications
from werkplek_mentor_feedback.reminders import handle_link_requests

ENGLISH = {"accept-language": "en"}


async def _link_for(world, pool, cfg, *entry_ids):
    events = await form_requests(pool, cfg, cfg.mentor_link_secret.encode(), now=datetime.now(UTC))
    mine = [e for e in events if e.mentor_id == world.mentor_c]
    assert len(mine) == 1 and set(mine[0].entry_ids) == set(entry_ids)
    assert mine[0].channel is ConfirmationChannel.LINK
    assert mine[0].link_url is not None
    return mine[0].link_url.split("/confirm/")[1], mine[0]


async def test_one_submission_confirms_rejects_assesses_and_signs_once(world, pool, cfg, api):
    fresh = await world.entry(world.pl_c, age=timedelta(seconds=5))  # too young for this round's batch
    e1, e2 = await world.entry(world.pl_c), await world.entry(world.pl_c)
    token, requested = await _link_for(world, pool, cfg, e1, e2)
    assert requested.pending_minutes == 480 and fresh not in requested.entry_ids

    page = await api.get(f"/confirm/{token}", headers=ENGLISH)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="viewport"' in page.text and str(e1) in page.text and "4h00" in page.text
    assert f"Student {world.student}" in page.text and "Outcome lo-2" in page.text and 'name="sign-' in page.text
    assert (await api.get(f"/confirm/{token}")).status_code == 200  # opening does not use it up
    assert '<html lang="nl">' in (await api.get(f"/confirm/{token}")).text  # Dutch unless asked otherwise

    incomplete = await api.post(f"/confirm/{token}?lang=en", data={f"decision-{e2}": "reject",
                                                                   f"reason-{e2}": "other"})
    assert incomplete.status_code == 400 and "Explain the rejection briefly" in incomplete.text
    assert f'href="#comment-{e2}"' in incomplete.text  # the summary links to the field at fault
    assert await world.outbox(world.student) == []  # nothing was applied
    form = {f"decision-{e1}": "confirm", f"revision-{e1}": "1", f"decision-{e2}": "reject",
            f"reason-{e2}": "not_worked", f"comment-{e2}": "was on leave",
            f"moment-{world.pl_c}": "mid_term", f"level-{world.pl_c}-lo-1": "developing",
            f"level-{world.pl_c}-lo-2": "achieved", f"note-{world.pl_c}-lo-2": "steady", f"sign-{world.pl_c}": "yes"}
    done = await api.post(f"/confirm/{token}?lang=en", data=form)
    assert done.status_code == 200
    assert "1 entry confirmed, 1 entry rejected, 2 learning outcomes assessed, 1 learning agreement signed" in done.text
    events = await world.outbox(world.student)
    assert [type(e) for e in events] == [TimeEntryConfirmed, TimeEntryRejected, AssessmentRecorded,
                                         LearningAgreementSigned]
    assert all(e.channel is ConfirmationChannel.LINK for e in events[:2])
    assessment = events[2]
    assert isinstance(assessment, AssessmentRecorded)
    assert (assessment.placement_id, assessment.mentor_id, assessment.moment) == (
        world.pl_c, world.mentor_c, AssessmentMoment.MID_TERM)
    assert [(o.outcome_id, o.level, o.comment) for o in assessment.outcomes] == [
        ("lo-1", AssessmentLevel.DEVELOPING, ""), ("lo-2", AssessmentLevel.ACHIEVED, "steady")]
    assert isinstance(events[3], LearningAgreementSigned) and events[3].signed_by == world.mentor_c

    for again in (await api.get(f"/confirm/{token}?lang=en"), await api.post(f"/confirm/{token}?lang=en", data=form)):
        assert again.status_code == 410 and "already been used" in again.text and "already saved" in again.text
    assert len(await world.outbox(world.student)) == len(events)  # the second submission changed nothing


async def test_expired_and_tampered_links_are_refused_with_a_page(world, pool, cfg, api, clock):
    e1 = await world.entry(world.pl_c)
    token, _ = await _link_for(world, pool, cfg, e1)
    rid, expires, mac = token.split(".")
    other_rid = rid[:-1] + ("1" if rid[-1] == "0" else "0")  # always a different id, never the same one
    for bad in (f"{rid}.{int(expires) + 3600}.{mac}", f"{other_rid}.{expires}.{mac}", token[:-2], "nonsense"):
        assert bad != token
        resp = await api.get(f"/confirm/{bad}", headers=ENGLISH)
        assert resp.status_code == 403 and "not valid" in resp.text and 'action="../link"' in resp.text
    clock.now = int(expires)  # the moment it expires
    expired = await api.post(f"/confirm/{token}?lang=en", data={f"decision-{e1}": "confirm"})
    assert expired.status_code == 410 and "expired" in expired.text and 'name="email"' in expired.text
    assert await world.outbox(world.student) == []


async def test_entries_are_not_requested_twice_while_a_request_is_open(world, pool, cfg):
    e1 = await world.entry(world.pl_c)
    await _link_for(world, pool, cfg, e1)
    again = await form_requests(pool, cfg, b"k", now=datetime.now(UTC))
    assert all(e.mentor_id != world.mentor_c for e in again)


async def test_the_fresh_link_form_answers_the_same_for_a_known_and_an_unknown_address(world, pool, cfg, api):
    email = f"{world.mentor_c}@mentors.example"
    await Notifications(pool, cfg).handle_batch([(MentorContactChanged(
        mentor_id=world.mentor_c, institution_id="inst-1", email=email, language=Language.EN), None)])
    pending = await world.entry(world.pl_c)
    known = await api.post("/link", data={"email": email.upper(), "lang": "en"})
    unknown = await api.post("/link", data={"email": f"nobody-{world.mentor_c}@mentors.example", "lang": "en"})
    assert (known.status_code, known.text) == (unknown.status_code, unknown.text) and known.status_code == 200
    assert "If this address belongs to a mentor" in known.text
    key = cfg.mentor_link_secret.encode()
    mine = [e for e in await handle_link_requests(pool, cfg, key) if e.mentor_id == world.mentor_c]
    assert len(mine) == 1 and mine[0].purpose is RequestPurpose.FRESH_LINK and mine[0].entry_ids == [pending]
    await api.post("/link", data={"email": email, "lang": "en"})  # asked again right away: no second mail
    assert [e for e in await handle_link_requests(pool, cfg, key) if e.mentor_id == world.mentor_c] == []
    invalid = await api.post("/link", data={"email": "not an address", "lang": "en"})
    assert invalid.status_code == 400 and 'aria-invalid="true"' in invalid.text and "valid e-mail" in invalid.text
    form = await api.get("/link?lang=nl")
    assert form.status_code == 200 and 'autocomplete="email"' in form.text and "Een nieuwe link" in form.text
