"""Success within the nominal duration, per cohort of entry (docs/domain.md, "Funding and pilots").

A programme's nominal duration is its number of phases, in academic years (a phase is a year of
60 ECTS). A trajectory that entered in year E graduated *within the nominal duration* when it
graduated in year E + phases − 1 at the latest, *in the extra year* when in year E + phases. The
report of year Y shows the cohort that entered in Y − phases: its nominal duration ended with Y − 1,
its extra year ends with Y, so its figures are final when Y ends and no other year reports it."""

from __future__ import annotations

from enum import StrEnum

from werkplek_events.vocabulary import EnrolmentEndReason

from .records import EntryView


class Outcome(StrEnum):
    WITHIN_NOMINAL = "within_nominal"
    EXTRA_YEAR = "extra_year"
    LATER = "later"
    DROPPED_OUT = "dropped_out"
    TRANSFERRED = "transferred"
    NONE = "none"  # still enrolled, or nothing known


def first_year(academic_year: str) -> int:
    return int(academic_year[:4])


def closing_cohort(e: EntryView, year: str) -> bool:
    """Whether the trajectory's nominal duration plus one year ends with `year`."""
    return first_year(year) - first_year(e.entry_year) == e.programme.phases


def outcome_of(e: EntryView, year: str) -> Outcome:
    """The trajectory's result as known at the end of `year`."""
    if e.graduated_in is not None and e.graduated_in <= year:
        taken = first_year(e.graduated_in) - first_year(e.entry_year) + 1
        if taken <= e.programme.phases:
            return Outcome.WITHIN_NOMINAL
        return Outcome.EXTRA_YEAR if taken == e.programme.phases + 1 else Outcome.LATER
    if e.left == EnrolmentEndReason.DROPPED_OUT:
        return Outcome.DROPPED_OUT
    if e.left == EnrolmentEndReason.TRANSFERRED:
        return Outcome.TRANSFERRED
    return Outcome.NONE
