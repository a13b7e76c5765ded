"""Sections about students: target groups, share distribution (real, projected, this year's) and the
required share."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from werkplek_events.report_layout import BANDS, STATUSES
from werkplek_events.vocabulary import ShareStatus

from .figures import Draft, Ref, Sum, count, param, statistic
from .records import Member, ShareFacts, StudentView
from .rules import band, on_course, projected_band, quartiles, reached, real_fraction, to_places

TARGET_GROUPS = "target_groups"
Views = Sequence[StudentView]


def ids(views: Views, keep: Callable[[StudentView], bool] = lambda v: True) -> set[Member]:
    return {v.member for v in views if keep(v)}


def target_group_rows(draft: Draft, name: str, column: str, views: Views) -> Ref:
    """Trajectories by status (they partition `all`) and 25+ (across the statuses); returns `all`."""
    sec = next(s for s in draft.sections if s.name == name)
    parts = tuple(sec.put(row, column, count({v.member for v in views if v.status.value == row})) for row in STATUSES)
    total = sec.put("all", column, count(ids(views)))
    sec.put("over_25", column, count(ids(views, lambda v: v.over_25)))
    draft.add_sums(Sum(total, parts))
    return total


def target_groups(draft: Draft, views: Views) -> None:
    """Students by target group, all and in the dual track."""
    draft.section(TARGET_GROUPS, ["students", "dual_track"])
    target_group_rows(draft, TARGET_GROUPS, "students", views)
    target_group_rows(draft, TARGET_GROUPS, "dual_track", [v for v in views if v.dual])


def dual_total() -> Ref:
    return (TARGET_GROUPS, "all", "dual_track")


def year_fraction(share: ShareFacts) -> Fraction | None:
    return share.year


def share_distribution(draft: Draft, views: Views) -> None:
    """Quartiles and bands of the real share (exact), of the projected share (as published) and of
    this academic year's share (exact)."""
    sec = draft.section("share_distribution", ["real_share", "projected_share", "year_share"])
    columns: dict[str, Callable[[ShareFacts], Fraction | None]] = {
        "real_share": real_fraction,
        "projected_share": lambda s: s.projected,
        "year_share": year_fraction,
    }
    for column, value_of in columns.items():
        measured = [(v.member, value_of(v.share)) for v in views if v.share is not None]
        values = [(m, x) for m, x in measured if x is not None]
        members = {m for m, _ in values}
        total = sec.put("students", column, count(members))
        qs = quartiles([x for _, x in values]) if values else (None, None, None)
        for row, q in zip(("q1", "median", "q3"), qs, strict=True):
            sec.put(row, column, statistic(q, members))
        band_of = projected_band if column == "projected_share" else band
        banded: list[set[Member]] = [set() for _ in BANDS]
        for m, x in values:
            banded[band_of(x)].add(m)
        parts = tuple(sec.put(label, column, count(banded[i])) for i, label in enumerate(BANDS))
        draft.add_sums(Sum(total, parts))


def required_share(draft: Draft, views: Views) -> None:
    """On course for the programme's required share (graduaat: ⅓) and the risk status."""
    sec = draft.section("required_share", ["value"])
    required = {v.programme.required_share for v in views}
    only = required.pop() if len(required) == 1 else None
    sec.put("required_share", "value", param(to_places(only) if only is not None else None))
    total = sec.put("students", "value", count(ids(views)))
    applies = [v for v in views if v.programme.required_share is not None]
    judged = [(v, on_course(v.share, v.programme.required_share)) for v in applies if v.share is not None]  # type: ignore[arg-type]
    course = (
        sec.put("on_course", "value", count({v.member for v, ok in judged if ok})),
        sec.put("not_on_course", "value", count({v.member for v, ok in judged if not ok})),
        sec.put("no_share_data", "value", count(ids(applies, lambda v: v.share is None))),
        sec.put("no_required_share", "value", count(ids(views, lambda v: v.programme.required_share is None))),
    )
    draft.add_sums(Sum(total, course))
    sec.put("required_share_reached", "value",
            count({v.member for v, _ in judged if reached(v.share, v.programme.required_share)}))  # type: ignore[arg-type]
    risk = tuple(sec.put(s.value, "value", count({v.member for v in views if v.risk == s})) for s in ShareStatus)
    unknown = sec.put("status_unknown", "value", count(ids(views, lambda v: v.risk is None)))
    draft.add_sums(Sum(total, (*risk, unknown)))
