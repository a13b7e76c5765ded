"""A report before suppression: figures that remember which trajectories are behind them (for lineage
and disclosure control) and which sums hold between them. Never published as such.

A figure with a `measure` is additive: its value is the sum, over its member trajectories, of one
quantity per trajectory named by the measure (`members`: 1 each; `placements|form=dual`: that
trajectory's dual placements). Two such figures with the same measure and members are equal, and a
figure is the sum of figures of the same measure whose members partition its own: that is how
disclosure control finds the relations between reports (`privacy.relations`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from .records import Member

Ref = tuple[str, str, str]  # (section, row label, column)
MEMBERS = "members"  # the measure of a count of trajectories


class Kind(StrEnum):
    COUNT = "count"  # trajectories: suppressed below the threshold (zero included)
    TALLY = "tally"  # things (placements, outcomes, mentors): suppressed when few, or few trajectories behind
    MAGNITUDE = "magnitude"  # a sum (credits, hours): suppressed when fewer trajectories contribute
    RATIO = "ratio"  # num ÷ den: suppressed when its base is small or a source is suppressed
    STATISTIC = "statistic"  # an order statistic (quartile): suppressed when its base is small
    PARAM = "param"  # a programme or pilot parameter, or a rule version: not about anybody
    FLAG = "flag"  # one pseudonymous trajectory's pass (1) or fail (0), on the restricted topic only


@dataclass(frozen=True)
class Weighted:
    """A ratio whose numerator is a weighted sum of cells of its own report, e.g. the mean continuum
    position = (1 × n1 + … + 5 × n5) ÷ n: whoever reads the mean and n knows that weighted sum."""

    terms: tuple[tuple[int, Ref], ...]
    den: Ref


@dataclass(frozen=True)
class Figure:
    value: Decimal | None
    kind: Kind
    members: frozenset[Member] = frozenset()
    base: int = 0
    sources: tuple[Ref, ...] = ()
    reason: str | None = None
    measure: str | None = None
    exact: Fraction | None = None  # the exact value behind `value` (magnitudes, ratios)
    weighted: Weighted | None = None


def count(members: set[Member] | frozenset[Member]) -> Figure:
    return Figure(Decimal(len(members)), Kind.COUNT, frozenset(members), measure=MEMBERS)


def tally(value: int, members: set[Member] | frozenset[Member], measure: str | None) -> Figure:
    """A count of things (placements, outcomes, mentors) that involve `members` trajectories."""
    return Figure(Decimal(value), Kind.TALLY, frozenset(members), measure=measure)


def magnitude(value: Fraction, shown: Decimal, members: set[Member] | frozenset[Member], measure: str) -> Figure:
    return Figure(shown, Kind.MAGNITUDE, frozenset(members), measure=measure, exact=value)


def ratio(value: Decimal | None, members: set[Member] | frozenset[Member], sources: tuple[Ref, ...] = (),
          base: int | None = None, weighted: Weighted | None = None, exact: Fraction | None = None) -> Figure:
    """A figure summarising `base` units (default: the member trajectories). A ratio with `sources` is
    hidden with any of them; a `weighted` one stays while the audit finds it gives nothing away."""
    return Figure(value, Kind.RATIO, frozenset(members), base=len(members) if base is None else base,
                  sources=sources, weighted=weighted, exact=exact)


def statistic(value: Decimal | None, members: set[Member] | frozenset[Member]) -> Figure:
    return Figure(value, Kind.STATISTIC, frozenset(members), base=len(members))


def param(value: Decimal | int | None, reason: str | None = None) -> Figure:
    return Figure(None if value is None else Decimal(value), Kind.PARAM, reason=reason)


@dataclass(frozen=True)
class Sum:
    """`total` equals the sum of `parts` (a part may be a copy of the total elsewhere)."""

    total: Ref
    parts: tuple[Ref, ...]


@dataclass
class DraftSection:
    name: str
    columns: list[str]
    rows: dict[str, dict[str, Figure]] = field(default_factory=dict)

    def put(self, row: str, column: str, figure: Figure) -> Ref:
        self.rows.setdefault(row, {})[column] = figure
        return (self.name, row, column)


@dataclass
class Draft:
    sections: list[DraftSection] = field(default_factory=list)
    sums: list[Sum] = field(default_factory=list)

    def section(self, name: str, columns: list[str]) -> DraftSection:
        sec = DraftSection(name, columns)
        self.sections.append(sec)
        return sec

    def add_sums(self, *sums: Sum) -> None:
        self.sums.extend(sums)

    def figure(self, ref: Ref) -> Figure:
        """Raises KeyError for a figure the report does not have."""
        name, row, column = ref
        for sec in self.sections:
            if sec.name == name:
                return sec.rows[row][column]
        raise KeyError(name)

    def cells(self) -> list[tuple[Ref, Figure]]:
        return [((sec.name, row, col), fig) for sec in self.sections for row, cells in sec.rows.items()
                for col, fig in cells.items()]
