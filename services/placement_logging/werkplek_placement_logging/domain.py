"""The rules of the time ledger, as pure functions over frozen values (no HTTP, no database).

A violation names the field at fault and a reason code (the metrics label of a refusal); a request
is refused with every violation at once, so the phone can show each message next to its field."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from werkplek_events import TimeEntryConfirmed, TimeEntryDecisionReversed, TimeEntryRejected
from werkplek_events.rules import Decisions, entry_status
from werkplek_events.vocabulary import EntryStatus

DAY_MINUTES = 24 * 60


@dataclass(frozen=True)
class Violation:
    field: str
    message: str
    reason: str


@dataclass(frozen=True)
class Draft:
    """An entry as sent by the phone: a duration, or a start and end time (or both, if they agree)."""

    entry_id: uuid.UUID
    placement_id: str
    work_date: date
    start_time: time | None
    end_time: time | None
    duration_minutes: int | None
    activity: str
    outcome_ids: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Facts:
    """A valid revision of an entry: the duration is always known."""

    entry_id: uuid.UUID
    placement_id: str
    work_date: date
    start_time: time | None
    end_time: time | None
    duration_minutes: int
    activity: str
    outcome_ids: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class PlacementView:
    placement_id: str
    student_id: str
    start_date: date
    end_date: date
    ended_on: date | None
    outcome_ids: frozenset[str]


@dataclass(frozen=True)
class Logged:
    """An entry of the student already in the ledger (not withdrawn), for the day and overlap rules."""

    entry_id: uuid.UUID
    work_date: date
    start_time: time | None
    end_time: time | None
    duration_minutes: int


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def resolve(draft: Draft) -> tuple[Facts | None, list[Violation]]:
    """Work out the duration from start/end when needed; refuse a missing or contradictory one."""
    errors: list[Violation] = []
    duration = draft.duration_minutes
    if (draft.start_time is None) != (draft.end_time is None):
        missing = "end_time" if draft.end_time is None else "start_time"
        errors.append(Violation(missing, "give both start_time and end_time, or neither", "times"))
    elif draft.start_time is not None and draft.end_time is not None:
        span = _minutes(draft.end_time) - _minutes(draft.start_time)
        if span <= 0:
            errors.append(Violation("end_time", "must be after start_time (log a night shift as two entries)",
                                    "duration"))
        elif duration is None:
            duration = span
        elif duration != span:
            errors.append(Violation("duration_minutes", f"is {duration} but start_time..end_time is {span}",
                                    "times"))
    if duration is None and not errors:
        errors.append(Violation("duration_minutes", "give a duration, or a start_time and end_time", "duration"))
    elif duration is not None and duration <= 0:
        errors.append(Violation("duration_minutes", "must be more than 0 minutes", "duration"))
    if errors or duration is None:
        return None, errors
    return Facts(draft.entry_id, draft.placement_id, draft.work_date, draft.start_time, draft.end_time,
                 duration, draft.activity, draft.outcome_ids, draft.description), []


def check_placement(facts: Facts, placement: PlacementView | None, student_id: str) -> list[Violation]:
    """Unknown placements and another student's look the same: existence is never revealed."""
    if placement is None or placement.student_id != student_id:
        return [Violation("placement_id", "you have no placement with this id", "unknown_placement")]
    errors = []
    if placement.ended_on is not None and facts.work_date > placement.ended_on:
        errors.append(Violation("placement_id", f"the placement ended on {placement.ended_on}", "placement_ended"))
        errors.append(Violation("work_date", f"is after the end of the placement ({placement.ended_on})",
                                "placement_ended"))
    elif not placement.start_date <= facts.work_date <= placement.end_date:
        errors.append(Violation("work_date", f"is outside the placement period {placement.start_date}.."
                                f"{placement.end_date}", "outside_period"))
    unknown = [o for o in facts.outcome_ids if o not in placement.outcome_ids]
    if unknown:
        errors.append(Violation("outcome_ids", f"not in the learning agreement: {', '.join(unknown)}", "outcome"))
    return errors


def check_not_future(facts: Facts, now_local: datetime, skew: timedelta) -> list[Violation]:
    """`now_local` is the wall clock where the student works, naive; a small skew is tolerated."""
    limit = now_local + skew
    if facts.start_time is not None:
        ends = datetime.combine(facts.work_date, facts.start_time) + timedelta(minutes=facts.duration_minutes)
        if ends > limit:
            return [Violation("work_date", "the entry ends in the future", "future"),
                    Violation("end_time", "is in the future", "future")]
        return []
    if facts.work_date > limit.date():
        return [Violation("work_date", "is in the future", "future")]
    return []


def _overlaps(a: Facts | Logged, b: Logged) -> bool:
    if a.start_time is None or a.end_time is None or b.start_time is None or b.end_time is None:
        return False
    return a.work_date == b.work_date and a.start_time < b.end_time and b.start_time < a.end_time


def check_day(facts: Facts, others: Iterable[Logged]) -> list[Violation]:
    """No more than 24 h on one day across the student's entries; no overlapping times."""
    same_day = [o for o in others if o.work_date == facts.work_date and o.entry_id != facts.entry_id]
    errors = []
    total = facts.duration_minutes + sum(o.duration_minutes for o in same_day)
    if total > DAY_MINUTES:
        errors.append(Violation("duration_minutes", f"would make {total} minutes on {facts.work_date}; "
                                f"at most {DAY_MINUTES} per day", "day_limit"))
    if any(_overlaps(facts, o) for o in same_day):
        errors.append(Violation("start_time", "overlaps another entry of yours", "overlap"))
        errors.append(Violation("end_time", "overlaps another entry of yours", "overlap"))
    return errors


def validate(draft: Draft, placement: PlacementView | None, student_id: str, others: Sequence[Logged],
             now_local: datetime, skew: timedelta) -> tuple[Facts | None, list[Violation]]:
    """Every rule of a new revision; returns the facts only when nothing is at fault."""
    facts, errors = resolve(draft)
    if facts is None:
        # still report the rules that do not need a duration, so the student sees everything at once
        probe = Facts(draft.entry_id, draft.placement_id, draft.work_date, None, None, 1, draft.activity,
                      draft.outcome_ids, draft.description)
        return None, errors + check_placement(probe, placement, student_id) + check_not_future(probe, now_local, skew)
    errors = (check_placement(facts, placement, student_id) + check_not_future(facts, now_local, skew)
              + check_day(facts, others))
    return (None, errors) if errors else (facts, [])


def as_logged(facts: Facts) -> Logged:
    return Logged(facts.entry_id, facts.work_date, facts.start_time, facts.end_time, facts.duration_minutes)


def same_facts(a: Facts, b: Facts) -> bool:
    return a == b


def patched(current: Facts, changes: dict[str, object]) -> Draft:
    """A correction sends only what changes; the rest is kept from the current revision.
    Setting times recomputes the duration unless a duration is sent too."""
    base = Draft(current.entry_id, current.placement_id, current.work_date, current.start_time, current.end_time,
                 current.duration_minutes, current.activity, current.outcome_ids, current.description)
    if ("start_time" in changes or "end_time" in changes) and "duration_minutes" not in changes:
        base = replace(base, duration_minutes=None)
    if "duration_minutes" in changes and "start_time" not in changes and "end_time" not in changes:
        base = replace(base, start_time=None, end_time=None)
    return replace(base, **changes)  # type: ignore[arg-type]


# --- the state of an entry -------------------------------------------------------------------

PENDING, CONFIRMED, REJECTED, WITHDRAWN = (EntryStatus.PENDING, EntryStatus.CONFIRMED, EntryStatus.REJECTED,
                                           EntryStatus.WITHDRAWN)
MentorDecision = TimeEntryConfirmed | TimeEntryRejected | TimeEntryDecisionReversed


def refuse_change(decision: EntryStatus, withdrawn: bool) -> str | None:
    """Why an entry may not be corrected or withdrawn, or None. A confirmed entry is immutable."""
    if withdrawn:
        return "the entry was withdrawn"
    if decision is CONFIRMED:
        return "the entry was confirmed by the mentor and is immutable; ask the mentor to reverse the decision"
    return None


def decide(standing: EntryStatus, current_revision: int, event: MentorDecision) -> EntryStatus | None:
    """The decision status after a mentor's event, by the one rule (`werkplek_events.rules.entry_status`)
    over the decision standing on the current revision and this event; None when the event does not
    apply: a decision on an older revision than the current one is kept in the history but changes
    nothing. A reversal undoes a standing decision of its kind (a reversal of the other kind changes
    nothing)."""
    decisions = Decisions.standing(standing, current_revision)
    if isinstance(event, TimeEntryDecisionReversed):
        return entry_status(current_revision, decisions.reversed(event.reversed))
    if event.entry_revision != current_revision:
        return None
    return entry_status(current_revision, decisions.decided(event.DECISION, event.entry_revision))


def status_of(decision: EntryStatus, withdrawn: bool) -> EntryStatus:
    return WITHDRAWN if withdrawn else decision


def etag(version: int) -> str:
    return f'"{version}"'


def etag_matches(header: str, version: int) -> bool:
    """If-Match: a list of entity tags or `*`; weak tags compare by their opaque part (RFC 9110 says
    If-Match uses strong comparison, and our tags are strong, so W/ never matches)."""
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag(version) in tags


# --- a batch of new entries ---------------------------------------------------------------------

CREATED, DUPLICATE, CONFLICT, INVALID = "created", "duplicate", "conflict", "invalid"


@dataclass(frozen=True)
class Verdict:
    kind: str  # created / duplicate / conflict / invalid
    entry_id: uuid.UUID | None
    facts: Facts | None = None
    violations: tuple[Violation, ...] = ()


def judge(items: Sequence[Draft | list[Violation]], placements: dict[str, PlacementView], day: Sequence[Logged],
          existing: dict[uuid.UUID, str], student_id: str, now_local: datetime, skew: timedelta) -> list[Verdict]:
    """Judge each item in order; an accepted item counts for the day and overlap rules of the next.
    A re-sent entry id is a duplicate (never a second entry); another student's id is a conflict."""
    by_day: dict[date, list[Logged]] = {}  # the day and overlap rules only look at the entry's own day
    for logged in day:
        by_day.setdefault(logged.work_date, []).append(logged)
    seen: set[uuid.UUID] = set()
    verdicts: list[Verdict] = []
    for item in items:
        if isinstance(item, list):
            verdicts.append(Verdict(INVALID, None, violations=tuple(item)))
            continue
        if item.entry_id in existing or item.entry_id in seen:
            mine = existing.get(item.entry_id, student_id) == student_id
            verdicts.append(Verdict(DUPLICATE if mine else CONFLICT, item.entry_id))
            continue
        same_day = by_day.setdefault(item.work_date, [])
        facts, errors = validate(item, placements.get(item.placement_id), student_id, same_day, now_local, skew)
        if facts is None:
            verdicts.append(Verdict(INVALID, item.entry_id, violations=tuple(errors)))
            continue
        seen.add(facts.entry_id)
        same_day.append(as_logged(facts))
        verdicts.append(Verdict(CREATED, facts.entry_id, facts))
    return verdicts
