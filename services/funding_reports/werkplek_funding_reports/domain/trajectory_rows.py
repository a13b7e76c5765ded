"""The per-trajectory rows of a programme report: each dual trajectory's six criteria with their
reason codes, and every trajectory's share of this academic year. Individual data under pseudonyms:
they go to the access-restricted trajectories topic, never to the report topic (docs/adr/0052), so
they are not suppressed there."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from .cohort_sections import year_fraction
from .criteria import judge
from .figures import Draft, Figure, Kind, param
from .funding_sections import hours
from .records import StudentView
from .rules import real_fraction, to_places

Views = Sequence[StudentView]


def _flag(passed: bool, reason: str | None = None) -> Figure:
    return Figure(Decimal(int(passed)), Kind.FLAG, reason=reason)


def dual_criteria(draft: Draft, views: Views) -> None:
    """One pseudonymous row per dual trajectory: pass (1) or fail (0) per criterion, with the reason."""
    sec = draft.section("dual_criteria", ["min_share", "co_creation", "two_components", "build_up", "competences",
                                          "outcomes", "all_six"])
    for v in sorted((v for v in views if v.dual), key=lambda v: v.pseudonym):
        for name, verdict in judge(v).items():
            sec.put(v.pseudonym, name, _flag(verdict.passed, verdict.reason))


def year_shares(draft: Draft, views: Views) -> None:
    """Every trajectory's phase, track, share of this academic year, its confirmed hours and real share."""
    sec = draft.section("year_shares", ["phase", "dual", "year_share", "confirmed_hours_year", "real_share"])
    for v in sorted(views, key=lambda v: v.pseudonym):
        year = year_fraction(v.share) if v.share is not None else None
        minutes = v.share.year_minutes if v.share is not None else None
        sec.put(v.pseudonym, "phase", param(v.phase))
        sec.put(v.pseudonym, "dual", _flag(v.dual))
        sec.put(v.pseudonym, "year_share", param(to_places(year) if year is not None else None))
        sec.put(v.pseudonym, "confirmed_hours_year", param(to_places(hours(minutes)) if minutes is not None else None))
        sec.put(v.pseudonym, "real_share", param(to_places(real_fraction(v.share)) if v.share is not None else None))
