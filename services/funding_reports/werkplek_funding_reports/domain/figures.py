"""A report before suppression: figures that remember which students are behind them (for lineage)
and which sums hold between them (for complementary suppression). Never published as such."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

Ref = tuple[str, str, str]  # (section, row label, column)


class Kind(StrEnum):
    COUNT = "count"  # suppressed when the count, or the number of students behind it, is small
    RATIO = "ratio"  # summarises `base` students: suppressed when the base is small or a source is
    FLAG = "flag"  # one pseudonymous trajectory's pass (1) or fail (0)
    PARAM = "param"  # a programme parameter, not about anybody


@dataclass(frozen=True)
class Figure:
    value: Decimal | None
    kind: Kind
    members: frozenset[str] = frozenset()
    base: int = 0
    sources: tuple[Ref, ...] = ()
    reason: str | None = None


def count(members: set[str] | frozenset[str]) -> Figure:
    return Figure(Decimal(len(members)), Kind.COUNT, frozenset(members))


def tally(value: int, members: set[str] | frozenset[str]) -> Figure:
    """A count of things (placements, outcomes, mentors) that involve `members` students."""
    return Figure(Decimal(value), Kind.COUNT, frozenset(members))


def ratio(value: Decimal | None, members: set[str] | frozenset[str], sources: tuple[Ref, ...] = (),
          base: int | None = None) -> Figure:
    """A figure summarising `base` units (default: the member students)."""
    return Figure(value, Kind.RATIO, frozenset(members), base=len(members) if base is None else base,
                  sources=sources)


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

    def figure(self, ref: Ref) -> Figure:
        """Raises KeyError for a figure the report does not have."""
        name, row, column = ref
        for sec in self.sections:
            if sec.name == name:
                return sec.rows[row][column]
        raise KeyError(name)
