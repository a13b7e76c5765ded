"""The per-student job every peer runs, as a user of a stream processor would write it for this system:
one pure fold over a JSON-able dict, kept in the framework's own per-key state store.

Per student (the record key): the programme (from the enrolment) and its study load (from the programme
catalogue, reference data read once at start), and per time entry its highest revision and minutes and
whether that revision is confirmed. A record whose (entry id, revision) is not above what the state holds
is a duplicate and changes nothing; a confirmation of a revision not seen yet is held until the entry
arrives. Out: the confirmed and pending minutes and the real share (`werkplek_events.rules.real_share`,
`rounded` to 4 places like `ShareUpdated.real_share`), only when one of them changed.

It decodes with the contract's codec (`werkplek_events.decode`), so it reads the same records the engine
reads, and uses the contract's share rules (`werkplek_events.rules`); it imports nothing else of werkplek,
so it also runs in the Quix Streams virtualenv (ADR 0080)."""

from __future__ import annotations

from typing import Any

from werkplek_events import (
    Event,
    StudentEnrolled,
    TimeEntryConfirmed,
    TimeEntryCorrected,
    TimeEntryLogged,
    decode,
)
from werkplek_events.rules import real_share, rounded
from werkplek_events.topics import TOPICS

# A peer reads one topic holding the same records as the contract's topics; the CloudEvents type names
# the contract topic the codec decodes them as.
TOPIC_OF_TYPE = {spec.event.qualified_type(): spec.name for spec in TOPICS}

State = dict[str, Any]
Output = dict[str, Any]


def decode_record(value: bytes | None, headers: Any) -> Event:
    ce_type = next(((v or b"").decode() for k, v in headers or () if k == "ce_type"), "")
    return decode(TOPIC_OF_TYPE.get(ce_type, ce_type), value, headers)


def new_state() -> State:
    return {"prog": None, "e": {}, "held": {}, "c": 0, "p": 0, "out": None}


def share(confirmed: int, load: int) -> str:
    return f"{rounded(real_share(confirmed, load)):.4f}"  # the contract's one definition of both


def fold(state: State, event: Event, catalogue: dict[str, int]) -> tuple[bool, Output | None]:
    """Change `state` in place by `event`: whether the state changed (to be stored), and the output if
    the student's figures changed."""
    entries, held = state["e"], state["held"]
    if isinstance(event, StudentEnrolled):
        state["prog"] = event.programme_id
    elif isinstance(event, TimeEntryLogged | TimeEntryCorrected):
        eid = str(event.entry_id)
        old = entries.get(eid)
        if old is not None and old[0] >= event.revision:
            return False, None  # a duplicate or an older revision
        if old is not None:
            state["c" if old[2] else "p"] -= old[1]
        ok = held.get(eid) == event.revision
        entries[eid] = [event.revision, event.duration_minutes, ok]
        state["c" if ok else "p"] += event.duration_minutes
    elif isinstance(event, TimeEntryConfirmed):
        eid = str(event.entry_id)
        cur = entries.get(eid)
        if cur is None or cur[0] < event.entry_revision:
            held[eid] = max(event.entry_revision, held.get(eid, 0))  # its entry has not arrived yet
            return True, None
        if cur[0] != event.entry_revision or cur[2]:
            return False, None  # a decision on an older revision, or a redelivered one
        cur[2] = True
        state["p"] -= cur[1]
        state["c"] += cur[1]
        held[eid] = event.entry_revision
    else:
        return False, None
    load = catalogue.get(state["prog"] or "")
    if load is None:
        return True, None  # held: no enrolment in a known programme yet
    figures = [state["c"], state["p"], share(state["c"], load)]
    if figures == state["out"]:
        return True, None
    state["out"] = figures
    return True, {"student_id": event.student_id, "programme_id": state["prog"],
                  "confirmed_minutes": figures[0], "pending_minutes": figures[1], "real_share": figures[2]}
