"""Sections about trajectories and placements: dual criteria, placements and mentors, the continuum,
learning outcomes by kind."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from werkplek_events.vocabulary import LearningEnvironment, OutcomeKind, PlacementForm

from .cohort_sections import dual_total
from .criteria import CRITERIA, judge
from .figures import Draft, Figure, Kind, Ref, Sum, ratio, tally
from .records import DIMENSIONS, PlacementFacts, StudentView
from .rules import to_places

Views = Sequence[StudentView]
COLUMNS = [*CRITERIA, "all_six"]


def dual_criteria(draft: Draft, views: Views) -> None:
    """One pseudonymous row per dual trajectory, and how many meet each criterion and all six."""
    rows = draft.section("dual_criteria", COLUMNS)
    judged = [(v, judge(v)) for v in sorted((v for v in views if v.dual), key=lambda v: v.pseudonym)]
    for v, verdicts in judged:
        for name, verdict in verdicts.items():
            rows.put(v.pseudonym, name, Figure(Decimal(int(verdict.passed)), Kind.FLAG,
                                               frozenset({v.student_id}), reason=verdict.reason))
    summary = draft.section("dual_criteria_summary", ["met", "not_met"])
    for name in COLUMNS:
        met = summary.put(name, "met", _students({v.student_id for v, vs in judged if vs[name].passed}))
        not_met = summary.put(name, "not_met", _students({v.student_id for v, vs in judged if not vs[name].passed}))
        draft.sums.append(Sum(dual_total(draft), (met, not_met)))


def _students(members: set[str]) -> Figure:
    return tally(len(members), members)


def _placements(views: Views) -> list[tuple[str, PlacementFacts]]:
    return [(v.student_id, p) for v in views for p in v.placements]


def placements(draft: Draft, views: Views) -> Ref:
    """Placements by form and learning environment, and the mentors behind them. Returns the total."""
    sec = draft.section("placements", ["count"])
    items = _placements(views)
    total = sec.put("placements", "count", tally(len(items), {s for s, _ in items}))
    for prefix, values, of in (("form", list(PlacementForm), lambda p: p.form),
                               ("environment", [*LearningEnvironment, None], lambda p: p.environment)):
        parts = []
        for value in values:
            hits = [(s, p) for s, p in items if of(p) == value]
            label = f"{prefix}_{value.value if value is not None else 'unknown'}"
            parts.append(sec.put(label, "count", tally(len(hits), {s for s, _ in hits})))
        draft.sums.append(Sum(total, tuple(parts)))
    _mentors(draft, sec.name, items)
    return total


def _mentors(draft: Draft, name: str, items: list[tuple[str, PlacementFacts]]) -> None:
    sec = next(s for s in draft.sections if s.name == name)
    mentors: dict[str, tuple[bool | None, set[str]]] = {}
    for student, p in items:
        mentors.setdefault(p.mentor_id, (p.mentor_trained, set()))[1].add(student)

    def group(keep: object) -> Figure:
        chosen = [m for m, (trained, _) in mentors.items() if trained is keep or keep == "all"]
        return tally(len(chosen), {s for m in chosen for s in mentors[m][1]})

    total = sec.put("mentors", "count", group("all"))
    trained = sec.put("mentors_trained", "count", group(True))
    parts = (trained, sec.put("mentors_not_trained", "count", group(False)),
             sec.put("mentors_training_unknown", "count", group(None)))
    draft.sums.append(Sum(total, parts))
    n_trained = sum(1 for t, _ in mentors.values() if t is True)
    share = to_places(Fraction(n_trained, len(mentors))) if mentors else None
    sec.put("mentors_trained_share", "count",
            ratio(share, {s for _, ss in mentors.values() for s in ss}, (total, trained), base=len(mentors)))


def continuum(draft: Draft, views: Views, total: Ref) -> None:
    """Placements per position 1..5 on each of the six dimensions, and the mean position."""
    sec = draft.section("continuum", ["1", "2", "3", "4", "5", "mean"])
    items = _placements(views)
    for i, dimension in enumerate(DIMENSIONS):
        parts = []
        for position in range(1, 6):
            hits = [(s, p) for s, p in items if p.continuum[i] == position]
            parts.append(sec.put(dimension, str(position), tally(len(hits), {s for s, _ in hits})))
        draft.sums.append(Sum(total, tuple(parts)))
        mean = to_places(Fraction(sum(p.continuum[i] for _, p in items), len(items))) if items else None
        sec.put(dimension, "mean", ratio(mean, {s for s, _ in items}, (*parts, total), base=len(items)))


def learning_outcomes(draft: Draft, views: Views) -> None:
    """Agreed, assessed and achieved outcomes by kind (from outcome progress) and the share achieved."""
    sec = draft.section("learning_outcomes", ["agreed", "assessed", "achieved", "achieved_share"])
    kinds: list[OutcomeKind | None] = [*OutcomeKind, None]
    for kind in kinds:
        row = kind.value if kind is not None else "all"
        covs = [(v.student_id, c) for v in views for k, c in v.coverage if kind is None or k == kind]
        members = {s for s, c in covs if c.agreed > 0}
        refs = {col: sec.put(row, col, tally(sum(getattr(c, col) for _, c in covs), members))
                for col in ("agreed", "assessed", "achieved")}
        agreed = sum(c.agreed for _, c in covs)
        share = to_places(Fraction(sum(c.achieved for _, c in covs), agreed)) if agreed else None
        sec.put(row, "achieved_share", ratio(share, members, (refs["achieved"], refs["agreed"])))
    for col in ("agreed", "assessed", "achieved"):
        draft.sums.append(Sum(("learning_outcomes", "all", col),
                              tuple(("learning_outcomes", k.value, col) for k in OutcomeKind)))
