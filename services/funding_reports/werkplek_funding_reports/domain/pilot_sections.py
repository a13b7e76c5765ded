"""A pilot's (proeftuin's) report for one academic year: the pilot itself, inflow per target group,
study efficiency, results and cost (position paper: pilots must be evaluated on inflow, study
efficiency and student success, so that cost can be weighed against impact)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction

from werkplek_events import PilotRegistered
from werkplek_events.vocabulary import PartnerKind

from .cohort_sections import target_group_rows
from .figures import Draft, Sum, count, param, ratio
from .funding_sections import hours, summed
from .records import EntryView, Member, StudentView
from .success import Outcome, outcome_of

Views = Sequence[StudentView]
CENTS = Decimal("0.01")


def euros(value: Fraction) -> Decimal:
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(CENTS, ROUND_HALF_EVEN)


def year_budget(pilot: PilotRegistered, year: str) -> Decimal | None:
    return next((b.amount_eur for b in pilot.budget if b.academic_year == year), None)


def pilot_facts(draft: Draft, pilot: PilotRegistered, year: str) -> None:
    sec = draft.section("pilot", ["value"])
    sec.put("budget_eur", "value", param(year_budget(pilot, year)))
    sec.put("budget_total_eur", "value", param(sum((b.amount_eur for b in pilot.budget), Decimal(0))))
    sec.put("programmes", "value", param(len(pilot.programme_ids)))
    sec.put("partners", "value", param(len(pilot.partners)))
    for kind in PartnerKind:
        sec.put(f"partners_{kind.value}", "value", param(sum(1 for p in pilot.partners if p.kind == kind)))
    sec.put("period_days", "value", param((pilot.end_date - pilot.start_date).days + 1))


def inflow(draft: Draft, views: Views) -> None:
    draft.section("target_groups", ["students"])
    target_group_rows(draft, "target_groups", "students", views)


RESULTS = (("graduated_within_nominal", Outcome.WITHIN_NOMINAL), ("graduated_in_extra_year", Outcome.EXTRA_YEAR),
           ("graduated_later", Outcome.LATER), ("dropped_out", Outcome.DROPPED_OUT),
           ("transferred", Outcome.TRANSFERRED), ("continuing", Outcome.NONE))


def results(draft: Draft, views: Views, entries: Mapping[Member, EntryView], year: str) -> None:
    """What became of the pilot's trajectories this year: graduated (against the nominal duration, by
    their cohort of entry), left, or continuing."""
    sec = draft.section("success", ["value"])
    total = sec.put("trajectories", "value", count({v.member for v in views}))

    def outcome(v: StudentView) -> Outcome:
        e = entries.get(v.member)
        return Outcome.NONE if v.ended is None or e is None else outcome_of(e, year)

    got = [(v.member, outcome(v)) for v in views]
    parts = tuple(sec.put(row, "value", count({m for m, o in got if o == kind})) for row, kind in RESULTS)
    draft.add_sums(Sum(total, parts))


def cost(draft: Draft, pilot: PilotRegistered, views: Views, year: str) -> None:
    """The year's budget per trajectory and per confirmed hour of the pilot's trajectories this year."""
    sec = draft.section("cost", ["value"])
    budget = year_budget(pilot, year)
    sec.put("budget_eur", "value", param(budget))
    members = {v.member for v in views}
    n = sec.put("trajectories", "value", count(members))
    per = euros(Fraction(budget) / len(members)) if budget is not None and members else None
    sec.put("cost_per_trajectory", "value", ratio(per, members, (n,)))
    minutes = [(v.member, v.share.year_minutes) for v in views
               if v.share is not None and v.share.year_minutes is not None]
    total = hours(sum(x for _, x in minutes))
    h = sec.put("confirmed_hours", "value", summed(minutes, "confirmed_hours_year", 60))
    per_hour = euros(Fraction(budget) / total) if budget is not None and total else None
    sec.put("cost_per_confirmed_hour", "value", ratio(per_hour, {m for m, _ in minutes}, (h,)))
