"""Statistical disclosure control before publishing.

Primary: a count below `min_count` is suppressed (zero included: "any count below 5"), as is a count
of things behind which stand fewer than `min_count` students, and a ratio over fewer than `min_count`.
Complementary: wherever a sum holds (a total and its parts), a suppressed cell must not be
recoverable by subtraction. So one lone suppressed part, or suppressed parts that add up to less
than `min_count`, pull in the smallest visible part (or else the total), and a suppressed total
pulls in a part. Repeated until nothing changes, because sums share cells. Last, a ratio derived
from a suppressed count is suppressed too."""

from __future__ import annotations

from decimal import Decimal

from werkplek_events import ReportCell, ReportRow, ReportSection

from .figures import Draft, Figure, Kind, Ref, Sum


def primary(draft: Draft, min_count: int) -> set[Ref]:
    hidden: set[Ref] = set()
    for sec in draft.sections:
        for row, cells in sec.rows.items():
            for column, fig in cells.items():
                if _too_small(fig, min_count):
                    hidden.add((sec.name, row, column))
    return hidden


def _too_small(fig: Figure, min_count: int) -> bool:
    if fig.kind == Kind.COUNT:  # e.g. 12 outcomes of 1 student: small by its students, not its value
        return (fig.value is not None and fig.value < min_count) or len(fig.members) < min_count
    if fig.kind == Kind.RATIO:
        return fig.base < min_count
    return False


def complementary(draft: Draft, hidden: set[Ref], min_count: int) -> set[Ref]:
    hidden = set(hidden)
    changed = True
    while changed:
        changed = False
        for rule in draft.sums:
            extra = _one_more(draft, rule, hidden, min_count)
            if extra is not None:
                hidden.add(extra)
                changed = True
    return hidden


def _one_more(draft: Draft, rule: Sum, hidden: set[Ref], min_count: int) -> Ref | None:
    """The next cell to hide for this sum, or None when no hidden cell can be recovered from it."""
    hidden_parts = [p for p in rule.parts if p in hidden]
    visible_parts = [p for p in rule.parts if p not in hidden]
    if rule.total in hidden:
        return _smallest(draft, visible_parts) if not hidden_parts and visible_parts else None
    if not hidden_parts:
        return None
    if len(hidden_parts) > 1 and _value(draft, hidden_parts) >= min_count:
        return None
    return _smallest(draft, visible_parts) if visible_parts else rule.total


def _value(draft: Draft, refs: list[Ref]) -> Decimal:
    return sum((draft.figure(r).value or Decimal(0) for r in refs), Decimal(0))


def _smallest(draft: Draft, refs: list[Ref]) -> Ref:
    return min(refs, key=lambda r: (draft.figure(r).value or Decimal(0), r))


def derived(draft: Draft, hidden: set[Ref]) -> set[Ref]:
    """Ratios computed from a hidden count."""
    out = set(hidden)
    for sec in draft.sections:
        for row, cells in sec.rows.items():
            for column, fig in cells.items():
                if any(src in hidden for src in fig.sources):
                    out.add((sec.name, row, column))
    return out


def suppressed_cells(draft: Draft, min_count: int) -> set[Ref]:
    return derived(draft, complementary(draft, primary(draft, min_count), min_count))


def publishable(draft: Draft, min_count: int) -> list[ReportSection]:
    """The sections as they may be published: hidden cells carry no value."""
    hidden = suppressed_cells(draft, min_count)
    return [
        ReportSection(name=sec.name, columns=sec.columns, rows=[
            ReportRow(label=row, cells={c: _cell(f, (sec.name, row, c) in hidden) for c, f in cells.items()})
            for row, cells in sec.rows.items()
        ])
        for sec in draft.sections
    ]


def _cell(fig: Figure, hidden: bool) -> ReportCell:
    if hidden:
        return ReportCell(value=None, suppressed=True)
    return ReportCell(value=fig.value, reason=fig.reason)
