"""The inbound webhook's answers: runs the use case (`usecases.receive_webhook`) on the PostgreSQL
unit of work and maps its result to an HTTP `Answer` — 202 accepted, the first answer to a resent
webhook-id, or a problem document per refusal reason — with the metric label the route counts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from werkplek_common.problems import problem_type

from . import domain
from .metrics import count_applied
from .pg_unit import PgUnitOfWork
from .usecases import Accepted, Reason, ReceiveWebhook, Refusal, Replayed, WebhookResult
from .usecases import receive_webhook as receive


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


# reason -> status, problem type slug, title, metric label
PROBLEMS: dict[Reason, tuple[int, str, str, str]] = {
    Reason.HEADER_INVALID: (400, "webhook-header-invalid", "Webhook header not valid", "malformed"),
    Reason.STALE_TIMESTAMP: (401, "webhook-stale-timestamp", "Webhook timestamp outside tolerance", "stale_timestamp"),
    Reason.BAD_SIGNATURE: (401, "webhook-bad-signature", "Webhook signature not valid", "bad_signature"),
    Reason.NOT_JSON: (400, "webhook-malformed", "Webhook payload not valid", "malformed"),
    Reason.PAYLOAD_INVALID: (422, "webhook-malformed", "Webhook payload not valid", "malformed"),
    Reason.FORBIDDEN: (domain.Forbidden.status, domain.Forbidden.slug, domain.Forbidden.title, "forbidden"),
    Reason.UNKNOWN_REFERENCE: (domain.Unknown.status, domain.Unknown.slug, domain.Unknown.title, "unknown_reference"),
    Reason.CONFLICT: (domain.Conflict.status, domain.Conflict.slug, domain.Conflict.title, "conflict"),
}


def answer(result: WebhookResult) -> Answer:
    if isinstance(result, Accepted):
        count_applied(result.plan.events)
        return Answer(202, result.body, result.kind.value, "accepted")
    if isinstance(result, Replayed):
        return Answer(result.status, result.body, result.kind, "replay", {"webhook-replayed": "true"})
    assert isinstance(result, Refusal)
    return problem(result)


def problem(refusal: Refusal) -> Answer:
    status, slug, title, label = PROBLEMS[refusal.reason]
    body: dict[str, Any] = {"type": problem_type(slug), "title": title, "status": status, "detail": refusal.detail}
    if refusal.errors:
        body["errors"] = refusal.errors
    return Answer(status, body, refusal.kind, label)


async def receive_webhook(pool: asyncpg.Pool, source_id: str, headers: Mapping[str, str], body: bytes, *,
                          now: float, tolerance_s: int) -> Answer:
    return answer(await receive(PgUnitOfWork(pool), ReceiveWebhook(source_id, headers, body, now, tolerance_s)))
