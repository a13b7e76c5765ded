"""Stage two of funding reports: per institution (the unit), its reports. A processor of the stream
runtime over the repartition topic of stage one (members.py). Its state: each member student's facts
(highest version wins; a part of the state each, so a batch writes only the students it changed),
the last version published of each report and of each programme's trajectory rows, and the
snapshots taken. A batch rebuilds the unit's cohort from its members' facts and the reference data
and computes each of its publication sets (an academic year's programme, roll-up and pilot reports,
suppressed together: domain/publication.py) with the domain's rules; a new version is published
only where the content changed. A set or a report that cannot be made is set aside on the DLQ and
the unit's others go on (quarantine.py). Versions come from the state, which commits with them (one
owner per unit through the consumer group, fenced): they only go up. A changed programme, workplace,
mentor or pilot re-evaluates the units tagged with it. Once per snapshot
period (`reports_snapshot_every`) every published report of the unit is snapshotted: at the pass
over every unit when the period starts, or when the report is first published in it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from werkplek_common.runtime import Context, Processor
from werkplek_events import (
    Event,
    FundingReportPublished,
    FundingTrajectoriesPublished,
    KafkaRecord,
    ReportMemberChanged,
    ReportSection,
    encode,
    topic_for,
)

from . import codec, metrics
from .compute import Mark, compute_set, report_event
from .config import Settings
from .domain.keys import ReportKey
from .domain.publication import set_keys
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


@dataclass(frozen=True)
class Rows:
    """A programme's trajectory rows as last published: their version and a digest of their content
    (the rows themselves are on their restricted topic, not kept in the state)."""

    version: int
    digest: str


codec.register(Rows)


@dataclass
class UnitState:
    institution_id: str = ""
    members: dict[str, Member] = field(default_factory=dict)  # student -> the facts' version, watermark
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)  # student -> facts (a part of the state each)
    published: dict[str, FundingReportPublished] = field(default_factory=dict)  # report id -> latest
    rows: dict[str, Rows] = field(default_factory=dict)  # report id -> its trajectory rows as last published
    snapshots: set[str] = field(default_factory=set)
    quarantined: dict[str, str] = field(default_factory=dict)  # report id (or rows:<id>) -> why not published
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
        s = UnitState(state.institution_id, dict(state.members), dict(state.facts), dict(state.published),
                      dict(state.rows), set(state.snapshots), dict(state.quarantined))
        for e in events:
            assert isinstance(e, ReportMemberChanged)
            s.institution_id = e.institution_id
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
        years = sorted({k.academic_year for k in cohort.report_keys() if k.institution_id == s.institution_id})
        out: list[Event | KafkaRecord] = []
        for year in years:
            try:
                with metrics.COMPUTE_SECONDS.time():
                    computed = compute_set(cohort, (s.institution_id, year), self.cfg.pseudonym_key,
                                           self.cfg.reports_min_count)
            except per_report() as exc:  # this set only: the institution's other years go on
                for key in set_keys(cohort, (s.institution_id, year)):
                    out += _quarantine(s, key.report_id, key, exc, None, ctx)
                continue
            failed: set[ReportKey] = set()
            for key, sections in sorted(computed.reports.items()):
                if not self._report(s, key, sections, mark, ctx, out):
                    failed.add(key)
            for key, sections in sorted(computed.trajectories.items()):
                if key not in failed:  # a programme whose report failed publishes no rows either
                    self._rows(s, key, sections, mark, ctx, out)
        return out

    def _report(self, s: UnitState, key: ReportKey, sections: list[ReportSection], mark: Mark, ctx: Context,
                out: list[Event | KafkaRecord]) -> bool:
        """A new version of one report where its content changed; False when it cannot be made."""
        old, event = s.published.get(key.report_id), None
        if old is not None and old.sections == sections:
            return True
        try:
            event = report_event(key, sections, old.version + 1 if old else 1, mark, ctx.now)
            check_size(encode(event, source=SOURCE).value)
        except per_report() as exc:  # this report only: the set's others are still published
            out += _quarantine(s, key.report_id, key, exc, event if isinstance(event, FundingReportPublished)
                               else None, ctx)
            return False
        assert isinstance(event, FundingReportPublished)
        s.published[key.report_id] = event
        s.quarantined.pop(key.report_id, None)
        out.append(event)
        return True

    def _rows(self, s: UnitState, key: ReportKey, sections: list[ReportSection], mark: Mark, ctx: Context,
              out: list[Event | KafkaRecord]) -> None:
        """A new version of a programme's trajectory rows where they changed; rows that cannot be made
        are quarantined by their report's key only: individual rows never go to the report topic's DLQ."""
        digest = hashlib.sha256(orjson.dumps([x.model_dump(mode="json") for x in sections])).hexdigest()
        old = s.rows.get(key.report_id)
        if old is not None and old.digest == digest:
            return
        version = old.version + 1 if old else 1
        try:
            event = report_event(key, sections, version, mark, ctx.now, FundingTrajectoriesPublished)
            check_size(encode(event, source=SOURCE).value)
        except per_report() as exc:
            out += _quarantine(s, f"rows:{key.report_id}", key, exc, None, ctx)
            return
        s.rows[key.report_id] = Rows(version, digest)
        s.quarantined.pop(f"rows:{key.report_id}", None)
        out.append(event)

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
        tags = {f"programme:{e.programme_id}" for e in cohort.enrolments.values()}
        tags.add(f"institution:{state.institution_id}")  # its pilots
        for pid, agreed in cohort.placements.items():
            tags |= {f"workplace:{agreed.workplace_id}", f"mentor:{cohort.placement_terms(pid).mentor_id}"}
        return sorted(tags)

    def dump(self, state: UnitState) -> bytes:
        return codec.dumps({"institution_id": state.institution_id, "members": state.members,
                            "published": state.published, "rows": state.rows, "snapshots": state.snapshots,
                            "quarantined": state.quarantined})

    def dump_parts(self, state: UnitState) -> Mapping[str, bytes | None]:
        return {sid: codec.dumps(state.facts[sid]) if sid in state.facts else None for sid in state.changed}

    def load_parted(self, key: str, head: bytes, parts: Mapping[str, bytes]) -> UnitState:
        data = codec.loads(head)
        facts = {sid: codec.loads(blob) for sid, blob in parts.items()}
        return UnitState(data["institution_id"], data["members"], facts, data["published"], data["rows"],
                         data["snapshots"], data["quarantined"])

    def committed(self, outputs: Sequence[Any]) -> None:
        for o in outputs:
            if isinstance(o, KafkaRecord):
                self.set_aside.committed(o)
            elif isinstance(o, FundingTrajectoriesPublished):
                continue  # counted with its report
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



def _quarantine(s: UnitState, slot: str, key: ReportKey, exc: Exception, report: FundingReportPublished | None,
                ctx: Context) -> list[Event | KafkaRecord]:
    """Set one report (or its rows) aside; its DLQ record once per reason."""
    if s.quarantined.get(slot) == reason_of(exc):
        return []
    s.quarantined[slot] = reason_of(exc)
    return [dead_record(key, exc, report, ctx.now)]
