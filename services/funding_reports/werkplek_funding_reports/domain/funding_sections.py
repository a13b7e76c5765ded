"""The figures funding weighs (position paper: inflow, study efficiency, success, dual next to
non-dual): study efficiency per target group, dual and non-dual side by side, success of the cohort
whose nominal duration plus one year ends with this academic year."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from werkplek_events.report_layout import STATUSES
from werkplek_events.vocabulary import EnrolmentEndReason

from .cohort_sections import year_fraction
from .figures import Draft, DraftSection, Figure, Ref, Sum, count, magnitude, param, ratio, statistic, tally
from .records import EntryView, Member, StudentView
from .rules import median, real_fraction, to_places
from .success import Outcome, closing_cohort, first_year, outcome_of

Views = Sequence[StudentView]


def hours(minutes: int) -> Fraction:
    return Fraction(minutes, 60)


def summed(values: list[tuple[Member, int]], measure: str, per: int = 1) -> Figure:
    """A sum of whole numbers (÷ `per`: minutes as hours) as published: whole as it is, else 4 places."""
    total = Fraction(sum(x for _, x in values), per)
    shown = Decimal(total.numerator) if total.denominator == 1 else to_places(total)
    return magnitude(total, shown, {m for m, _ in values}, measure)


def credit_rows(draft: Draft, sec: DraftSection, row: str, views: Views) -> tuple[Ref, Ref, Ref]:
    """Students with credits recorded, credits taken and earned (sums) and efficiency = earned ÷ taken."""
    with_credits = [v for v in views if v.credits is not None]
    members = {v.member for v in with_credits}
    taken = [(v.member, v.credits.taken) for v in with_credits]  # type: ignore[union-attr]
    earned = [(v.member, v.credits.earned) for v in with_credits]  # type: ignore[union-attr]
    students = sec.put(row, "students", count(members))
    t = sec.put(row, "credits_taken", summed(taken, "credits_taken"))
    e = sec.put(row, "credits_earned", summed(earned, "credits_earned"))
    total_taken = sum(x for _, x in taken)
    value = to_places(Fraction(sum(x for _, x in earned), total_taken)) if total_taken else None
    sec.put(row, "efficiency", ratio(value, members, (e, t)))
    return students, t, e


def study_efficiency(draft: Draft, views: Views) -> None:
    """Credits earned ÷ credits taken per target group."""
    sec = draft.section("study_efficiency", ["students", "credits_taken", "credits_earned", "efficiency"])
    parts = [credit_rows(draft, sec, row, [v for v in views if v.status.value == row]) for row in STATUSES]
    total = credit_rows(draft, sec, "all", views)
    credit_rows(draft, sec, "over_25", [v for v in views if v.over_25])
    for i in range(3):
        draft.add_sums(Sum(total[i], tuple(p[i] for p in parts)))


SIDES: tuple[tuple[str, Callable[[Any], bool]], ...] = (  # of a StudentView or an EntryView
    ("dual", lambda v: v.dual), ("non_dual", lambda v: not v.dual), ("all", lambda v: True))


def dual_vs_non_dual(draft: Draft, views: Views) -> None:
    """The same figures for the dual and the non-dual trajectories of the report, side by side."""
    sec = draft.section("dual_vs_non_dual", [c for c, _ in SIDES])
    refs: dict[str, dict[str, Ref]] = {}
    for column, keep in SIDES:
        refs[column] = _side(sec, column, [v for v in views if keep(v)])
    for row in ("students", "confirmed_hours_year", "outcomes_agreed", "outcomes_achieved", "credits_taken",
                "credits_earned", "drop_outs"):
        draft.add_sums(Sum(refs["all"][row], (refs["dual"][row], refs["non_dual"][row])))


def _side(sec: DraftSection, column: str, views: Views) -> dict[str, Ref]:
    shared = [v for v in views if v.share is not None]
    out = {"students": sec.put("students", column, count({v.member for v in views}))}
    sec.put("real_share_median", column, statistic(median([real_fraction(v.share) for v in shared]),  # type: ignore[arg-type]
                                                   {v.member for v in shared}))
    years = [(v.member, f) for v in shared if (f := year_fraction(v.share)) is not None]  # type: ignore[arg-type]
    sec.put("year_share_median", column, statistic(median([f for _, f in years]), {m for m, _ in years}))
    minutes = [(v.member, v.share.year_minutes) for v in shared if v.share.year_minutes is not None]  # type: ignore[union-attr]
    out["confirmed_hours_year"] = sec.put("confirmed_hours_year", column, summed(minutes, "confirmed_hours_year", 60))
    covs = [(v.member, sum(c.agreed for _, c in v.coverage), sum(c.achieved for _, c in v.coverage))
            for v in views if v.coverage]
    members = {m for m, agreed, _ in covs if agreed > 0}
    agreed, achieved = sum(a for _, a, _ in covs), sum(b for _, _, b in covs)
    out["outcomes_agreed"] = sec.put("outcomes_agreed", column, tally(agreed, members, "outcomes_agreed|all"))
    out["outcomes_achieved"] = sec.put("outcomes_achieved", column, tally(achieved, members, "outcomes_achieved|all"))
    sec.put("outcomes_achieved_share", column, ratio(to_places(Fraction(achieved, agreed)) if agreed else None,
                                                     members, (out["outcomes_achieved"], out["outcomes_agreed"])))
    credits = [v for v in views if v.credits is not None]
    taken = [(v.member, v.credits.taken) for v in credits]  # type: ignore[union-attr]
    earned = [(v.member, v.credits.earned) for v in credits]  # type: ignore[union-attr]
    out["credits_taken"] = sec.put("credits_taken", column, summed(taken, "credits_taken"))
    out["credits_earned"] = sec.put("credits_earned", column, summed(earned, "credits_earned"))
    total_taken = sum(x for _, x in taken)
    sec.put("study_efficiency", column, ratio(to_places(Fraction(sum(x for _, x in earned), total_taken))
                                              if total_taken else None, {v.member for v in credits},
                                              (out["credits_earned"], out["credits_taken"])))
    out["drop_outs"] = sec.put("drop_outs", column,
                               count({v.member for v in views if v.ended == EnrolmentEndReason.DROPPED_OUT}))
    n = len(views)
    sec.put("drop_out_rate", column, ratio(to_places(Fraction(sum(v.ended == EnrolmentEndReason.DROPPED_OUT
                                                                    for v in views), n)) if n else None,
                                           {v.member for v in views}, (out["drop_outs"], out["students"])))
    return out


SUCCESS_ROWS: tuple[tuple[str, Outcome], ...] = (
    ("graduated_within_nominal", Outcome.WITHIN_NOMINAL), ("graduated_in_extra_year", Outcome.EXTRA_YEAR),
    ("dropped_out", Outcome.DROPPED_OUT), ("transferred", Outcome.TRANSFERRED), ("no_result_yet", Outcome.NONE))


def success(draft: Draft, entries: Sequence[EntryView], year: str) -> None:
    """Of the trajectories that entered `nominal years` before this one (their nominal duration ended
    last year, the extra year ends with this one): how many graduated within the nominal duration,
    within one year more, left, or have no result yet. Each cohort is reported once, in the year its
    window closes, so no two years' reports count the same entrants."""
    sec = draft.section("success", [c for c, _ in SIDES])
    cohort = [e for e in entries if closing_cohort(e, year)]
    nominal = {e.programme.phases for e in entries}
    only = nominal.pop() if len(nominal) == 1 else None  # a roll-up over programmes of other lengths: none
    refs: dict[str, dict[str, Ref]] = {}
    for column, keep in SIDES:
        sec.put("entry_year", column, param(first_year(year) - only if only is not None else None))
        sec.put("nominal_years", column, param(only))
        refs[column] = _success_column(draft, sec, column, [e for e in cohort if keep(e)], year)
    for row, _ in (("entered", None), *SUCCESS_ROWS):
        draft.add_sums(Sum(refs["all"][row], (refs["dual"][row], refs["non_dual"][row])))


def _success_column(draft: Draft, sec: DraftSection, column: str, cohort: list[EntryView], year: str) -> dict[str, Ref]:
    outcomes = [(e.member, outcome_of(e, year)) for e in cohort]
    refs = {"entered": sec.put("entered", column, count({m for m, _ in outcomes}))}
    for row, outcome in SUCCESS_ROWS:
        refs[row] = sec.put(row, column, count({m for m, o in outcomes if o == outcome}))
    draft.add_sums(Sum(refs["entered"], tuple(refs[r] for r, _ in SUCCESS_ROWS)))
    n = len(outcomes)
    within = sum(1 for _, o in outcomes if o == Outcome.WITHIN_NOMINAL)
    extra = sum(1 for _, o in outcomes if o == Outcome.EXTRA_YEAR)
    members = {m for m, _ in outcomes}
    sec.put("rate_within_nominal", column, ratio(to_places(Fraction(within, n)) if n else None, members,
                                                 (refs["graduated_within_nominal"], refs["entered"])))
    sec.put("rate_within_nominal_plus_one", column, ratio(
        to_places(Fraction(within + extra, n)) if n else None, members,
        (refs["graduated_within_nominal"], refs["graduated_in_extra_year"], refs["entered"])))
    return refs
