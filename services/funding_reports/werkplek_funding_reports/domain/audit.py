"""The linear audit of a suppression pattern: can any linear combination of the equations a reader
knows pin down a hidden figure? The equations are the relations (sums within reports, the roll-up
and pilots as sums of programme figures) and, for every published mean, mean × denominator = the
weighted sum of the counts behind it. Published figures are constants, hidden ones unknowns. A hidden
figure follows from the published ones exactly when its unit vector lies in the row space of the
system: when its row of the reduced row echelon form has no other unknown.

Arithmetic is modulo a 61-bit prime, not over the rationals: the coefficients are small integers and
4-place means, the rank over the rationals equals the rank modulo such a prime except with
negligible probability, and an error could only make the audit see a dependency that is not there
(hide more than needed), never miss one. The property test checks the outcome over the rationals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from .figures import Figure, Kind

if TYPE_CHECKING:
    from .privacy import CellId, Relation

P = (1 << 61) - 1
TARGETS = (Kind.COUNT, Kind.TALLY, Kind.MAGNITUDE)
Row = dict[int, int]
Equation = tuple[Row, list["CellId"]]  # over the hidden cells; the published cells it involves


def _mod(value: Fraction) -> int:
    return value.numerator % P * pow(value.denominator % P, -1, P) % P


class _System:
    def __init__(self, hidden: set[CellId]) -> None:
        self.hidden = hidden
        self.index: dict[CellId, int] = {}
        self.equations: list[Equation] = []

    def var(self, c: CellId) -> int:
        return self.index.setdefault(c, len(self.index))

    def add(self, terms: Sequence[tuple[CellId, int]], extra_visible: Sequence[CellId] = ()) -> None:
        row: Row = {}
        for c, coeff in terms:
            if c in self.hidden:
                v = self.var(c)
                row[v] = (row.get(v, 0) + coeff) % P
        row = {v: x for v, x in row.items() if x}
        if row:
            self.equations.append((row, [c for c, _ in terms if c not in self.hidden] + list(extra_visible)))


def equations(cells: Mapping[CellId, Figure], rels: Sequence[Relation], hidden: set[CellId]) -> _System:
    system = _System(hidden)
    for rel in rels:
        system.add([(rel.total, 1), *((p, P - 1) for p in rel.parts)])
    for cid, fig in cells.items():
        w = fig.weighted
        if w is None or cid in hidden or fig.exact is None:
            continue  # a published mean: Σ weight × count − mean × denominator = 0
        den = (cid[0], *w.den)
        system.add([*(((cid[0], *ref), weight % P) for weight, ref in w.terms), (den, P - _mod(fig.exact))], [cid])
    return system


def reduce(rows: Sequence[Row]) -> dict[int, Row]:
    """Reduced row echelon form: pivot variable → its row (pivot coefficient 1, no other pivot)."""
    pivots: dict[int, Row] = {}
    for original in rows:
        r = dict(original)
        for v in [v for v in r if v in pivots]:
            factor = r.get(v, 0)
            if factor:
                for w, x in pivots[v].items():
                    r[w] = (r.get(w, 0) - factor * x) % P
        r = {v: x for v, x in r.items() if x}
        if not r:
            continue
        p = min(r)
        inv = pow(r[p], -1, P)
        r = {v: x * inv % P for v, x in r.items()}
        for q, other in pivots.items():
            factor = other.get(p, 0)
            if factor:
                for w, x in r.items():
                    other[w] = (other.get(w, 0) - factor * x) % P
                pivots[q] = {v: x for v, x in other.items() if x}
        pivots[p] = r
    return pivots


def components(rows: Sequence[Row]) -> list[list[Row]]:
    """The equations grouped by the unknowns they share (each group is reduced on its own: most are a
    handful of sums of one section)."""
    parent: dict[int, int] = {}

    def root(v: int) -> int:
        while parent.setdefault(v, v) != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    for row in rows:
        first, *rest = row
        for v in rest:
            parent[root(v)] = root(first)
    groups: dict[int, list[Row]] = {}
    for row in rows:
        groups.setdefault(root(next(iter(row))), []).append(row)
    return list(groups.values())


def recoverable(cells: Mapping[CellId, Figure], rels: Sequence[Relation], hidden: set[CellId],
                system: _System | None = None) -> set[CellId]:
    """The hidden counts and sums that a reader could compute exactly."""
    system = system or equations(cells, rels, hidden)
    names = {i: c for c, i in system.index.items()}
    found = set()
    for group in components([r for r, _ in system.equations]):
        pivots = reduce(group)
        found |= {names[v] for v, row in pivots.items() if len(row) == 1 and cells[names[v]].kind in TARGETS}
    return found


def determined(cells: Mapping[CellId, Figure], rels: Sequence[Relation], hidden: set[CellId]) -> set[CellId]:
    """Published cells to hide next: for each recoverable hidden figure, a published cell of the
    equations nearest to it (empty: the pattern holds)."""
    system = equations(cells, rels, hidden)
    found = recoverable(cells, rels, hidden, system)
    if not found:
        return set()
    # A figure pinned down by the relations alone, without any published figure, is pinned by a
    # coincidence of populations (a pilot that happens to equal a programme's dual track), which a
    # reader cannot know without the data: no disclosure, nothing to hide.
    return {c for target in sorted(found) if (c := _nearest(cells, system.equations, system.index[target]))}


def _nearest(cells: Mapping[CellId, Figure], system: list[Equation], start: int) -> CellId | None:
    """Breadth first from the hidden figure through the equations it shares with other hidden ones;
    a mean before a count (it is the derived figure), a roll-up's or pilot's before a programme's,
    then the smallest."""
    seen, frontier = {start}, {start}
    while frontier:
        rows = [(row, visible) for row, visible in system if frontier & row.keys()]
        candidates = {c for _, visible in rows for c in visible}
        if candidates:
            return min(candidates, key=lambda c: (cells[c].kind != Kind.RATIO, _programme(c),
                                                  cells[c].value or Decimal(0), c))
        frontier = {v for row, _ in rows for v in row} - seen
        seen |= frontier
    return None


def _programme(cell: CellId) -> bool:
    return not cell[0].startswith(("inst:", "pilot:"))
