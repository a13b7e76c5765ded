"""Use cases of the mentor page behind a link, over the ports of `ports.py` (no driver, no web
framework): `show_link` shows the request's entries and the mentor's current placements (their
agreed outcomes, latest assessments, signature); `decide_by_link` applies everything the mentor chose
— decisions, assessments, signatures — in one unit, as the same messages a tool's webhooks are
(`usecases.apply_message`), and uses the link up. Opening does not use the link up (mail scanners
prefetch links); the first successful submission does. Each returns what happened, a refusal with
its reason included; the pages (`linkpages.py`) map it to a status and a page."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from werkplek_events import AssessmentRecorded, LearningAgreementSigned, TimeEntryConfirmed, TimeEntryRejected
from werkplek_events.vocabulary import ConfirmationChannel, Language, OutcomeKind

from . import domain
from .domain import Plan
from .linkform import Choices, FormInvalid, read_form
from .links import LinkProblem, LinkRefused, read_token
from .payloads import (
    AgreementSigned,
    AssessedOutcome,
    AssessmentPayload,
    HoursConfirmed,
    HoursRejected,
    Kind,
    Payload,
)
from .ports import UnitOfWork
from .usecases import Reason, apply_message, reason_of

RECENTLY_ENDED = timedelta(days=60)  # a placement that ended this recently can still be assessed and signed
_ASSESSMENT_IDS = uuid.UUID("9c4e2a71-0d3b-4f58-8e6a-2b7c1d9f5e40")


@dataclass(frozen=True)
class ShownEntry:
    entry_id: uuid.UUID
    revision: int
    placement_id: str
    work_date: str
    minutes: int
    activity: str
    description: str
    decision: str | None


@dataclass(frozen=True)
class ShownOutcome:
    outcome_id: str
    title: str
    kind: OutcomeKind
    at_workplace: bool
    latest_level: str | None


@dataclass(frozen=True)
class ShownPlacement:
    placement_id: str
    student_id: str
    outcomes: tuple[ShownOutcome, ...]
    signed: bool
    entries: tuple[ShownEntry, ...]


@dataclass(frozen=True)
class Batch:
    request_id: str
    mentor_id: str
    expires_at: datetime
    language: Language | None  # the mentor's preference, if known
    placements: tuple[ShownPlacement, ...]

    @property
    def entries(self) -> list[ShownEntry]:
        return [e for p in self.placements for e in p.entries]


@dataclass(frozen=True)
class LinkRequest:
    """A link's confirmation request as stored."""

    request_id: str
    mentor_id: str
    entry_ids: tuple[uuid.UUID, ...]
    expires_at: datetime
    used: bool


@dataclass(frozen=True)
class MentorPlacement:
    """One of the mentor's placements as stored: its learning agreement's outcomes, whether the
    workplace signed."""

    placement_id: str
    student_id: str
    outcomes: tuple[Mapping[str, Any], ...]
    signed: bool


@dataclass(frozen=True)
class Shown:
    batch: Batch
    first_open: bool  # the first time the link was opened (a metric: links opened vs used)


@dataclass(frozen=True)
class LinkRefusal:
    problem: LinkProblem  # tampered, expired, used


@dataclass(frozen=True)
class FormRefusal:
    """The form names a field at fault (catalogue keys per field); nothing was applied."""

    errors: dict[str, str]
    batch: Batch  # to show the page again, with the errors


@dataclass(frozen=True)
class MessageRefusal:
    """A choice the rules refuse (the entry changed since the page was shown, ...); nothing was applied."""

    reason: Reason
    detail: str


@dataclass(frozen=True)
class Decided:
    plan: Plan


@dataclass(frozen=True)
class OpenLink:
    key: bytes
    token: str
    now: float  # Unix seconds


@dataclass(frozen=True)
class DecideByLink:
    key: bytes
    token: str
    form: Mapping[str, str]
    now: float
    today: date


def _usable(found: LinkRequest | None) -> LinkRequest:
    if found is None:
        raise LinkRefused(LinkProblem.TAMPERED)  # a valid MAC for a request we never made: a leaked key
    if found.used:
        raise LinkRefused(LinkProblem.USED)
    return found


async def _batch(uow: UnitOfWork, key: bytes, token: str, now: float) -> Batch:
    """The page's content; raises LinkRefused."""
    link = read_token(key, token, now=now)
    found = _usable(await uow.link_request(link.request_id))
    entries = await uow.shown_entries(found.entry_ids)
    today = datetime.fromtimestamp(now, UTC).date()
    placements = await uow.mentor_placements(found.mentor_id, today - RECENTLY_ENDED,
                                             sorted({e.placement_id for e in entries}))
    latest = await uow.latest_levels([p.placement_id for p in placements])
    shown = tuple(_placement(p, entries, latest) for p in placements)
    return Batch(found.request_id, found.mentor_id, found.expires_at, await uow.mentor_language(found.mentor_id),
                 shown)


async def show_link(uow: UnitOfWork, cmd: OpenLink) -> Shown | LinkRefusal:
    try:
        batch = await _batch(uow, cmd.key, cmd.token, cmd.now)
    except LinkRefused as exc:
        return LinkRefusal(exc.problem)
    return Shown(batch, await uow.mark_opened(batch.request_id))


def _placement(p: MentorPlacement, entries: list[ShownEntry], latest: Mapping[tuple[str, str], str]) -> ShownPlacement:
    outcomes = tuple(ShownOutcome(o["outcome_id"], o.get("title") or o["outcome_id"], OutcomeKind(o["kind"]),
                                  o.get("acquired_at", "workplace") == "workplace",
                                  latest.get((p.placement_id, o["outcome_id"])))
                     for o in p.outcomes)
    return ShownPlacement(p.placement_id, p.student_id, outcomes, p.signed,
                          tuple(e for e in entries if e.placement_id == p.placement_id))


@dataclass(frozen=True)
class Summary:
    confirmed: int = 0
    rejected: int = 0
    assessed: int = 0
    signed: int = 0


def summary(plan: Plan) -> Summary:
    return Summary(confirmed=sum(isinstance(e, TimeEntryConfirmed) for e in plan.events),
                   rejected=sum(isinstance(e, TimeEntryRejected) for e in plan.events),
                   assessed=sum(len(e.outcomes) for e in plan.events if isinstance(e, AssessmentRecorded)),
                   signed=sum(isinstance(e, LearningAgreementSigned) for e in plan.events))


async def decide_by_link(uow: UnitOfWork, cmd: DecideByLink) -> Decided | LinkRefusal | FormRefusal | MessageRefusal:
    """Apply the choices and use the link up, in one unit; a refusal stores nothing and leaves the
    link usable."""
    try:
        batch = await _batch(uow, cmd.key, cmd.token, cmd.now)
    except LinkRefused as exc:
        return LinkRefusal(exc.problem)
    try:
        choices = read_form(cmd.form, batch)
    except FormInvalid as exc:
        return FormRefusal(exc.errors, batch)
    at = datetime.fromtimestamp(cmd.now, UTC)
    total = Plan()
    try:
        async with uow.begin() as unit:
            found = _usable(await unit.link_request(batch.request_id, lock=True))
            for kind, payload in payloads(found.mentor_id, batch, choices, at, cmd.today):
                plan = await apply_message(unit, kind, payload, source_id=None, channel=ConfirmationChannel.LINK)
                total.events.extend(plan.events)
                total.results.extend(plan.results)
            await unit.use_link(batch.request_id, at)
    except LinkRefused as exc:  # used up by a submission that committed meanwhile
        return LinkRefusal(exc.problem)
    except domain.Refused as exc:
        return MessageRefusal(reason_of(exc), exc.detail)
    return Decided(total)


def payloads(mentor_id: str, batch: Batch, choices: Choices, at: datetime, today: date) -> list[tuple[Kind, Payload]]:
    """The webhook messages a tool would have sent for the same choices."""
    out: list[tuple[Kind, Payload]] = []
    if choices.confirm:
        out.append((Kind.HOURS_CONFIRMED, HoursConfirmed(mentor_id=mentor_id, entries=choices.confirm)))
    if choices.reject:
        out.append((Kind.HOURS_REJECTED, HoursRejected(mentor_id=mentor_id, entries=choices.reject)))
    for a in choices.assessments:
        assessment_id = "link-" + uuid.uuid5(_ASSESSMENT_IDS, f"{batch.request_id}:{a.placement_id}").hex
        out.append((Kind.ASSESSMENT_RECORDED, AssessmentPayload(
            mentor_id=mentor_id, assessment_id=assessment_id, placement_id=a.placement_id, moment=a.moment,
            assessed_on=today, outcomes=[AssessedOutcome(outcome_id=o, kind=k, level=lvl, comment=c)
                                         for o, k, lvl, c in a.outcomes])))
    for placement_id in choices.sign:
        out.append((Kind.AGREEMENT_SIGNED, AgreementSigned(mentor_id=mentor_id, placement_id=placement_id,
                                                           signed_at=at)))
    return out
