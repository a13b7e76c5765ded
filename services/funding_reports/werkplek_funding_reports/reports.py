"""Stage two of funding reports: per institution and academic year (the unit whose reports are
published, and suppressed, together), the reports. A processor of the stream runtime over the
repartition topic of stage one (members.py). Its state: each member student's facts (highest
version wins; a part of the state each, so a batch writes only the students it changed), the last
version published of each report and the snapshots taken. A batch rebuilds the unit's cohort from its
members' facts and the reference data, computes every report of the unit with the domain's rules,
and publishes a new version only where the content changed (one report that cannot be made is set
aside on the DLQ, the unit's others go on: quarantine.py); versions come from the state, which
commits with them (one owner per unit through the consumer group, fenced): they only go up. A
changed programme, workplace or mentor re-evaluates the units tagged with it. Once per snapshot
period (`reports_snapshot_every`) every published report of the unit is snapshotted: at the pass
over every unit when the period starts, or when the report is first published in it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkplek_common.runtime import Context, Processor
from werkplek_events import Event, FundingReportPublished, KafkaRecord, ReportMemberChanged, encode, topic_for

from . import codec, metrics
from .compute import Mark, compute_sections, report_event
from .config import Settings
from .domain.state import Cohort
from .members import Reference
from .quarantine import SetAside, check_size, dead_record, per_report, reason_of
from .snapshots import period_label, snapshot_id, to_snapshot

TOPIC = topic_for(ReportMemberChanged).name
SOURCE = "/werkplek/funding-reports"


@dataclass(frozen=True)
class Member:
    version: int
    last_event_time: datetime | None
    offsets: dict[str, int]


codec.register(Member)


@dataclass
class UnitState:
    institution_id: str = ""
    academic_year: str = ""
    members: dict[str, Member] = field(default_factory=dict)  # student -> the facts' version, watermark
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # student -> facts (a part of the state each)
    published: dict[str, FundingReportPublished] = field(default_factory=dict)  # report id -> latest
    snapshots: set[str] = field(default_factory=set)
    quarantined: dict[str, str] = field(default_factory=dict)  # report id -> why it is not published
    changed: set[str] = field(default_factory=set)  # students whose facts the step that made this changed
    built: Cohort | None = field(default=None, compare=False)  # the cohort of these facts, once built


class Reports(Processor[UnitState]):
    topics = [TOPIC]
    source = SOURCE
    parted = True

    def __init__(self, group: str, cfg: Settings, reference: Reference) -> None:
        self.name, self.cfg, self.reference = group, cfg, reference
        self.set_aside = SetAside()

    def initial(self, key: str) -> UnitState:
        return UnitState()

    def handle(self, state: UnitState, events: Sequence[Event], ctx: Context,
               ) -> tuple[UnitState, list[Event | KafkaRecord]]:
        s = UnitState(state.institution_id, state.academic_year, dict(state.members), dict(state.facts),
                      dict(state.published), set(state.snapshots), dict(state.quarantined))
        for e in events:
            assert isinstance(e, ReportMemberChanged)
            s.institution_id, s.academic_year = e.institution_id, e.academic_year
            held = s.members.get(e.student_id)
            if held is None or held.version < e.version:
                s.members[e.student_id] = Member(e.version, e.last_event_time, e.offsets)
                if e.facts is None:
                    s.facts.pop(e.student_id, None)
                else:
                    s.facts[e.student_id] = codec.decode(e.facts)
                s.changed.add(e.student_id)
        if not self.cfg.wants(s.institution_id):
            return (s, []) if s.changed else (state, [])
        outputs = self._reports(s, ctx) if s.changed or ctx.reevaluate else []
        outputs += self._snapshots(s, ctx)
        if not s.changed and not outputs:
            return state, []
        return s, outputs

    def cohort(self, s: UnitState) -> Cohort:
        """The unit's cohort: its members' facts merged (each student's are its own keys), with the
        reference data every worker keeps."""
        if s.built is not None:
            return s.built
        cohort = s.built = self.reference.bind(Cohort())
        for facts in s.facts.values():
            for name, value in facts.items():
                mine = getattr(cohort, name, None)
                if isinstance(mine, dict):
                    mine.update(value)
                elif isinstance(mine, set):
                    mine |= value
        return cohort

    def _reports(self, s: UnitState, ctx: Context) -> list[Event | KafkaRecord]:
        cohort, mark = self.cohort(s), _mark(s.members.values())
        out: list[Event | KafkaRecord] = []
        keys = sorted((k for k in cohort.reports if (k.institution_id, k.academic_year) ==
                       (s.institution_id, s.academic_year)), key=lambda k: k.report_id)
        for key in keys:
            event = None
            try:
                with metrics.COMPUTE_SECONDS.time():
                    sections = compute_sections(cohort, key, self.cfg.pseudonym_key, self.cfg.reports_min_count)
                old = s.published.get(key.report_id)
                if old is not None and old.sections == sections:
                    continue
                event = report_event(key, sections, old.version + 1 if old else 1, mark, ctx.now)
                check_size(encode(event, source=SOURCE).value)
            except per_report() as exc:  # this report only: the unit's others are still published
                if s.quarantined.get(key.report_id) != reason_of(exc):  # once per reason
                    s.quarantined[key.report_id] = reason_of(exc)
                    out.append(dead_record(key, exc, event, ctx.now))
                continue
            s.published[key.report_id] = event
            s.quarantined.pop(key.report_id, None)
            out.append(event)
        return out

    def _snapshots(self, s: UnitState, ctx: Context) -> list[Event | KafkaRecord]:
        label = period_label(ctx.today, self.cfg.reports_snapshot_every)
        if label is None:
            return []
        out: list[Event | KafkaRecord] = []
        for rid, report in sorted(s.published.items()):
            sid = snapshot_id(rid, label)
            if sid not in s.snapshots:
                s.snapshots.add(sid)
                out.append(to_snapshot(report, sid, ctx.today))
        return out

    def period(self, now: datetime) -> str | None:
        return period_label(now.date(), self.cfg.reports_snapshot_every)

    def tags(self, state: UnitState) -> Iterable[str]:
        cohort = self.cohort(state)
        tags = {f"programme:{p}" for _, p, _ in cohort.enrolments}
        for pid, agreed in cohort.placements.items():
            tags |= {f"workplace:{agreed.workplace_id}", f"mentor:{cohort.placement_terms(pid).mentor_id}"}
        return sorted(tags)

    def dump(self, state: UnitState) -> bytes:
        return codec.dumps({"institution_id": state.institution_id, "academic_year": state.academic_year,
                            "members": state.members, "published": state.published, "snapshots": state.snapshots,
                            "quarantined": state.quarantined})

    def dump_parts(self, state: UnitState) -> Mapping[str, bytes | None]:
        return {sid: codec.dumps(state.facts[sid]) if sid in state.facts else None for sid in state.changed}

    def load_parted(self, key: str, head: bytes, parts: Mapping[str, bytes]) -> UnitState:
        data = codec.loads(head)
        return UnitState(data["institution_id"], data["academic_year"], data["members"],
                         {sid: codec.loads(blob) for sid, blob in parts.items()}, data["published"], data["snapshots"],
                         data.get("quarantined", {}))  # a state stored before quarantines had none

    def committed(self, outputs: Sequence[Any]) -> None:
        for o in outputs:
            if isinstance(o, KafkaRecord):
                self.set_aside.committed(o)
            elif isinstance(o, FundingReportPublished):
                metrics.REPORTS_PUBLISHED.labels(o.scope.value).inc()
                self.set_aside.published(o.report_id)
                if o.watermark.last_event_time is not None:
                    metrics.INPUT_TO_REPORT.observe(max(0.0, (datetime.now(o.generated_at.tzinfo) -
                                                              o.watermark.last_event_time).total_seconds()))
            else:
                metrics.SNAPSHOTS_PUBLISHED.labels("schedule").inc()


def _mark(members: Iterable[Member]) -> Mark:
    mark = Mark()
    for m in members:
        if m.last_event_time is not None and (mark.last_event_time is None or m.last_event_time > mark.last_event_time):
            mark.last_event_time = m.last_event_time
        for tp, offset in m.offsets.items():
            mark.offsets[tp] = max(offset, mark.offsets.get(tp, 0))
    return mark

