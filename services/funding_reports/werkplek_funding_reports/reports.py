"""Stage two of funding reports: per institution and academic year (the unit whose reports are
published, and suppressed, together), the reports. A processor of the stream runtime over the
repartition topic of stage one (members.py): its state is the unit's members (each enrolment's latest
view, highest version wins), the last version published of each of its reports and the snapshots
taken. A batch recomputes the reports of the programmes it touched and the institution's roll-up,
and publishes a new version only where the content changed; versions come from the state, which
commits with them (one owner per unit through the consumer group, fenced): they only go up. Once per
snapshot period (`reports_snapshot_every`) every published report of the unit is snapshotted: at the
pass over every unit when the period starts, or when the report is first published in it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkplek_common.runtime import Context, Processor
from werkplek_events import Event, FundingReportPublished, ReportMemberChanged, topic_for

from . import codec, metrics
from .compute import Mark, report_event
from .config import Settings
from .domain.keys import ReportKey
from .domain.records import StudentView
from .domain.report import report_sections
from .snapshots import period_label, snapshot_id, to_snapshot

TOPIC = topic_for(ReportMemberChanged).name
SOURCE = "/werkplek/funding-reports"


@dataclass(frozen=True)
class Member:
    version: int
    view: StudentView | None  # None: left the unit
    last_event_time: datetime | None
    offsets: dict[str, int]


codec.register(Member)


@dataclass
class UnitState:
    institution_id: str = ""
    academic_year: str = ""
    members: dict[tuple[str, str], Member] = field(default_factory=dict)  # (student, programme) -> latest
    published: dict[str, FundingReportPublished] = field(default_factory=dict)  # report id -> latest
    snapshots: set[str] = field(default_factory=set)


class Reports(Processor[UnitState]):
    topics = [TOPIC]
    source = SOURCE

    def __init__(self, group: str, cfg: Settings) -> None:
        self.name, self.cfg = group, cfg

    def initial(self, key: str) -> UnitState:
        return UnitState()

    def handle(self, state: UnitState, events: Sequence[Event], ctx: Context) -> tuple[UnitState, list[Event]]:
        members, touched = dict(state.members), set()
        for e in events:
            assert isinstance(e, ReportMemberChanged)
            held = members.get((e.student_id, e.programme_id))
            if held is None or held.version < e.version:
                view = None if e.view is None else codec.decode(e.view)
                members[(e.student_id, e.programme_id)] = Member(e.version, view, e.last_event_time, e.offsets)
                touched.add(e.programme_id)
        unit = state.institution_id or (events[0].institution_id if events else "")  # type: ignore[attr-defined]
        year = state.academic_year or (events[0].academic_year if events else "")  # type: ignore[attr-defined]
        new = UnitState(unit, year, members, dict(state.published), set(state.snapshots))
        if not self.cfg.wants(unit):
            return (new, []) if touched else (state, [])
        outputs = self._reports(new, touched, ctx) if touched else []
        outputs += self._snapshots(new, ctx)  # a report new in this period is snapshotted at once
        if not touched and not outputs:
            return state, []
        return new, outputs

    def _reports(self, s: UnitState, programmes: set[str], ctx: Context) -> list[Event]:
        keys = [ReportKey(s.institution_id, p, s.academic_year) for p in sorted(programmes)]
        out: list[Event] = []
        for key in [*keys, ReportKey(s.institution_id, None, s.academic_year)]:
            chosen = sorted((k, m) for k, m in s.members.items()
                            if m.view is not None and (key.programme_id is None or k[1] == key.programme_id))
            if not chosen:
                continue
            with metrics.COMPUTE_SECONDS.time():
                sections = report_sections([m.view for _, m in chosen if m.view is not None],
                                           self.cfg.reports_min_count)
            old = s.published.get(key.report_id)
            if old is not None and old.sections == sections:
                continue
            event = report_event(key, sections, old.version + 1 if old else 1, _mark(m for _, m in chosen), ctx.now)
            s.published[key.report_id] = event
            out.append(event)
        return out

    def _snapshots(self, s: UnitState, ctx: Context) -> list[Event]:
        label = period_label(ctx.today, self.cfg.reports_snapshot_every)
        if label is None:
            return []
        out: list[Event] = []
        for rid, report in sorted(s.published.items()):
            sid = snapshot_id(rid, label)
            if sid not in s.snapshots:
                s.snapshots.add(sid)
                out.append(to_snapshot(report, sid, ctx.today))
        return out

    def period(self, now: datetime) -> str | None:
        return period_label(now.date(), self.cfg.reports_snapshot_every)

    def dump(self, state: UnitState) -> bytes:
        return codec.dumps(vars(state))

    def load(self, key: str, blob: bytes) -> UnitState:
        return UnitState(**codec.loads(blob))

    def committed(self, outputs: Sequence[Any]) -> None:
        for o in outputs:
            if isinstance(o, FundingReportPublished):
                metrics.REPORTS_PUBLISHED.labels(o.scope.value).inc()
                if o.watermark.last_event_time is not None:
                    metrics.INPUT_TO_REPORT.observe(max(0.0, (datetime.now(o.generated_at.tzinfo) -
                                                              o.watermark.last_event_time).total_seconds()))
            else:
                metrics.SNAPSHOTS_PUBLISHED.labels("schedule").inc()


def _mark(members: Any) -> Mark:
    mark = Mark()
    for m in members:
        if m.last_event_time is not None and (mark.last_event_time is None or m.last_event_time > mark.last_event_time):
            mark.last_event_time = m.last_event_time
        for tp, offset in m.offsets.items():
            mark.offsets[tp] = max(offset, mark.offsets.get(tp, 0))
    return mark
