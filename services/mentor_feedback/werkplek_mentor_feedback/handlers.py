"""Use cases of the inbound side: `receive_webhook` (verify, deduplicate, parse, authorise, apply)
and `apply_message` (shared with the confirmation links). An accepted message's rows and events are
committed in one transaction (outbox); a refused one stores nothing."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from werkplek_common.outbox import stage
from werkplek_common.problems import problem_type
from werkplek_events import AssessmentRecorded, TimeEntryConfirmed, TimeEntryRejected
from werkplek_events.vocabulary import ConfirmationChannel, Decision

from . import SERVICE, SOURCE, domain, store
from .metrics import ASSESSED_OUTCOMES, ASSESSMENTS, DECISIONS
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
from .signing import Failure, VerificationError, verify

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    kind: str
    result: str  # the metric label
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def is_problem(self) -> bool:
        return self.status >= 400


def _problem(status: int, slug: str, title: str, detail: str, kind: str, result: str,
             errors: list[dict[str, str]] | None = None, headers: dict[str, str] | None = None) -> Answer:
    body: dict[str, Any] = {"type": problem_type(slug), "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return Answer(status, body, kind, result, headers or {})


def _unverified(exc: VerificationError) -> Answer:
    if exc.failure is Failure.MALFORMED_HEADER:
        return _problem(400, "webhook-header-invalid", "Webhook header not valid", exc.detail, "unknown",
                        "malformed", [{"field": exc.header, "message": exc.detail}])
    if exc.failure is Failure.STALE_TIMESTAMP:
        return _problem(401, "webhook-stale-timestamp", "Webhook timestamp outside tolerance", exc.detail,
                        "unknown", "stale_timestamp", [{"field": "webhook-timestamp", "message": exc.detail}])
    fld = "webhook-signature" if exc.failure is Failure.BAD_SIGNATURE else "headers"
    return _problem(401, "webhook-bad-signature", "Webhook signature not valid", exc.detail, "unknown",
                    "bad_signature", [{"field": fld, "message": exc.detail}])


async def receive_webhook(pool: asyncpg.Pool, source_id: str, headers: Mapping[str, str], body: bytes, *,
                          now: float, tolerance_s: int) -> Answer:
    secrets_ = await store.source_secrets(pool, source_id, datetime.fromtimestamp(now, UTC))
    if not secrets_:
        detail = f"no valid secret for {source_id!r} (unknown or retired source)"
        return _unverified(VerificationError(Failure.BAD_SIGNATURE, detail))
    try:
        signed = verify(secrets_, headers, body, now=now, tolerance_s=tolerance_s)
    except VerificationError as exc:
        return _unverified(exc)
    first = await store.stored_answer(pool, source_id, signed.webhook_id)
    if first is not None:
        return _replay(first)
    try:
        kind, payload = parse(_json(body))
    except Malformed as exc:
        return _problem(exc.status, "webhook-malformed", "Webhook payload not valid", str(exc), exc.kind,
                        "malformed", exc.errors)
    return await _apply_once(pool, source_id, signed.webhook_id, kind, payload)


def _replay(first: tuple[int, str, dict[str, Any]]) -> Answer:
    status, kind, body = first
    return Answer(status, body, kind, "replay", {"webhook-replayed": "true"})


def _json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Malformed(400, [{"field": "body", "message": f"not valid JSON: {exc}"}]) from None


async def _apply_once(pool: asyncpg.Pool, source_id: str, webhook_id: str, kind: Kind, payload: Payload) -> Answer:
    try:
        async with pool.acquire() as conn, conn.transaction():
            plan = await apply_message(conn, kind, payload, source_id=source_id)
            body = {"status": "accepted", "webhook_id": webhook_id, "kind": kind.value, "results": plan.results}
            await store.store_answer(conn, source_id, webhook_id, kind.value, 202, body)
    except domain.Refused as exc:
        result = {403: "forbidden", 409: "conflict"}.get(exc.status, "unknown_reference")
        return _problem(exc.status, exc.slug, exc.title, exc.detail, kind.value, result, exc.errors)
    except asyncpg.UniqueViolationError:
        # the same message, delivered concurrently, committed first: answer with its result
        first = await store.stored_answer(pool, source_id, webhook_id)
        assert first is not None
        return _replay(first)
    count_applied(plan.events)
    return Answer(202, body, kind.value, "accepted")


async def apply_message(conn: asyncpg.Connection, kind: Kind, payload: Payload, *, source_id: str | None,
                        channel: ConfirmationChannel = ConfirmationChannel.WEBHOOK) -> domain.Plan:
    """Judge and store one message inside the caller's transaction; raises `domain.Refused`."""
    domain.authorise_source(source_id, payload.mentor_id, await store.mentor(conn, payload.mentor_id))
    plan = await _plan(conn, kind, payload, channel)
    await store.record(conn, plan.events)
    if plan.events:
        await stage(conn, plan.events, producer=SERVICE, source=SOURCE)
    return plan


async def _plan(conn: asyncpg.Connection, kind: Kind, payload: Payload, channel: ConfirmationChannel) -> domain.Plan:
    if isinstance(payload, HoursConfirmed | HoursRejected | HoursDecisionReversed):
        entries = await store.entries_for_update(conn, [e.entry_id for e in payload.entries])
        placements = await store.placements(conn, [e.placement_id for e in entries.values()])
        if isinstance(payload, HoursDecisionReversed):
            return domain.plan_reversals(payload.mentor_id, payload.entries, entries, placements)
        wanted = Decision.CONFIRMED if kind is Kind.HOURS_CONFIRMED else Decision.REJECTED
        return domain.plan_decisions(payload.mentor_id, wanted, payload.entries, entries, placements, channel)
    found = (await store.placements(conn, [payload.placement_id])).get(payload.placement_id)
    if isinstance(payload, AssessmentPayload):
        return domain.plan_assessment(payload, found, await store.assessment_exists(conn, payload.assessment_id))
    assert isinstance(payload, AgreementSigned)
    return domain.plan_signature(payload, found, await store.workplace_signed(conn, payload.placement_id))


def count_applied(events: list[Any]) -> None:
    for event in events:
        if isinstance(event, TimeEntryConfirmed | TimeEntryRejected):
            DECISIONS.labels(event.DECISION.value, event.channel.value).inc()
        elif isinstance(event, AssessmentRecorded):
            ASSESSMENTS.labels(event.moment.value).inc()
            for o in event.outcomes:
                ASSESSED_OUTCOMES.labels(o.level.value).inc()
