"""Hour accounting's functional core, part 2: the figures of one student on a given day. Pure.

Rules (docs/domain.md, "Hours and shares"), all in whole minutes and exact
fractions; rounding (half-even, 4 places) happens only when an event is built (`outputs.py`):
- study load = ECTS × hours per ECTS × 60; a phase's load = study load ÷ phases;
- an entry counts for the decision on its *current* revision: a confirmation of an older revision
  does not confirm a corrected entry (the correction is pending again) — the one rule,
  `werkplek_events.rules.entry_status`;
- **real share** = confirmed minutes ÷ study load (`werkplek_events.rules.real_share`); per phase:
  confirmed minutes of that phase's placements ÷ the phase's load;
- **target to date** of a placement = its planned minutes spread evenly over its calendar days
  (start and end inclusive), summed over the days up to `as_of`; a placement ended early keeps only
  the planned minutes of the days before it ended; an ended enrolment stops the clock at its end;
- **projected share** = (confirmed + planned minutes of the days still ahead) ÷ study load;
- **status** = confirmed minutes ÷ target to date against the programme's thresholds (below
  `behind_below`: behind; below `at_risk_below`: at risk; else, or with no target yet, on track);
- graduaat (or any programme with a required share): on course when projected ≥ required (⅓ by decree);
- dual track: the share builds up when phase 1 has a share and no later phase (up to the current one,
  counted by its projected share) falls below the one before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import pairwise

from werkplek_events.rules import entry_status, real_share
from werkplek_events.vocabulary import EntryStatus, ShareStatus

from .domain import Placement, Programme, StudentState


@dataclass(frozen=True, slots=True)
class Tally:
    confirmed: int = 0
    pending: int = 0
    rejected: int = 0


@dataclass(frozen=True, slots=True)
class Figures:
    programme_id: str
    academic_year: str
    as_of: date
    overall: Tally
    per_placement: dict[str, Tally]
    per_phase: dict[int, Tally]
    per_year: dict[str, Tally]
    planned_minutes: int
    study_load_minutes: int
    phase_load_minutes: int
    target_to_date_minutes: int
    real_share: Fraction
    projected_share: Fraction
    phase_shares: dict[int, Fraction]
    status: ShareStatus
    on_course_for_required_share: bool | None
    build_up_ok: bool | None
    held: int  # facts waiting for what they refer to


def _days(first: date, last: date) -> int:
    return max(0, (last - first).days + 1)


def placement_plan(p: Placement, as_of: date) -> tuple[Fraction, Fraction]:
    """(planned minutes it will have had, target to date), pro rata per calendar day."""
    if p.start is None or p.end is None:
        return Fraction(0), Fraction(0)
    total = _days(p.start, p.end)
    last = p.end if p.ended_on is None else min(p.end, p.ended_on)
    per_day = Fraction(p.planned_minutes, total)
    return per_day * _days(p.start, last), per_day * _days(p.start, min(as_of, last))


def _held(state: StudentState, agreed: set[str], waiting_entries: int) -> int:
    """Facts waiting for their reference: entries of placements not agreed yet (counted by `_tallies`)
    and decisions on entries not known (or not counting) yet."""
    if not state.decisions:  # the common case while entries are still pending: no set to build
        return waiting_entries
    known = {k for k, e in state.entries.items() if e.revision and e.placement_id in agreed}
    return waiting_entries + sum(1 for k in state.decisions if k not in known)


def _agreed(state: StudentState) -> set[str]:
    """The placements whose entries count (agreed: phase and year known); computed once per evaluation."""
    return {pid for pid, p in state.placements.items() if p.phase is not None and p.academic_year is not None}


_KINDS = (EntryStatus.CONFIRMED, EntryStatus.PENDING, EntryStatus.REJECTED)  # the columns of `_tallies`' sums
_PENDING = _KINDS.index(EntryStatus.PENDING)  # an entry without decisions (entry_status's answer for None)


def _tallies(state: StudentState,
             agreed: set[str]) -> tuple[Tally, dict[str, Tally], dict[int, Tally], dict[str, Tally], int]:
    """Minutes by decision, overall and per placement / phase / year, and the entries held until their
    placement is agreed. Summed per placement in plain ints first (this runs for every student of
    every batch, over all of the student's entries), then rolled up."""
    sums: dict[str, list[int]] = {}
    decisions = state.decisions
    waiting = 0
    for key, entry in state.entries.items():
        revision, placement_id, _, minutes, withdrawn_rev = entry  # a tuple: unpacked in one step
        if placement_id not in agreed:
            waiting += revision > 0  # held until its placement is agreed
            continue
        if revision <= withdrawn_rev:
            continue  # withdrawn (not `entry.active`: a property call per entry)
        d = decisions.get(key)
        kind = _PENDING if d is None else _KINDS.index(entry_status(revision, d))
        row = sums.get(placement_id)
        if row is None:
            row = sums[placement_id] = [0, 0, 0]
        row[kind] += minutes
    overall = Tally()
    per_pl: dict[str, Tally] = {}
    per_ph: dict[int, Tally] = {}
    per_yr: dict[str, Tally] = {}
    for pid, (c, pe, r) in sums.items():
        p = state.placements[pid]
        assert p.phase is not None and p.academic_year is not None
        per_pl[pid] = Tally(c, pe, r)
        per_ph[p.phase] = _plus(per_ph.get(p.phase, Tally()), per_pl[pid])
        per_yr[p.academic_year] = _plus(per_yr.get(p.academic_year, Tally()), per_pl[pid])
        overall = _plus(overall, per_pl[pid])
    return overall, per_pl, per_ph, per_yr, waiting


def _plus(a: Tally, b: Tally) -> Tally:
    return Tally(a.confirmed + b.confirmed, a.pending + b.pending, a.rejected + b.rejected)


def status_of(confirmed: int, target: int, programme: Programme) -> ShareStatus:
    if target <= 0:
        return ShareStatus.ON_TRACK
    # confirmed / target < n / d  <=>  confirmed * d < n * target (target > 0): exact, without Fractions
    behind, at_risk = programme.behind_below, programme.at_risk_below
    if confirmed * behind.denominator < behind.numerator * target:
        return ShareStatus.BEHIND
    if confirmed * at_risk.denominator < at_risk.numerator * target:
        return ShareStatus.AT_RISK
    return ShareStatus.ON_TRACK


def _build_up_ok(shares: dict[int, Fraction], current_phase: int) -> bool:
    seq = [shares.get(ph, Fraction(0)) for ph in range(1, current_phase + 1)]
    return seq[0] > 0 and all(a <= b for a, b in pairwise(seq))


def figures(state: StudentState, programme: Programme, as_of: date) -> Figures | None:
    """The student's figures on `as_of`; None while the student has no enrolment (held)."""
    enrolment = state.current_enrolment()
    if enrolment is None:
        return None
    ended = state.enrolment_ended.get(enrolment.academic_year)
    clock = as_of if ended is None else min(as_of, ended)
    agreed = _agreed(state)
    overall, per_pl, per_ph, per_yr, waiting = _tallies(state, agreed)
    planned = target = Fraction(0)
    ahead_by_phase: dict[int, Fraction] = {}
    for p in state.placements.values():
        if p.phase is None:
            continue
        have, to_date = placement_plan(p, clock)
        planned, target = planned + have, target + to_date
        ahead_by_phase[p.phase] = ahead_by_phase.get(p.phase, Fraction(0)) + have - to_date
    load, phase_load = programme.study_load_minutes, programme.phase_load_minutes
    projected = (overall.confirmed + sum(ahead_by_phase.values(), Fraction(0))) / load
    phase_shares = {ph: real_share(per_ph.get(ph, Tally()).confirmed, phase_load)
                    for ph in range(1, programme.phases + 1)}
    target_minutes = round(target)
    required = programme.required_share
    build_up = None
    if enrolment.dual_track:
        current = min(enrolment.phase, programme.phases)
        ahead = ahead_by_phase.get(current, Fraction(0)) / phase_load
        build_up = _build_up_ok({**phase_shares, current: phase_shares[current] + ahead}, current)
    return Figures(
        enrolment.programme_id, enrolment.academic_year, as_of, overall, per_pl, per_ph, per_yr,
        round(planned), load, phase_load, target_minutes, real_share(overall.confirmed, load), projected,
        phase_shares, status_of(overall.confirmed, target_minutes, programme),
        None if required is None else projected >= required, build_up, _held(state, agreed, waiting))
