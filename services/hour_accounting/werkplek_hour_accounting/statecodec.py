"""A student's state as bytes, for PostgreSQL (`ha_student_state.state`) and for the students kept in
memory as bytes. The state is flattened into tuples of plain values before pickling: pickling the
frozen slotted dataclasses directly runs Python code per object and was 4× slower. The bytes are
written and read only by this service, in its own table, so unpickling them is safe."""

from __future__ import annotations

import pickle
from typing import Any

from .domain import Decisions, Emitted, Enrolment, Entry, Placement, StudentState, new_state

FORMAT = 1


def dump(s: StudentState) -> bytes:
    em = s.emitted
    flat = (
        FORMAT, s.student_id, s.applied,
        tuple((y, e.programme_id, e.academic_year, e.phase, e.dual_track, e.stamp) for y, e in s.enrolments.items()),
        s.enrolment_ended,
        tuple((k, p.phase, p.academic_year, p.start, p.end, p.planned_minutes, p.terms_stamp, p.ended_on)
              for k, p in s.placements.items()),
        tuple((k, e.revision, e.placement_id, e.work_date, e.minutes, e.withdrawn_rev) for k, e in s.entries.items()),
        tuple((k, d.confirmed, d.rejected, d.reversed_confirmed, d.reversed_rejected) for k, d in s.decisions.items()),
        None if em is None else (em.version, em.values, em.status),
    )
    return pickle.dumps(flat, protocol=pickle.HIGHEST_PROTOCOL)


def load(student_id: str, raw: bytes | None) -> StudentState:
    if raw is None:
        return new_state(student_id)
    flat: tuple[Any, ...] = pickle.loads(raw)  # noqa: S301 - written only by this service (module docstring)
    if flat[0] != FORMAT:
        raise ValueError(f"state of {student_id} has format {flat[0]}, this code reads {FORMAT}")
    _, sid, applied, enrolments, ended, placements, entries, decisions, emitted = flat
    return StudentState(
        sid, applied,
        {y: Enrolment(pid, year, phase, dual, stamp) for y, pid, year, phase, dual, stamp in enrolments},
        ended,
        {k: Placement(*rest) for k, *rest in placements},
        {k: Entry(*rest) for k, *rest in entries},
        {k: Decisions(*rest) for k, *rest in decisions},
        None if emitted is None else Emitted(*emitted),
    )
