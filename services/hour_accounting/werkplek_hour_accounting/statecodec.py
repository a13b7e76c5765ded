"""A student's state as bytes, for PostgreSQL (`runtime_state.state` of the accounting group).

The state is flattened into tuples of plain values before pickling: pickling the frozen slotted
dataclasses directly runs Python code per object and was 4x slower. Format 2 (written) also turns
dates into day ordinals and the timestamps of stamps into microseconds since the epoch: a `date` is
pickled through `__reduce__`, and an entry decoded from its event has a date object of its own, so
for a student with 100 entries the dates cost three quarters of the encoding (60 of 75 µs). Format 1
(dates pickled) is still read. The bytes are written and read only by this service, in its own
table, so unpickling them is safe."""

from __future__ import annotations

import pickle
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .domain import Decisions, Emitted, Enrolment, Entry, Placement, Stamp, StudentState, new_state

FORMAT = 2
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_day = date.fromordinal


def _ordinal(d: date | None) -> int | None:
    return None if d is None else d.toordinal()


def _date(n: int | None) -> date | None:
    return None if n is None else _day(n)


def _micros(s: Stamp | None) -> tuple[int, int] | None:
    return None if s is None else ((s[0] - _EPOCH) // _US, s[1])


def _stamp(s: tuple[int, int] | None) -> Stamp | None:
    return None if s is None else (_EPOCH + timedelta(microseconds=s[0]), s[1])


def dump(s: StudentState) -> bytes:
    em = s.emitted
    flat = (
        FORMAT, s.student_id, s.applied,
        tuple((y, e.programme_id, e.academic_year, e.phase, e.dual_track, ((e.stamp[0] - _EPOCH) // _US, e.stamp[1]))
              for y, e in s.enrolments.items()),
        tuple((y, d.toordinal()) for y, d in s.enrolment_ended.items()),
        tuple((k, p.phase, p.academic_year, _ordinal(p.start), _ordinal(p.end), p.planned_minutes,
               _micros(p.terms_stamp), _ordinal(p.ended_on)) for k, p in s.placements.items()),
        tuple((k, rev, pid, None if day is None else day.toordinal(), minutes, wrev)  # Entry is a tuple
              for k, (rev, pid, day, minutes, wrev) in s.entries.items()),
        tuple((k, d.confirmed, d.rejected, d.reversed_confirmed, d.reversed_rejected) for k, d in s.decisions.items()),
        None if em is None else (em.version, em.values, em.status),
    )
    return pickle.dumps(flat, protocol=pickle.HIGHEST_PROTOCOL)


def load(student_id: str, raw: bytes | None) -> StudentState:
    if raw is None:
        return new_state(student_id)
    flat: tuple[Any, ...] = pickle.loads(raw)  # noqa: S301 - written only by this service (module docstring)
    if flat[0] == 1:
        return _load_v1(flat)
    if flat[0] != FORMAT:
        raise ValueError(f"state of {student_id} has format {flat[0]}, this code reads 1 and {FORMAT}")
    _, sid, applied, enrolments, ended, placements, entries, decisions, emitted = flat
    return StudentState(
        sid, applied,
        {y: Enrolment(pid, year, phase, dual, (_EPOCH + timedelta(microseconds=us), eid))
         for y, pid, year, phase, dual, (us, eid) in enrolments},
        {y: _day(d) for y, d in ended},
        {k: Placement(phase, year, _date(start), _date(end), planned, _stamp(stamp), _date(ended_on))
         for k, phase, year, start, end, planned, stamp, ended_on in placements},
        {k: Entry(rev, pid, None if day is None else _day(day), minutes, wrev)
         for k, rev, pid, day, minutes, wrev in entries},
        {k: Decisions(*rest) for k, *rest in decisions},
        None if emitted is None else Emitted(*emitted),
    )


def _load_v1(flat: tuple[Any, ...]) -> StudentState:
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
