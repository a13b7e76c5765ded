"""The use case: account a batch of decoded events. No I/O: states come in through `load`, results go
out as a `BatchResult` that the engine commits (engine.py, store.py)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from werkplek_events import Event, ShareUpdated, StudentRiskStatusChanged

from .domain import Programme, StudentState, apply_all
from .outputs import changes
from .projection import figures


@dataclass
class BatchResult:
    states: dict[str, StudentState] = field(default_factory=dict)  # changed states only
    updates: list[ShareUpdated] = field(default_factory=list)
    risks: list[StudentRiskStatusChanged] = field(default_factory=list)
    waiting: dict[str, set[str]] = field(default_factory=dict)  # programme id → students held for it


def group_by_student(events: Iterable[Event]) -> dict[str, list[Event]]:
    """Per student, in arrival order (which keeps each topic partition's order)."""
    out: dict[str, list[Event]] = {}
    for event in events:
        out.setdefault(getattr(event, "student_id", ""), []).append(event)
    return out


def account_student(state: StudentState, events: list[Event], programmes: Mapping[str, Programme],
                    as_of: date, result: BatchResult, force: bool = False) -> None:
    """Apply the student's events; if anything changed, re-evaluate and collect what to publish."""
    new = apply_all(state, events)
    if new is state and not force:
        return
    enrolment = new.current_enrolment()
    programme = programmes.get(enrolment.programme_id) if enrolment else None
    if enrolment is not None and programme is None:
        result.waiting.setdefault(enrolment.programme_id, set()).add(new.student_id)
    caused_by: uuid.UUID | None = events[-1].event_id if events else None
    if programme is not None:
        new, update, risk = changes(new, figures(new, programme, as_of), caused_by)
        if update is not None:
            result.updates.append(update)
        if risk is not None:
            result.risks.append(risk)
    result.states[new.student_id] = new


def account_batch(by_student: Mapping[str, list[Event]], load: Callable[[str], StudentState],
                  programmes: Mapping[str, Programme], as_of: date,
                  reevaluate: Iterable[str] = ()) -> BatchResult:
    """Account every student of the batch; `reevaluate` names students whose programme just arrived."""
    result, forced = BatchResult(), set(reevaluate)
    for student_id in dict.fromkeys([*by_student, *sorted(forced)]):
        account_student(load(student_id), by_student.get(student_id, []), programmes, as_of, result,
                        force=student_id in forced)
    return result
