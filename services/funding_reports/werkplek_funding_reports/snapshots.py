"""Snapshots: an "as of" copy of a report, published once under an id that is never reused."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Literal

from werkplek_events import FundingReportPublished, FundingReportSnapshotted
from werkplek_events.limits import ID_MAX, SNAPSHOT_HASH_HEX

Every = Literal["day", "week", "month", "never"]


def period_label(today: date, every: Every) -> str | None:
    """The scheduled period `today` falls in; one snapshot per report per period."""
    if every == "never":
        return None
    if every == "day":
        return today.isoformat()
    if every == "week":
        year, week, _ = today.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{today:%Y-%m}"


def on_demand_label(now: datetime) -> str:
    return f"{now:%Y%m%dT%H%M%S}"


def snapshot_id(report_id: str, label: str) -> str:
    """`<report_id>:<label>`, or a hash of the report id when that would exceed the id length (a label
    of at most `SNAPSHOT_LABEL_MAX` characters always fits then)."""
    sid = f"{report_id}:{label}"
    if len(sid) <= ID_MAX:
        return sid
    return f"snap-{hashlib.sha256(report_id.encode()).hexdigest()[:SNAPSHOT_HASH_HEX]}:{label}"


def to_snapshot(report: FundingReportPublished, sid: str, as_of: date) -> FundingReportSnapshotted:
    fields = report.model_dump(exclude={"event_id", "occurred_at"})
    return FundingReportSnapshotted(**fields, snapshot_id=sid, as_of=as_of)
