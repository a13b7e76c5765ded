"""Pure rules of confirmation requests: which channel reaches a mentor, how pending entries are
grouped into batches, and the outbound retry schedule."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from werkplek_events.vocabulary import ConfirmationChannel


@dataclass(frozen=True)
class PendingEntry:
    entry_id: uuid.UUID
    mentor_id: str
    minutes: int
    webhook_source: str | None
    endpoint_url: str | None
    endpoint_disabled: bool


@dataclass(frozen=True)
class Batch:
    mentor_id: str
    channel: ConfirmationChannel
    source_id: str | None
    entries: tuple[PendingEntry, ...]

    @property
    def minutes(self) -> int:
        return sum(e.minutes for e in self.entries)


def channel_for(e: PendingEntry) -> ConfirmationChannel | None:
    """No tool: a link. A tool with a live endpoint: an outbound webhook. A tool whose endpoint said
    410 Gone: back to a link. A tool without an endpoint sends its decisions on its own: nothing."""
    if e.webhook_source is None or (e.endpoint_url and e.endpoint_disabled):
        return ConfirmationChannel.LINK
    if e.endpoint_url:
        return ConfirmationChannel.WEBHOOK
    return None


def form_batches(pending: Sequence[PendingEntry], max_entries: int) -> list[Batch]:
    """One batch per mentor (split at `max_entries`), entries in the order given (oldest first)."""
    by_mentor: dict[str, list[PendingEntry]] = {}
    for e in pending:
        if channel_for(e) is not None:
            by_mentor.setdefault(e.mentor_id, []).append(e)
    batches = []
    for mentor_id, entries in by_mentor.items():
        channel = channel_for(entries[0])
        assert channel is not None
        for i in range(0, len(entries), max_entries):
            batches.append(Batch(mentor_id, channel, entries[0].webhook_source, tuple(entries[i:i + max_entries])))
    return batches


def backoff_delay(attempt: int, *, base_s: float, cap_s: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with 'equal jitter': half of base*2^(attempt-1) (capped) plus a random part
    of the other half, so retries of many deliveries spread out but never come back immediately."""
    ceiling = min(cap_s, base_s * 2 ** max(0, attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


def retry_after_s(header: str | None, *, now: datetime, cap_s: float) -> float | None:
    """Seconds from a Retry-After header (delta seconds or an HTTP date), capped; None if absent/invalid."""
    if not header:
        return None
    value = header.strip()
    if value.isdigit():
        return min(cap_s, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return min(cap_s, max(0.0, (when - now).total_seconds()))
