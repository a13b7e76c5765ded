"""Hour accounting's functional core, part 3: which events a student's new figures call for. Pure.

- `ShareUpdated` only when a published value changed (`as_of` alone is not a change).
- `version` = the number of distinct events the student's state has absorbed (never lower than the
  last published version + 1). It rises with every change of the state, is the same whatever order
  the events arrived in, and grows with the set of events: after a crash and replay, the read model's
  "higher version wins" upsert therefore always ends at the figures of the complete event set, even
  though replayed batches may coalesce differently than before the crash.
- The event id is derived from (student, version), so a replay that publishes a version again
  publishes it under the same id and consumers' deduplication by event id drops it.
- `StudentRiskStatusChanged` when the status differs from the last published one (a student's first
  status is compared with on track): worsened when it moved towards behind, else recovered.
- Shares are rounded half-even to 4 places here, and only here (`werkplek_events.rules.rounded`).
- The share per academic year (`per_year`): confirmed minutes of that year's placements ÷ the study
  load of one year of the programme (= one phase's load), for every year with placements and always
  for the current one.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from werkplek_events import PhaseShare, ShareUpdated, StudentRiskStatusChanged, YearShare
from werkplek_events.rules import real_share, rounded, ten_thousandths
from werkplek_events.vocabulary import ShareStatus

from .domain import Emitted, StudentState
from .projection import Figures

NAMESPACE = uuid.UUID("6f6e1c2e-6b84-4d53-9a41-6b3c0b2f8a10")  # hour accounting's output ids
SEVERITY = {ShareStatus.ON_TRACK: 0, ShareStatus.AT_RISK: 1, ShareStatus.BEHIND: 2}


def _values(f: Figures) -> tuple[Any, ...]:
    """What a ShareUpdated shows, as plain values (compared for "changed", stored with the state)."""
    o = f.overall
    return (f.programme_id, f.academic_year, (o.confirmed, o.pending, o.rejected), f.planned_minutes,
            f.study_load_minutes, f.target_to_date_minutes, ten_thousandths(f.real_share),
            ten_thousandths(f.projected_share), tuple(sorted((ph, t.confirmed) for ph, t in f.per_phase.items())),
            f.status.value, f.on_course_for_required_share, f.build_up_ok, _year_minutes(f))


def _year_minutes(f: Figures) -> tuple[tuple[str, int], ...]:
    """Confirmed minutes per academic year: those with placements, and the current one."""
    years = {y: t.confirmed for y, t in f.per_year.items()}
    years.setdefault(f.academic_year, 0)
    return tuple(sorted(years.items()))


def share_updated(student_id: str, version: int, f: Figures, caused_by: uuid.UUID | None) -> ShareUpdated:
    per_phase = [PhaseShare(phase=ph, confirmed_minutes=f.per_phase[ph].confirmed if ph in f.per_phase else 0,
                            study_load_minutes=f.phase_load_minutes, share=rounded(share))
                 for ph, share in sorted(f.phase_shares.items())]
    load = f.phase_load_minutes
    per_year = [YearShare(academic_year=y, confirmed_minutes=m, study_load_minutes=load,
                          share=rounded(real_share(m, load))) for y, m in _year_minutes(f)]
    return ShareUpdated(
        event_id=uuid.uuid5(NAMESPACE, f"share:{student_id}:{version}"), student_id=student_id,
        programme_id=f.programme_id, academic_year=f.academic_year, version=version, as_of=f.as_of,
        confirmed_minutes=f.overall.confirmed, pending_minutes=f.overall.pending,
        rejected_minutes=f.overall.rejected, planned_minutes=f.planned_minutes,
        study_load_minutes=f.study_load_minutes, target_to_date_minutes=f.target_to_date_minutes,
        real_share=rounded(f.real_share), projected_share=rounded(f.projected_share),
        per_phase=per_phase, per_year=per_year, status=f.status,
        on_course_for_required_share=f.on_course_for_required_share, build_up_ok=f.build_up_ok, caused_by=caused_by)


def _risk_change(student_id: str, previous: str, update: ShareUpdated) -> StudentRiskStatusChanged | None:
    prev = ShareStatus(previous)
    if prev == update.status:
        return None
    return StudentRiskStatusChanged(
        event_id=uuid.uuid5(NAMESPACE, f"risk:{student_id}:{update.version}"), student_id=student_id,
        programme_id=update.programme_id, previous_status=prev, status=update.status,
        worsened=SEVERITY[update.status] > SEVERITY[prev], real_share=update.real_share,
        projected_share=update.projected_share, version=update.version)


def changes(state: StudentState, f: Figures | None,
            caused_by: uuid.UUID | None) -> tuple[StudentState, ShareUpdated | None, StudentRiskStatusChanged | None]:
    """The state (remembering what it published) and the events to publish for figures `f`."""
    if f is None:
        return state, None, None
    values = _values(f)
    last = state.emitted
    if last is not None and last.values == values:
        return state, None, None
    version = max(state.events_applied, last.version + 1 if last else 1)
    update = share_updated(state.student_id, version, f, caused_by)
    risk = _risk_change(state.student_id, last.status if last else ShareStatus.ON_TRACK.value, update)
    return replace(state, emitted=Emitted(version, values, f.status.value)), update, risk
