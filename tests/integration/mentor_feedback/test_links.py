"""Mentors without a tool: a batch of pending entries becomes a signed single-use link; the page
lists the entries, one submission applies the decisions, a used, expired or tampered link is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from werkplek_events import TimeEntryConfirmed, TimeEntryRejected
from werkplek_events.vocabulary import ConfirmationChannel
from werkplek_mentor_feedback.confirmations import form_requests


async def _link_for(world, pool, cfg, *entry_ids):
    events = await form_requests(pool, cfg, cfg.mentor_link_secret.encode(), now=datetime.now(UTC))
    mine = [e for e in events if e.mentor_id == world.mentor_c]
    assert len(mine) == 1 and set(mine[0].entry_ids) == set(entry_ids)
    assert mine[0].channel is ConfirmationChannel.LINK
    assert mine[0].link_url is not None
    return mine[0].link_url.split("/confirm/")[1], mine[0]


async def test_a_batch_link_confirms_and_rejects_once(world, pool, cfg, api):
    fresh = await world.entry(world.pl_c, age=timedelta(seconds=5))  # too young for this round's batch
    e1, e2 = await world.entry(world.pl_c), await world.entry(world.pl_c)
    token, requested = await _link_for(world, pool, cfg, e1, e2)
    assert requested.pending_minutes == 480 and fresh not in requested.entry_ids

    page = await api.get(f"/confirm/{token}")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="viewport"' in page.text and str(e1) in page.text and "4h00" in page.text
    assert (await api.get(f"/confirm/{token}")).status_code == 200  # opening does not use it up

    incomplete = await api.post(f"/confirm/{token}", data={f"decision-{e2}": "reject", f"reason-{e2}": "other"})
    assert incomplete.status_code == 400 and "needs a reason" in incomplete.text
    form = {f"decision-{e1}": "confirm", f"revision-{e1}": "1", f"decision-{e2}": "reject",
            f"reason-{e2}": "not_worked", f"comment-{e2}": "was on leave"}
    done = await api.post(f"/confirm/{token}", data=form)
    assert done.status_code == 200 and "2 decisions saved" in done.text
    events = await world.outbox(world.student)
    assert [type(e) for e in events[-2:]] == [TimeEntryConfirmed, TimeEntryRejected]
    assert all(e.channel is ConfirmationChannel.LINK for e in events[-2:])

    for again in (await api.get(f"/confirm/{token}"), await api.post(f"/confirm/{token}", data=form)):
        assert again.status_code == 410 and "already been used" in again.text
    assert len(await world.outbox(world.student)) == len(events)  # the second submission changed nothing


async def test_expired_and_tampered_links_are_refused_with_a_page(world, pool, cfg, api, clock):
    e1 = await world.entry(world.pl_c)
    token, _ = await _link_for(world, pool, cfg, e1)
    rid, expires, mac = token.split(".")
    other_rid = rid[:-1] + ("1" if rid[-1] == "0" else "0")  # always a different id, never the same one
    for bad in (f"{rid}.{int(expires) + 3600}.{mac}", f"{other_rid}.{expires}.{mac}", token[:-2], "nonsense"):
        assert bad != token
        resp = await api.get(f"/confirm/{bad}")
        assert resp.status_code == 403 and "not valid" in resp.text
    clock.now = int(expires)  # the moment it expires
    expired = await api.post(f"/confirm/{token}", data={f"decision-{e1}": "confirm"})
    assert expired.status_code == 410 and "expired" in expired.text
    assert await world.outbox(world.student) == []


async def test_entries_are_not_requested_twice_while_a_request_is_open(world, pool, cfg):
    e1 = await world.entry(world.pl_c)
    await _link_for(world, pool, cfg, e1)
    again = await form_requests(pool, cfg, b"k", now=datetime.now(UTC))
    assert all(e.mentor_id != world.mentor_c for e in again)
