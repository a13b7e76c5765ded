"""Sections about students: target groups, share distribution, required share, pilot evaluation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction

from werkplek_events.vocabulary import EnrolmentEndReason, EnrolmentStatus, ShareStatus

from .figures import Draft, Figure, Kind, Ref, Sum, count, ratio
from .records import ShareFacts, StudentView
from .rules import BAND_LABELS, band, on_course, projected_band, quartiles, reached, real_fraction, to_places

STATUS_ROWS = {EnrolmentStatus.REGULAR: "regular", EnrolmentStatus.WORKING_STUDENT: "working_student",
               EnrolmentStatus.SIDE_ENTRANT: "side_entrant", EnrolmentStatus.OTHER: "other"}
TARGET_GROUPS = "target_groups"
Views = Sequence[StudentView]


def ids(views: Views, keep: Callable[[StudentView], bool] = lambda v: True) -> set[str]:
    return {v.student_id for v in views if keep(v)}


def target_groups(draft: Draft, views: Views) -> None:
    """Students by target group, all and in the dual track; 25+ cuts across the statuses."""
    sec = draft.section(TARGET_GROUPS, ["students", "dual_track"])
    for column, subset in (("students", list(views)), ("dual_track", [v for v in views if v.dual])):
        parts = tuple(sec.put(row, column, count(with_status(subset, s))) for s, row in STATUS_ROWS.items())
        total = sec.put("all", column, count(ids(subset)))
        sec.put("over_25", column, count(ids(subset, lambda v: v.over_25)))
        draft.sums.append(Sum(total, parts))


def with_status(views: Views, status: EnrolmentStatus) -> set[str]:
    return {v.student_id for v in views if v.status == status}


def dual_total(draft: Draft) -> Ref:
    return (TARGET_GROUPS, "all", "dual_track")


def share_distribution(draft: Draft, views: Views) -> None:
    """Quartiles and bands of the real share (exact) and of the projected share (as published)."""
    sec = draft.section("share_distribution", ["real_share", "projected_share"])
    measured = [(v.student_id, v.share) for v in views if v.share is not None]
    columns: dict[str, tuple[Callable[[ShareFacts], Decimal], Callable[[ShareFacts], int]]] = {
        "real_share": (lambda s: s.real_share, _real_band),
        "projected_share": (lambda s: s.projected_share, projected_band),
    }
    for column, (value_of, band_of) in columns.items():
        members = {sid for sid, _ in measured}
        total = sec.put("students", column, count(members))
        qs = quartiles([value_of(s) for _, s in measured]) if measured else (None, None, None)
        for row, q in zip(("q1", "median", "q3"), qs, strict=True):
            sec.put(row, column, ratio(q, members))
        parts = tuple(sec.put(label, column, count({sid for sid, s in measured if band_of(s) == i}))
                      for i, label in enumerate(BAND_LABELS))
        draft.sums.append(Sum(total, parts))


def _real_band(share: ShareFacts) -> int:
    return band(real_fraction(share))


def required_share(draft: Draft, views: Views) -> None:
    """On course for the programme's required share (graduaat: ⅓) and the risk status."""
    sec = draft.section("required_share", ["value"])
    required = {v.programme.required_share for v in views}
    only = required.pop() if len(required) == 1 else None
    sec.put("required_share", "value", Figure(to_places(only) if only is not None else None, Kind.PARAM))
    total = sec.put("students", "value", count(ids(views)))
    applies = [v for v in views if v.programme.required_share is not None]
    judged = [(v, on_course(v.share, v.programme.required_share)) for v in applies if v.share is not None]  # type: ignore[arg-type]
    course = (
        sec.put("on_course", "value", count({v.student_id for v, ok in judged if ok})),
        sec.put("not_on_course", "value", count({v.student_id for v, ok in judged if not ok})),
        sec.put("no_share_data", "value", count(ids(applies, lambda v: v.share is None))),
        sec.put("no_required_share", "value", count(ids(views, lambda v: v.programme.required_share is None))),
    )
    draft.sums.append(Sum(total, course))
    sec.put("required_share_reached", "value",
            count({v.student_id for v, _ in judged if reached(v.share, v.programme.required_share)}))  # type: ignore[arg-type]
    risk = tuple(sec.put(s.value, "value", count({v.student_id for v in views if v.risk == s})) for s in ShareStatus)
    unknown = sec.put("status_unknown", "value", count(ids(views, lambda v: v.risk is None)))
    draft.sums.append(Sum(total, (*risk, unknown)))


def pilot_evaluation(draft: Draft, views: Views) -> None:
    """For evaluating a dual pilot: inflow by target group, confirmed hours, outcomes, drop-outs."""
    sec = draft.section("pilot_evaluation", ["value"])
    dual = [v for v in views if v.dual]
    inflow = []
    for status, row in STATUS_ROWS.items():
        ref = sec.put(f"inflow_{row}", "value", count(with_status(dual, status)))
        draft.sums.append(Sum((TARGET_GROUPS, row, "dual_track"), (ref,)))  # the same figure twice
        inflow.append(ref)
    total = sec.put("inflow_all", "value", count(ids(dual)))
    draft.sums.extend([Sum(total, tuple(inflow)), Sum(dual_total(draft), (total,))])
    over = sec.put("inflow_over_25", "value", count(ids(dual, lambda v: v.over_25)))
    draft.sums.append(Sum((TARGET_GROUPS, "over_25", "dual_track"), (over,)))
    _pilot_results(draft, sec.name, dual, total)


def _pilot_results(draft: Draft, name: str, dual: list[StudentView], total: Ref) -> None:
    sec = next(s for s in draft.sections if s.name == name)
    minutes = {v.student_id: v.share.confirmed_minutes for v in dual if v.share is not None}
    hours = to_places(Fraction(sum(minutes.values()), 60 * len(minutes))) if minutes else None
    sec.put("confirmed_hours_per_student", "value", ratio(hours, set(minutes)))
    agreed = sum(c.agreed for v in dual for _, c in v.coverage)
    achieved = sum(c.achieved for v in dual for _, c in v.coverage)
    with_progress = ids(dual, lambda v: bool(v.coverage))
    ach = sec.put("outcomes_achieved", "value", Figure(Decimal(achieved), Kind.COUNT, frozenset(with_progress)))
    sec.put("outcomes_achieved_share", "value",
            ratio(to_places(Fraction(achieved, agreed)) if agreed else None, with_progress, sources=(ach,)))
    ends = {"drop_outs": EnrolmentEndReason.DROPPED_OUT, "graduated": EnrolmentEndReason.GRADUATED,
            "transferred": EnrolmentEndReason.TRANSFERRED}
    parts = [sec.put(row, "value", count({v.student_id for v in dual if v.ended == r})) for row, r in ends.items()]
    parts.append(sec.put("still_enrolled", "value", count(ids(dual, lambda v: v.ended is None))))
    draft.sums.append(Sum(total, tuple(parts)))
