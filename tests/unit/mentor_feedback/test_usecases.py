"""The inbound use cases over an in-memory unit of work. A webhook (`usecases.receive_webhook`): a
signed message is applied once — its changes, events and answer committed together — and a resend
gets the first answer; every refusal has its reason code and stores nothing (the unit rolls back); a
concurrent duplicate is answered as a resend; the entrypoint maps each reason to its status and
problem type. The page behind a link (`linkflow`): shown without using it up, a submission applied
once and the link used, a refused link, form or choice stores nothing and leaves the link usable.
Confirmation requests (`requesting`): one per mentor and channel, split at the maximum, a link that
reads back to its request, a webhook delivery with the entries. The use-case modules import no
driver and no web framework."""

from __future__ import annotations

import copy
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from werkplek_events import ConfirmationRequested, Event, TimeEntryConfirmed, TimeEntryRejected
from werkplek_events.vocabulary import Decision, OutcomeKind, RequestPurpose
from werkplek_mentor_feedback import handlers
from werkplek_mentor_feedback.batching import PendingEntry
from werkplek_mentor_feedback.domain import Entry, Mentor, Placement
from werkplek_mentor_feedback.linkflow import (
    DecideByLink,
    Decided,
    FormRefusal,
    LinkRefusal,
    LinkRequest,
    MentorPlacement,
    MessageRefusal,
    OpenLink,
    Shown,
    ShownEntry,
    decide_by_link,
    show_link,
)
from werkplek_mentor_feedback.links import Link, LinkProblem, make_token, read_token
from werkplek_mentor_feedback.payloads import OutboundConfirmationRequested, OutboundEntry
from werkplek_mentor_feedback.ports import AlreadyAnswered, StoredAnswer
from werkplek_mentor_feedback.requesting import RequestPolicy, form_batch_requests, link_request
from werkplek_mentor_feedback.usecases import Accepted, Reason, ReceiveWebhook, Refusal, Replayed, receive_webhook

from ..imports import import_refusing
from .factories import message, signed

NOW = 1_780_000_000.0
SOURCE, SECRET, MENTOR = "tool-1", "whsec_" + "A" * 32, "mentor-1"


@dataclass
class Data:
    """What the fake store holds; a unit works on a copy and puts it back on commit."""

    mentors: dict[str, Mentor] = field(default_factory=dict)
    placements: dict[str, Placement] = field(default_factory=dict)
    entries: dict[uuid.UUID, Entry] = field(default_factory=dict)
    assessments: set[str] = field(default_factory=set)
    signatures: set[str] = field(default_factory=set)
    answers: dict[tuple[str, str], StoredAnswer] = field(default_factory=dict)
    recorded: list[Event] = field(default_factory=list)
    outbox: list[Event] = field(default_factory=list)
    links: dict[str, LinkRequest] = field(default_factory=dict)
    opened: set[str] = field(default_factory=set)
    pending: list[PendingEntry] = field(default_factory=list)
    requests: dict[str, ConfirmationRequested] = field(default_factory=dict)
    requested: dict[uuid.UUID, str] = field(default_factory=dict)  # entry -> the request that asked it
    deliveries: list[tuple[str, str, str, bytes]] = field(default_factory=list)


class FakeUnit:
    def __init__(self, data: Data) -> None:
        self.data = data

    async def mentor(self, mentor_id: str) -> Mentor | None:
        return self.data.mentors.get(mentor_id)

    async def placements(self, ids: Iterable[str]) -> dict[str, Placement]:
        return {i: self.data.placements[i] for i in ids if i in self.data.placements}

    async def entries_for_update(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Entry]:
        return {i: self.data.entries[i] for i in ids if i in self.data.entries}

    async def assessment_exists(self, assessment_id: str) -> bool:
        return assessment_id in self.data.assessments

    async def workplace_signed(self, placement_id: str) -> bool:
        return placement_id in self.data.signatures

    async def record(self, events: Sequence[Event]) -> None:
        for e in events:
            if isinstance(e, TimeEntryConfirmed | TimeEntryRejected):
                old = self.data.entries[e.entry_id]
                self.data.entries[e.entry_id] = Entry(old.entry_id, old.student_id, old.placement_id, old.revision,
                                                      old.withdrawn, e.DECISION, e.entry_revision)
        self.data.recorded.extend(events)

    async def stage(self, events: Sequence[Event]) -> None:
        self.data.outbox.extend(events)

    async def store_answer(self, source_id: str, webhook_id: str, kind: str, status: int,
                           body: dict[str, Any]) -> None:
        if (source_id, webhook_id) in self.data.answers:
            raise AlreadyAnswered(webhook_id)
        self.data.answers[(source_id, webhook_id)] = (status, kind, body)

    async def link_request(self, request_id: str, *, lock: bool = False) -> LinkRequest | None:
        return self.data.links.get(request_id)

    async def use_link(self, request_id: str, at: datetime) -> None:
        old = self.data.links[request_id]
        self.data.links[request_id] = LinkRequest(old.request_id, old.mentor_id, old.entry_ids, old.expires_at, True)


    async def pending_entries(self, logged_before: datetime, requested_before: datetime,
                              limit: int) -> list[PendingEntry]:
        return self.data.pending[:limit]  # which entries are due is the query's part (integration tests)

    async def mentor_pending(self, mentor_id: str, limit: int) -> list[PendingEntry]:
        return [p for p in self.data.pending if p.mentor_id == mentor_id][:limit]

    async def save_request(self, request: ConfirmationRequested, now: datetime) -> None:
        self.data.requests[request.request_id] = request
        self.data.requested.update(dict.fromkeys(request.entry_ids, request.request_id))

    async def outbound_entries(self, ids: Sequence[uuid.UUID]) -> list[OutboundEntry]:
        return [OutboundEntry(entry_id=i, student_id=self.data.entries[i].student_id,
                              placement_id=self.data.entries[i].placement_id, revision=self.data.entries[i].revision,
                              work_date=date(2026, 10, 5), minutes=240, activity="work") for i in ids]

    async def queue_delivery(self, delivery_id: str, source_id: str, request_id: str, payload: bytes) -> None:
        self.data.deliveries.append((delivery_id, source_id, request_id, payload))


class FakeUoW:
    def __init__(self) -> None:
        self.data = Data()
        self.secrets: dict[str, list[str]] = {SOURCE: [SECRET]}
        self.commits = self.rollbacks = 0
        self.concurrent: StoredAnswer | None = None  # another delivery commits this answer while a unit runs

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[FakeUnit]:
        unit = FakeUnit(copy.deepcopy(self.data))
        try:
            yield unit
        except BaseException:
            self.rollbacks += 1
            raise
        if self.concurrent is not None:
            self.rollbacks += 1
            self.data.answers.update({k: self.concurrent for k in unit.data.answers.keys() - self.data.answers})
            raise AlreadyAnswered("committed first")
        self.data = unit.data
        self.commits += 1

    async def source_secrets(self, source_id: str, now: datetime) -> list[str]:
        return self.secrets.get(source_id, [])

    async def stored_answer(self, source_id: str, webhook_id: str) -> StoredAnswer | None:
        return self.data.answers.get((source_id, webhook_id))

    async def link_request(self, request_id: str) -> LinkRequest | None:
        return self.data.links.get(request_id)

    async def shown_entries(self, ids: Sequence[uuid.UUID]) -> list[ShownEntry]:
        entries = [self.data.entries[i] for i in ids if i in self.data.entries]
        return [ShownEntry(e.entry_id, e.revision, e.placement_id, "2026-10-05", 240, "work", "ward rounds",
                           e.decision.value if e.decision and e.decided_revision == e.revision else None)
                for e in entries if not e.withdrawn]

    async def mentor_placements(self, mentor_id: str, ended_since: date,
                                including: Sequence[str]) -> list[MentorPlacement]:
        return [MentorPlacement(p.placement_id, p.student_id,
                                tuple({"outcome_id": o, "kind": k.value} for o, k in p.outcomes.items()),
                                p.placement_id in self.data.signatures)
                for p in self.data.placements.values() if p.mentor_id == mentor_id]

    async def latest_levels(self, placement_ids: Sequence[str]) -> dict[tuple[str, str], str]:
        return {}

    async def mentor_language(self, mentor_id: str) -> None:
        return None

    async def mark_opened(self, request_id: str) -> bool:
        first = request_id not in self.data.opened
        self.data.opened.add(request_id)
        return first


def uow_with_entry(withdrawn: bool = False, bound: str | None = SOURCE) -> tuple[FakeUoW, uuid.UUID]:
    uow, entry_id = FakeUoW(), uuid.uuid4()
    uow.data.mentors[MENTOR] = Mentor(MENTOR, bound)
    uow.data.placements["pl-1"] = Placement("pl-1", "stu-1", MENTOR, {"lo-1": OutcomeKind.SKILL})
    uow.data.entries[entry_id] = Entry(entry_id, "stu-1", "pl-1", 1, withdrawn)
    return uow, entry_id


def command(body: bytes, *, source: str = SOURCE, secret: str = SECRET, ts: float = NOW,
            webhook_id: str | None = None) -> ReceiveWebhook:
    return ReceiveWebhook(source, signed([secret], body, ts=int(ts), webhook_id=webhook_id), body, NOW, 300)


def confirm(entry_id: uuid.UUID, mentor: str = MENTOR) -> bytes:
    return message("hours.confirmed", {"mentor_id": mentor, "entries": [{"entry_id": str(entry_id)}]})


async def test_a_signed_confirmation_is_applied_once_and_a_resend_gets_the_first_answer():
    uow, entry_id = uow_with_entry()
    cmd = command(confirm(entry_id), webhook_id="msg_1")
    result = await receive_webhook(uow, cmd)
    assert isinstance(result, Accepted) and result.body["status"] == "accepted" and result.body["webhook_id"] == "msg_1"
    [event] = uow.data.outbox
    assert isinstance(event, TimeEntryConfirmed) and event.entry_id == entry_id and uow.data.recorded == [event]
    assert uow.data.entries[entry_id].decision is Decision.CONFIRMED
    assert uow.data.answers[(SOURCE, "msg_1")] == (202, "hours.confirmed", result.body)
    again = await receive_webhook(uow, cmd)
    assert again == Replayed(202, "hours.confirmed", result.body)
    assert len(uow.data.outbox) == 1 and uow.commits == 1
    answer = handlers.answer(again)
    assert answer.status == 202 and answer.headers == {"webhook-replayed": "true"} and answer.result == "replay"


@pytest.mark.parametrize(("case", "reason"), [
    ("unknown source", Reason.BAD_SIGNATURE), ("wrong secret", Reason.BAD_SIGNATURE),
    ("stale", Reason.STALE_TIMESTAMP), ("no headers", Reason.HEADER_INVALID), ("not json", Reason.NOT_JSON),
    ("not a message", Reason.PAYLOAD_INVALID), ("another mentor", Reason.FORBIDDEN),
    ("unknown entry", Reason.UNKNOWN_REFERENCE), ("withdrawn", Reason.CONFLICT)])
async def test_a_refused_message_has_its_reason_and_stores_nothing(case: str, reason: Reason):
    uow, entry_id = uow_with_entry(withdrawn=case == "withdrawn")
    uow.data.mentors["mentor-2"] = Mentor("mentor-2", "tool-2")
    body = {"not json": b"{nope", "not a message": message("hours.weighed", {}),
            "another mentor": confirm(entry_id, "mentor-2"), "unknown entry": confirm(uuid.uuid4())
            }.get(case, confirm(entry_id))
    cmd = command(body, source="tool-9" if case == "unknown source" else SOURCE,
                  secret="whsec_" + "B" * 32 if case == "wrong secret" else SECRET,
                  ts=NOW - 3600 if case == "stale" else NOW)
    if case == "no headers":
        cmd = ReceiveWebhook(SOURCE, {"content-type": "application/json", "webhook-id": "msg_x",
                                      "webhook-timestamp": "soon", "webhook-signature": "v1,xx"}, body, NOW, 300)
    before = copy.deepcopy(uow.data)
    result = await receive_webhook(uow, cmd)
    assert isinstance(result, Refusal) and result.reason is reason, result
    assert result.detail and result.errors
    assert uow.data == before and uow.commits == 0  # nothing stored, not even the answer
    answer = handlers.answer(result)
    status, slug, _, label = handlers.PROBLEMS[reason]
    assert answer.status == status >= 400 and answer.body["type"].endswith(slug) and answer.result == label
    assert answer.body["status"] == status and answer.body["detail"] == result.detail


def test_every_reason_has_a_problem_document():
    assert set(handlers.PROBLEMS) == set(Reason)


async def test_a_concurrent_delivery_that_committed_first_is_answered_as_a_resend():
    uow, entry_id = uow_with_entry()
    first = (202, "hours.confirmed", {"status": "accepted", "webhook_id": "msg_2", "kind": "hours.confirmed",
                                      "results": []})
    uow.concurrent = first
    result = await receive_webhook(uow, command(confirm(entry_id), webhook_id="msg_2"))
    assert result == Replayed(*first)
    assert uow.data.outbox == [] and uow.rollbacks == 1  # this delivery's own changes were rolled back


async def test_a_taken_key_that_is_no_resend_is_not_hidden():
    uow, entry_id = uow_with_entry()

    @asynccontextmanager
    async def taken() -> AsyncIterator[FakeUnit]:
        yield FakeUnit(copy.deepcopy(uow.data))
        raise AlreadyAnswered("an assessment id taken by another message")

    uow.begin = taken  # type: ignore[method-assign]
    with pytest.raises(AlreadyAnswered):
        await receive_webhook(uow, command(confirm(entry_id)))


KEY = b"k" * 32


def uow_with_link(*, used: bool = False) -> tuple[FakeUoW, uuid.UUID, str]:
    uow, entry_id = uow_with_entry(bound=None)  # a mentor without a tool: links
    expires = datetime.fromtimestamp(NOW, UTC) + timedelta(days=7)
    uow.data.links["req-1"] = LinkRequest("req-1", MENTOR, (entry_id,), expires, used)
    return uow, entry_id, make_token(KEY, Link("req-1", int(expires.timestamp())))


def submit(token: str, form: dict[str, str]) -> DecideByLink:
    return DecideByLink(KEY, token, form, NOW, date(2026, 10, 6))


async def test_a_link_is_shown_without_being_used_up_and_its_first_open_is_told():
    uow, entry_id, token = uow_with_link()
    shown = await show_link(uow, OpenLink(KEY, token, NOW))
    assert isinstance(shown, Shown) and shown.first_open
    assert [e.entry_id for e in shown.batch.entries] == [entry_id] and shown.batch.placements[0].placement_id == "pl-1"
    again = await show_link(uow, OpenLink(KEY, token, NOW))
    assert isinstance(again, Shown) and not again.first_open and not uow.data.links["req-1"].used


async def test_a_submission_is_applied_once_and_uses_the_link_up():
    uow, entry_id, token = uow_with_link()
    done = await decide_by_link(uow, submit(token, {f"decision-{entry_id}": "confirm"}))
    assert isinstance(done, Decided)
    [event] = done.plan.events
    assert isinstance(event, TimeEntryConfirmed) and event.entry_id == entry_id and uow.data.outbox == [event]
    assert uow.data.links["req-1"].used
    assert await decide_by_link(uow, submit(token, {f"decision-{entry_id}": "confirm"})) == \
        LinkRefusal(LinkProblem.USED)
    assert await show_link(uow, OpenLink(KEY, token, NOW)) == LinkRefusal(LinkProblem.USED)


async def test_a_refused_link_form_or_choice_stores_nothing_and_leaves_the_link_usable():
    uow, entry_id, token = uow_with_link()
    expired = make_token(KEY, Link("req-1", int(NOW) - 1))
    never = make_token(KEY, Link("req-9", int(NOW) + 60))
    assert await show_link(uow, OpenLink(KEY, token[:-2] + "AA", NOW)) == LinkRefusal(LinkProblem.TAMPERED)
    assert await show_link(uow, OpenLink(KEY, never, NOW)) == LinkRefusal(LinkProblem.TAMPERED)  # a leaked key
    assert await decide_by_link(uow, submit(expired, {})) == LinkRefusal(LinkProblem.EXPIRED)
    form = await decide_by_link(uow, submit(token, {f"decision-{entry_id}": "reject"}))  # no reason, no comment
    assert isinstance(form, FormRefusal) and set(form.errors) == {f"reason-{entry_id}", f"comment-{entry_id}"}
    # the entry was corrected after the page was shown: the mentor confirmed revision 1, 2 is current
    old = uow.data.entries[entry_id]
    uow.data.entries[entry_id] = Entry(old.entry_id, old.student_id, old.placement_id, 2)
    stale = await decide_by_link(uow, submit(token, {f"decision-{entry_id}": "confirm", f"revision-{entry_id}": "1"}))
    assert isinstance(stale, MessageRefusal) and stale.reason is Reason.CONFLICT and "revision" in stale.detail
    assert handlers.PROBLEMS[stale.reason][0] == 409
    assert uow.data.outbox == [] and uow.commits == 0 and not uow.data.links["req-1"].used


POLICY = RequestPolicy(timedelta(hours=1), timedelta(days=3), 2, timedelta(days=7), "https://werkplek.example/mentor/")


def uow_with_pending() -> tuple[FakeUoW, list[uuid.UUID], uuid.UUID]:
    """Three entries of a mentor without a tool (links), one of a mentor whose tool has an endpoint."""
    uow = FakeUoW()
    linked = [uuid.uuid4() for _ in range(3)]
    hooked = uuid.uuid4()
    for i in (*linked, hooked):
        uow.data.entries[i] = Entry(i, "stu-1", "pl-1", 1)
    uow.data.pending = [PendingEntry(i, "m-link", 60, None, None, False) for i in linked]
    uow.data.pending.append(PendingEntry(hooked, "m-tool", 90, "tool-1", "https://tool.example/hook", False))
    return uow, linked, hooked


async def test_pending_entries_become_one_request_per_mentor_split_at_the_maximum():
    uow, linked, hooked = uow_with_pending()
    now = datetime.fromtimestamp(NOW, UTC)
    events = await form_batch_requests(uow, POLICY, KEY, now)
    assert [(e.mentor_id, e.channel.value, len(e.entry_ids), e.pending_minutes) for e in events] == [
        ("m-link", "link", 2, 120), ("m-link", "link", 1, 60), ("m-tool", "webhook", 1, 90)]
    assert [list(e.entry_ids) for e in events] == [linked[:2], linked[2:], [hooked]]  # oldest first
    assert uow.data.outbox == events and uow.commits == 1
    assert uow.data.requested == {i: e.request_id for e in events for i in e.entry_ids}
    for e in events[:2]:  # the link reads back to its request and expires with it
        assert e.link_url is not None and e.link_url.startswith("https://werkplek.example/mentor/confirm/")
        link = read_token(KEY, e.link_url.rsplit("/", 1)[1], now=NOW)
        assert link.request_id == e.request_id and e.expires_at == now + POLICY.link_ttl
        assert int(e.expires_at.timestamp()) == link.expires_at
    [(_, source, request_id, payload)] = uow.data.deliveries
    sent = OutboundConfirmationRequested.model_validate_json(payload)
    assert source == "tool-1" and request_id == events[2].request_id and events[2].link_url is None
    assert [x.entry_id for x in sent.data.entries] == [hooked] and sent.data.request_id == request_id


async def test_nothing_pending_forms_nothing():
    uow = FakeUoW()
    assert await form_batch_requests(uow, POLICY, KEY, datetime.fromtimestamp(NOW, UTC)) == []
    assert uow.data.outbox == [] and uow.data.requests == {}


async def test_a_reminder_links_all_of_a_mentors_pending_entries_or_none():
    uow, linked, _ = uow_with_pending()
    now = datetime.fromtimestamp(NOW, UTC)
    async with uow.begin() as unit:
        event = await link_request(unit, POLICY, KEY, "m-link", RequestPurpose.REMINDER, now)
        empty = await link_request(unit, POLICY, KEY, "m-nobody", RequestPurpose.FRESH_LINK, now)
    assert event.purpose is RequestPurpose.REMINDER and event.channel.value == "link"
    assert list(event.entry_ids) == linked[:POLICY.max_entries]
    assert empty.entry_ids == [] and empty.link_url is not None  # a fresh link to an empty page still works
    assert uow.data.outbox == [event, empty] and set(uow.data.requests) == {event.request_id, empty.request_id}


@pytest.mark.parametrize("module", ["usecases", "linkflow", "requesting", "ports", "domain", "payloads", "signing"])
def test_the_use_case_modules_import_no_driver_and_no_web_framework(module: str):
    """Imported in a fresh interpreter that refuses asyncpg, FastAPI and Starlette: an import of any of
    them, direct or through another module, fails it."""
    done = import_refusing(f"werkplek_mentor_feedback.{module}")
    assert done.returncode == 0, done.stderr[-2000:]
