"""Statistical disclosure control over a whole publication set: every report of one institution and
academic year (programme reports, the roll-up, pilot reports) is suppressed together, because a
reader can add and subtract figures across them (docs/adr/0050).

1. Primary: a count of trajectories below `min_count` (zero included), a count of things or a sum
   behind which stand fewer than `min_count` trajectories, a ratio or quartile over fewer.
2. The relations a reader knows (`relations`): the sums each report declares (a total and its parts,
   a figure shown twice), the roll-up as the sum of the programme reports, and a pilot's figures as
   sums of programme figures over the same trajectories.
3. Complementary, per relation: a lone hidden cell, or hidden cells that add up to less than
   `min_count`, pull in the smallest visible cell (else the total); between reports, the roll-up's or
   pilot's figure rather than a programme's, so a programme keeps its figures when a sibling has
   none. Repeated until nothing changes.
4. A ratio computed from a hidden figure is hidden.
5. The audit (`audit.py`): no hidden figure may follow from the published ones through *any*
   linear combination of the relations and of the published means (a mean times its denominator is
   a weighted sum of the counts behind it); where one does, one more published cell of an equation
   it is in is hidden, and 3 to 5 run again."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from werkplek_events import ReportCell, ReportRow, ReportSection
from werkplek_events.report_layout import TARGET_GROUPS
from werkplek_events.vocabulary import ReportScope

from .audit import determined
from .figures import Draft, Figure, Kind, Ref
from .keys import ReportKey
from .records import Member

CellId = tuple[str, str, str, str]  # report id, section, row, column
ADDITIVE = (Kind.COUNT, Kind.TALLY, Kind.MAGNITUDE)


@dataclass(frozen=True)
class Relation:
    total: CellId
    parts: tuple[CellId, ...]
    across: bool = False  # the total is a roll-up's or pilot's figure, its parts programme figures


def all_cells(drafts: Mapping[ReportKey, Draft]) -> dict[CellId, Figure]:
    return {(key.report_id, *ref): fig for key, draft in drafts.items() for ref, fig in draft.cells()}


# Where a pilot made of programmes' dual tracks finds its figures in their reports (a reader who
# knows the pilot's make-up adds those up); other make-ups are found by their trajectories alone.
PILOT_SLOTS: dict[Ref, Ref] = {
    **{("target_groups", r, "students"): ("target_groups", r, "dual_track") for r in TARGET_GROUPS},
    ("success", "trajectories", "value"): ("target_groups", "all", "dual_track"),
    ("cost", "trajectories", "value"): ("target_groups", "all", "dual_track"),
    ("study_efficiency", "all", "credits_taken"): ("dual_vs_non_dual", "credits_taken", "dual"),
    ("study_efficiency", "all", "credits_earned"): ("dual_vs_non_dual", "credits_earned", "dual"),
    ("cost", "confirmed_hours", "value"): ("dual_vs_non_dual", "confirmed_hours_year", "dual"),
}
Index = Mapping[tuple[str, frozenset[Member]], Mapping[str, list[CellId]]]


def relations(drafts: Mapping[ReportKey, Draft], cells: Mapping[CellId, Figure],
              pilots: Mapping[str, list[str]] | None = None) -> list[Relation]:
    """What a reader knows, from docs/reports.md: the sums each report declares; the roll-up's every
    additive figure is the sum of the same figure in the programme reports; a pilot's figure is the
    sum of the programme figures of the same measure over the same trajectories (whoever knows which
    trajectories form the pilot knows that)."""
    out = [Relation((k.report_id, *s.total), tuple((k.report_id, *p) for p in s.parts))
           for k, d in drafts.items() for s in d.sums]
    programmes = [k.report_id for k in drafts if k.scope == ReportScope.PROGRAMME]
    for k in drafts:
        if k.scope == ReportScope.INSTITUTION:
            out += _roll_up(k.report_id, programmes, cells)
    index: dict[tuple[str, frozenset[Member]], dict[str, list[CellId]]] = {}
    for cid, fig in cells.items():
        if cid[0] in programmes and fig.measure is not None and fig.members:
            index.setdefault((fig.measure, fig.members), {}).setdefault(cid[0], []).append(cid)
    report_of = {k.programme_id: k.report_id for k in drafts if k.programme_id is not None}
    for k in drafts:
        if k.scope == ReportScope.PILOT:
            made_of = [report_of[p] for p in (pilots or {}).get(k.report_id, []) if p in report_of]
            out += _composed(k.report_id, cells, index, report_of, made_of)
    return out


def _roll_up(report_id: str, programmes: list[str], cells: Mapping[CellId, Figure]) -> list[Relation]:
    out = []
    for cid, fig in cells.items():
        if cid[0] == report_id and fig.measure is not None:
            parts = tuple(p for p in ((r, *cid[1:]) for r in programmes) if p in cells)
            out.append(Relation(cid, parts, across=True))
    return out


def _composed(report_id: str, cells: Mapping[CellId, Figure], index: Index, report_of: Mapping[str, str],
              made_of: list[str]) -> list[Relation]:
    out = []
    for cid, fig in cells.items():
        if cid[0] != report_id or fig.measure is None:
            continue
        if (dual := _dual_tracks(cid, fig, cells, made_of)) is not None:
            out.append(dual)
            continue
        if not fig.members:
            continue
        by_programme: dict[str, set[Member]] = {}
        for member in fig.members:
            by_programme.setdefault(member[0], set()).add(member)
        slot = PILOT_SLOTS.get((cid[1], cid[2], cid[3]))
        parts = [_part(index.get((fig.measure, frozenset(ms)), {}).get(report_of.get(p, ""), []), slot)
                 for p, ms in by_programme.items()]
        if all(parts):
            out.append(Relation(cid, tuple(p for p in parts if p is not None), across=True))
    return out


def _dual_tracks(cid: CellId, fig: Figure, cells: Mapping[CellId, Figure], made_of: list[str]) -> Relation | None:
    """When the pilot is exactly the dual tracks of its programmes: the sum over all of them, the
    empty ones included (a reader who knows the make-up adds their zeros too)."""
    slot = PILOT_SLOTS.get((cid[1], cid[2], cid[3]))
    if slot is None or not made_of:
        return None
    parts = [(r, *slot) for r in made_of]
    if any(p not in cells for p in parts):
        return None
    covered = frozenset().union(*(cells[p].members for p in parts))
    return Relation(cid, tuple(parts), across=True) if covered == fig.members else None


def _part(candidates: list[CellId], slot: Ref | None) -> CellId | None:
    """The programme's figure over those trajectories: the one the pilot's make-up names, if it is one."""
    return next((c for c in candidates if (c[1], c[2], c[3]) == slot), candidates[0] if candidates else None)


def primary(cells: Mapping[CellId, Figure], min_count: int) -> set[CellId]:
    return {cid for cid, fig in cells.items() if _too_small(fig, min_count)}


def _too_small(fig: Figure, min_count: int) -> bool:
    if fig.kind == Kind.COUNT:
        return fig.value is None or fig.value < min_count
    if fig.kind == Kind.TALLY:  # e.g. 12 outcomes of 1 student: small by its students, not its value
        return (fig.value is not None and fig.value < min_count) or len(fig.members) < min_count
    if fig.kind == Kind.MAGNITUDE:
        return len(fig.members) < min_count
    if fig.kind in (Kind.RATIO, Kind.STATISTIC):
        return fig.base < min_count
    return False


def complementary(cells: Mapping[CellId, Figure], rels: list[Relation], hidden: set[CellId],
                  min_count: int) -> set[CellId]:
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for rule in rels:
            extra = _one_more(cells, rule, hidden, min_count)
            if extra is not None:
                hidden.add(extra)
                changed = True
    return hidden


def _one_more(cells: Mapping[CellId, Figure], rule: Relation, hidden: set[CellId], min_count: int) -> CellId | None:
    """The next cell to hide for this relation, or None when no hidden cell can be recovered from it."""
    hidden_parts = [p for p in rule.parts if p in hidden]
    visible_parts = [p for p in rule.parts if p not in hidden]
    if rule.total in hidden:
        return smallest(cells, visible_parts) if not hidden_parts and visible_parts else None
    if not hidden_parts:
        return None
    if len(hidden_parts) > 1 and _weight(cells, hidden_parts) >= min_count:
        return None
    if rule.across or not visible_parts:  # rather the roll-up's or pilot's figure than a programme's
        return rule.total
    return smallest(cells, visible_parts)


def _weight(cells: Mapping[CellId, Figure], ids: list[CellId]) -> int:
    """How many a group of hidden cells stands for: its count, or its trajectories for sums."""
    figs = [cells[i] for i in ids]
    if any(f.kind == Kind.MAGNITUDE for f in figs):
        return len(frozenset().union(*(f.members for f in figs)))
    return int(sum((f.value or Decimal(0) for f in figs), Decimal(0)))


def smallest(cells: Mapping[CellId, Figure], ids: list[CellId]) -> CellId:
    return min(ids, key=lambda c: (cells[c].value or Decimal(0), c))


def derived(cells: Mapping[CellId, Figure], hidden: set[CellId]) -> set[CellId]:
    """Ratios computed from a hidden figure."""
    out = set(hidden)
    for cid, fig in cells.items():
        if any((cid[0], *src) in hidden for src in fig.sources):
            out.add(cid)
    return out


def suppress(drafts: Mapping[ReportKey, Draft], min_count: int,
             pilots: Mapping[str, list[str]] | None = None) -> dict[ReportKey, set[Ref]]:
    """The cells each report of the set must hide; `pilots`: each pilot report's programmes."""
    cells = all_cells(drafts)
    rels = relations(drafts, cells, pilots)
    hidden = primary(cells, min_count)
    while True:
        hidden = derived(cells, complementary(cells, rels, hidden, min_count))
        more = determined(cells, rels, hidden)
        if not more:
            break
        hidden |= more
    return {k: {(cid[1], cid[2], cid[3]) for cid in hidden if cid[0] == k.report_id}
            for k in drafts}


def publishable(draft: Draft, hidden: set[Ref]) -> list[ReportSection]:
    """The sections as they may be published: hidden cells carry no value. (Built without validation:
    every value comes from this code, and the report schema test validates what is published. Cells
    are frozen, so equal ones are one object: a report has thousands, most alike. Keyed on the value's
    text, not the Decimal: 0 and 0.0000 are equal Decimals but different published values.)"""
    made: dict[tuple[str | None, bool, str | None], ReportCell] = {}

    def cell(fig: Figure, hide: bool) -> ReportCell:
        key = (None, True, None) if hide else (None if fig.value is None else str(fig.value), False, fig.reason)
        if key not in made:
            made[key] = ReportCell.model_construct(value=None if hide else fig.value, suppressed=hide,
                                                   reason=None if hide else fig.reason)
        return made[key]

    return [
        ReportSection.model_construct(name=sec.name, columns=sec.columns, rows=[
            ReportRow.model_construct(label=row, cells={c: cell(f, (sec.name, row, c) in hidden)
                                                        for c, f in cells.items()})
            for row, cells in sec.rows.items()
        ])
        for sec in draft.sections
    ]
