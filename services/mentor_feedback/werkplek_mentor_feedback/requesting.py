"""Use cases of confirmation requests, over the ports of `ports.py` (no driver, no web framework):

- `form_batch_requests`: each mentor's pending entries older than the minimum age become one
  request — a signed single-use link or an outbound webhook delivery — and a `ConfirmationRequested`
  event, all in one unit;
- `link_request`: a link for all of one mentor's pending entries (possibly none), whatever their age
  or tool — a reminder or a fresh link — inside the caller's unit.

The worker's job and the reminders run them (`confirmations.py`, `reminders.py`)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from werkplek_events import ConfirmationRequested
from werkplek_events.vocabulary import ConfirmationChannel, RequestPurpose

from .batching import Batch, form_batches
from .links import Link, make_token
from .payloads import ConfirmationRequestData, OutboundConfirmationRequested
from .ports import Unit, UnitOfWork

if TYPE_CHECKING:
    from .config import MentorFeedbackSettings


@dataclass(frozen=True)
class RequestPolicy:
    """The settings the requests follow (`WERKPLEK_MENTOR_*`)."""

    min_age: timedelta  # an entry waits this long before it is requested (batching)
    rerequest_after: timedelta  # an entry requested before is requested again after this
    max_entries: int  # per request
    link_ttl: timedelta
    public_base_url: str  # of the mentor page

    @classmethod
    def of(cls, cfg: MentorFeedbackSettings) -> RequestPolicy:
        return cls(timedelta(seconds=cfg.mentor_batch_min_age_s), timedelta(seconds=cfg.mentor_rerequest_after_s),
                   cfg.mentor_batch_max_entries, timedelta(seconds=cfg.mentor_link_ttl_s), cfg.mentor_public_base_url)


def link_url(policy: RequestPolicy, key: bytes, request_id: str, expires_at: datetime) -> str:
    token = make_token(key, Link(request_id, int(expires_at.timestamp())))
    return f"{policy.public_base_url.rstrip('/')}/confirm/{token}"


async def form_batch_requests(uow: UnitOfWork, policy: RequestPolicy, key: bytes, now: datetime,
                              limit: int = 5000) -> list[ConfirmationRequested]:
    """This round's requests; returns the events staged."""
    async with uow.begin() as unit:
        pending = await unit.pending_entries(now - policy.min_age, now - policy.rerequest_after, limit)
        events = [await _request(unit, policy, key, b, now) for b in form_batches(pending, policy.max_entries)]
        if events:
            await unit.stage(events)
    return events


async def link_request(unit: Unit, policy: RequestPolicy, key: bytes, mentor_id: str, purpose: RequestPurpose,
                       now: datetime) -> ConfirmationRequested:
    """Staged in the caller's unit."""
    pending = await unit.mentor_pending(mentor_id, policy.max_entries)
    event = await _request(unit, policy, key, Batch(mentor_id, ConfirmationChannel.LINK, None, tuple(pending)), now,
                           purpose)
    await unit.stage([event])
    return event


async def _request(unit: Unit, policy: RequestPolicy, key: bytes, batch: Batch, now: datetime,
                   purpose: RequestPurpose = RequestPurpose.BATCH) -> ConfirmationRequested:
    request_id = uuid.uuid4().hex
    expires = now + policy.link_ttl
    url = link_url(policy, key, request_id, expires) if batch.channel is ConfirmationChannel.LINK else None
    event = ConfirmationRequested(request_id=request_id, mentor_id=batch.mentor_id,
                                  entry_ids=[e.entry_id for e in batch.entries], pending_minutes=batch.minutes,
                                  channel=batch.channel, link_url=url, expires_at=expires, purpose=purpose)
    await unit.save_request(event, now)
    if batch.channel is ConfirmationChannel.WEBHOOK:
        assert batch.source_id is not None
        payload = OutboundConfirmationRequested(timestamp=event.occurred_at, data=ConfirmationRequestData(
            request_id=event.request_id, mentor_id=event.mentor_id, expires_at=event.expires_at,
            entries=await unit.outbound_entries(event.entry_ids)))
        await unit.queue_delivery(f"msg_{uuid.uuid4().hex}", batch.source_id, event.request_id,
                                  payload.model_dump_json().encode())
    return event
