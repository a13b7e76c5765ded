"""Share rules: the programme's required share (graduaat ⅓), on course, reached, bands, quartiles.

Real shares are judged on exact minutes (confirmed ÷ study load, `werkplek_events.rules.real_share`) so
a student one minute short of ⅓ has not reached it; their quartiles are taken of the exact fractions
too. Projected shares exist only as published, rounded to 4 places, so the threshold is rounded the
same way: a projection of 0.3333 is on course for ⅓."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from werkplek_events.rules import rounded as to_places  # a rational as published: 4 places, half-even
from werkplek_events.vocabulary import Level

from .records import ShareFacts

THIRD = Fraction(1, 3)
BAND_EDGES = (Fraction(1, 10), Fraction(1, 5), THIRD, Fraction(1, 2))


def required_share(level: Level, given: Decimal | None) -> Fraction | None:
    """The programme's own figure, else ⅓ for graduaat by decree, else no requirement."""
    if given is not None:
        return Fraction(given)
    return THIRD if level == Level.GRADUAAT else None


def real_fraction(share: ShareFacts) -> Fraction:
    return share.real


def reached(share: ShareFacts, required: Fraction) -> bool:
    """Confirmed minutes alone reach the required share (exact)."""
    return real_fraction(share) >= required


def on_course(share: ShareFacts, required: Fraction) -> bool:
    """Hour accounting's judgement when it gave one (it owns the projection), else the projection."""
    if share.on_course_flag is not None:
        return share.on_course_flag
    return share.projected_share >= to_places(required)


def band(value: Fraction, edges: tuple[Fraction, ...] = BAND_EDGES) -> int:
    """Index into report_layout.BANDS: the number of edges at or below the value (exact, in integers:
    this runs for every student of every report)."""
    n, d = value.numerator, value.denominator
    return sum(1 for edge in edges if n * edge.denominator >= edge.numerator * d)


ROUNDED_EDGES = tuple(Fraction(to_places(e)) for e in BAND_EDGES)


def projected_band(value: Fraction) -> int:
    """The band of a published (rounded) projection: against the edges rounded the same way."""
    return band(value, ROUNDED_EDGES)


def ordered(values: list[Fraction]) -> list[Fraction]:
    """Sorted by their float value: shares are minutes over loads below 10^7, so two different ones
    differ by more than 10^-14, which a double tells apart; much cheaper than comparing fractions."""
    return sorted(values, key=float)


def quartiles(values: list[Fraction]) -> tuple[Decimal, Decimal, Decimal]:
    """Q1, median, Q3 by linear interpolation between order statistics (inclusive method)."""
    in_order = ordered(values)
    return tuple(to_places(quantile(in_order, Fraction(q, 4))) for q in (1, 2, 3))  # type: ignore[return-value]


def median(values: list[Fraction]) -> Decimal | None:
    return to_places(quantile(ordered(values), Fraction(1, 2))) if values else None


def quantile(ordered: list[Fraction], p: Fraction) -> Fraction:
    pos = (len(ordered) - 1) * p
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
