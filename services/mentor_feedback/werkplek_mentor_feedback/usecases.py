"""Use cases of mentor feedback's inbound side, over the ports of `ports.py` (no driver, no web
framework: `tests/unit/mentor_feedback/test_usecases.py` holds that):

- `receive_webhook(uow, ReceiveWebhook)`: verify the signature, answer a resent webhook-id with its
  first answer, parse, authorise and apply — the message's rows, events (outbox) and answer in one
  unit — and return what happened: `Accepted`, `Replayed` or a `Refusal` with a `Reason`;
- `apply_message(unit, kind, payload, ...)`: judge and store one message inside a unit (shared with
  the mentor page behind a link, `linkflow.py`, which applies several in one); raises `domain.Refused`.

The entrypoint (`handlers.py`) maps results to HTTP statuses and problem documents."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import orjson
from werkplek_events.vocabulary import ConfirmationChannel, Decision

from . import domain
from .payloads import (
    AgreementSigned,
    AssessmentPayload,
    HoursConfirmed,
    HoursDecisionReversed,
    HoursRejected,
    Kind,
    Malformed,
    Payload,
    parse,
)
from .ports import AlreadyAnswered, StoredAnswer, Unit, UnitOfWork
from .signing import Failure, VerificationError, verify


class Reason(StrEnum):
    """Why a webhook was refused; nothing of a refused message is stored."""

    HEADER_INVALID = "header_invalid"  # a Standard Webhooks header is missing or malformed
    STALE_TIMESTAMP = "stale_timestamp"  # webhook-timestamp outside the tolerance
    BAD_SIGNATURE = "bad_signature"  # no secret of the source signed it (or no such source)
    NOT_JSON = "not_json"
    PAYLOAD_INVALID = "payload_invalid"  # JSON, but not a message of the contract
    FORBIDDEN = "forbidden"  # the source or mentor may not act for this mentor or placement
    UNKNOWN_REFERENCE = "unknown_reference"  # an entry, placement or outcome not known (yet)
    CONFLICT = "conflict"  # contradicts the entry's current state


_REFUSED = {domain.Forbidden: Reason.FORBIDDEN, domain.Unknown: Reason.UNKNOWN_REFERENCE,
            domain.Conflict: Reason.CONFLICT}
_UNVERIFIED = {Failure.MALFORMED_HEADER: Reason.HEADER_INVALID, Failure.STALE_TIMESTAMP: Reason.STALE_TIMESTAMP}


@dataclass(frozen=True)
class ReceiveWebhook:
    source_id: str
    headers: Mapping[str, str]
    body: bytes
    now: float  # Unix seconds
    tolerance_s: int


@dataclass(frozen=True)
class Accepted:
    kind: Kind
    body: dict[str, Any]  # the answer, stored for a resend
    plan: domain.Plan


@dataclass(frozen=True)
class Replayed:
    """A webhook-id answered before: its first answer, whatever it was."""

    status: int
    kind: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Refusal:
    reason: Reason
    detail: str
    kind: str = "unknown"  # the message's kind when it was read that far
    errors: list[dict[str, str]] = field(default_factory=list)  # each field (or header) at fault


WebhookResult = Accepted | Replayed | Refusal


def reason_of(exc: domain.Refused) -> Reason:
    """The reason code of a refusal by the rules."""
    return _REFUSED[type(exc)]


def _unverified(exc: VerificationError) -> Refusal:
    fld = exc.header if exc.failure is Failure.MALFORMED_HEADER else (
        "webhook-timestamp" if exc.failure is Failure.STALE_TIMESTAMP else
        "webhook-signature" if exc.failure is Failure.BAD_SIGNATURE else "headers")
    return Refusal(_UNVERIFIED.get(exc.failure, Reason.BAD_SIGNATURE), exc.detail,
                   errors=[{"field": fld, "message": exc.detail}])


async def receive_webhook(uow: UnitOfWork, cmd: ReceiveWebhook) -> WebhookResult:
    secrets_ = await uow.source_secrets(cmd.source_id, datetime.fromtimestamp(cmd.now, UTC))
    if not secrets_:
        return _unverified(VerificationError(Failure.BAD_SIGNATURE,
                                             f"no valid secret for {cmd.source_id!r} (unknown or retired source)"))
    try:
        signed = verify(secrets_, cmd.headers, cmd.body, now=cmd.now, tolerance_s=cmd.tolerance_s)
    except VerificationError as exc:
        return _unverified(exc)
    first = await uow.stored_answer(cmd.source_id, signed.webhook_id)
    if first is not None:
        return _replayed(first)
    try:
        kind, payload = parse(_json(cmd.body))
    except Malformed as exc:
        reason = Reason.NOT_JSON if exc.status == 400 else Reason.PAYLOAD_INVALID
        return Refusal(reason, str(exc), exc.kind, exc.errors)
    return await _apply_once(uow, cmd.source_id, signed.webhook_id, kind, payload)


def _replayed(first: StoredAnswer) -> Replayed:
    return Replayed(*first)


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Malformed(400, [{"field": "body", "message": f"not valid JSON: {exc}"}]) from None


async def _apply_once(uow: UnitOfWork, source_id: str, webhook_id: str, kind: Kind, payload: Payload) -> WebhookResult:
    try:
        async with uow.begin() as unit:
            plan = await apply_message(unit, kind, payload, source_id=source_id)
            body = {"status": "accepted", "webhook_id": webhook_id, "kind": kind.value, "results": plan.results}
            await unit.store_answer(source_id, webhook_id, kind.value, 202, body)
    except domain.Refused as exc:
        return Refusal(reason_of(exc), exc.detail, kind.value, exc.errors)
    except AlreadyAnswered:
        first = await uow.stored_answer(source_id, webhook_id)
        if first is None:  # a unique key taken by something else than this message: not a resend
            raise
        return _replayed(first)
    return Accepted(kind, body, plan)


async def apply_message(unit: Unit, kind: Kind, payload: Payload, *, source_id: str | None,
                        channel: ConfirmationChannel = ConfirmationChannel.WEBHOOK) -> domain.Plan:
    """Judge and store one message inside the caller's unit; raises `domain.Refused`."""
    domain.authorise_source(source_id, payload.mentor_id, await unit.mentor(payload.mentor_id))
    plan = await _plan(unit, kind, payload, channel)
    await unit.record(plan.events)
    if plan.events:
        await unit.stage(plan.events)
    return plan


async def _plan(unit: Unit, kind: Kind, payload: Payload, channel: ConfirmationChannel) -> domain.Plan:
    if isinstance(payload, HoursConfirmed | HoursRejected | HoursDecisionReversed):
        entries = await unit.entries_for_update([e.entry_id for e in payload.entries])
        placements = await unit.placements([e.placement_id for e in entries.values()])
        if isinstance(payload, HoursDecisionReversed):
            return domain.plan_reversals(payload.mentor_id, payload.entries, entries, placements)
        wanted = Decision.CONFIRMED if kind is Kind.HOURS_CONFIRMED else Decision.REJECTED
        return domain.plan_decisions(payload.mentor_id, wanted, payload.entries, entries, placements, channel)
    found = (await unit.placements([payload.placement_id])).get(payload.placement_id)
    if isinstance(payload, AssessmentPayload):
        return domain.plan_assessment(payload, found, await unit.assessment_exists(payload.assessment_id))
    assert isinstance(payload, AgreementSigned)
    return domain.plan_signature(payload, found, await unit.workplace_signed(payload.placement_id))
