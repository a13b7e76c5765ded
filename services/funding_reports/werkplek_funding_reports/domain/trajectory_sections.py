"""Sections about trajectories and placements: how many dual trajectories meet each criterion,
placements and mentors, sectors, the continuum, learning outcomes by kind. (The per-trajectory
verdicts are individual data: `trajectory_rows`, published on the restricted topic only.)"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction

from werkplek_events.report_layout import CRITERIA, DIMENSIONS
from werkplek_events.vocabulary import LearningEnvironment, NaceSection, OutcomeKind, PlacementForm

from .cohort_sections import dual_total
from .criteria import judge
from .figures import Draft, Figure, Ref, Sum, Weighted, count, ratio, tally
from .records import Member, PlacementFacts, StudentView
from .rules import to_places

Views = Sequence[StudentView]
Item = tuple[Member, PlacementFacts]


def dual_criteria_summary(draft: Draft, views: Views) -> None:
    """How many dual trajectories meet and do not meet each criterion, and all six."""
    judged = [(v.member, judge(v)) for v in views if v.dual]
    summary = draft.section("dual_criteria_summary", ["met", "not_met"])
    for name in (*CRITERIA, "all_six"):
        met = summary.put(name, "met", count({m for m, vs in judged if vs[name].passed}))
        not_met = summary.put(name, "not_met", count({m for m, vs in judged if not vs[name].passed}))
        draft.add_sums(Sum(dual_total(), (met, not_met)))


def _items(views: Views) -> list[Item]:
    return [(v.member, p) for v in views for p in v.placements]


def _tally(items: list[Item], measure: str) -> Figure:
    return tally(len(items), {m for m, _ in items}, measure)


def placements(draft: Draft, views: Views) -> Ref:
    """Placements by form and learning environment, and the mentors behind them. Returns the total."""
    sec = draft.section("placements", ["count"])
    items = _items(views)
    total = sec.put("placements", "count", _tally(items, "placements"))
    groups: tuple[tuple[str, list, Callable[[PlacementFacts], object]], ...] = (
        ("form", list(PlacementForm), lambda p: p.form),
        ("environment", [*LearningEnvironment, None], lambda p: p.environment))
    for prefix, values, of in groups:
        parts = []
        for value in values:
            label = f"{prefix}_{value.value if value is not None else 'unknown'}"
            parts.append(sec.put(label, "count", _tally([i for i in items if of(i[1]) == value],
                                                        f"placements|{label}")))
        draft.add_sums(Sum(total, tuple(parts)))
    _mentors(draft, sec.name, items)
    return total


def _mentors(draft: Draft, name: str, items: list[Item]) -> None:
    """Distinct mentors: not a sum over trajectories (a mentor may coach several), so not additive
    across reports; within the report trained + not trained + unknown = all."""
    sec = next(s for s in draft.sections if s.name == name)
    mentors: dict[str, tuple[bool | None, set[Member]]] = {}
    for member, p in items:
        mentors.setdefault(p.mentor_id, (p.mentor_trained, set()))[1].add(member)

    def group(keep: object) -> Figure:
        chosen = [m for m, (trained, _) in mentors.items() if trained is keep or keep == "all"]
        return tally(len(chosen), {s for m in chosen for s in mentors[m][1]}, None)

    total = sec.put("mentors", "count", group("all"))
    trained = sec.put("mentors_trained", "count", group(True))
    parts = (trained, sec.put("mentors_not_trained", "count", group(False)),
             sec.put("mentors_training_unknown", "count", group(None)))
    draft.add_sums(Sum(total, parts))
    n_trained = sum(1 for t, _ in mentors.values() if t is True)
    share = to_places(Fraction(n_trained, len(mentors))) if mentors else None
    sec.put("mentors_trained_share", "count",
            ratio(share, {s for _, ss in mentors.values() for s in ss}, (total, trained), base=len(mentors)))


def sectors(draft: Draft, views: Views, total: Ref) -> None:
    """Placements and students by the NACE section of the workplace (every section, zeros too)."""
    sec = draft.section("sectors", ["placements", "students"])
    items = _items(views)
    parts = []
    for code in [*NaceSection, None]:
        label = code.value if code is not None else "unknown"
        hits = [i for i in items if i[1].sector == code]
        parts.append(sec.put(label, "placements", _tally(hits, f"placements|sector={label}")))
        sec.put(label, "students", count({m for m, _ in hits}))
    draft.add_sums(Sum(total, tuple(parts)))


def continuum(draft: Draft, views: Views, total: Ref) -> None:
    """Placements per position 1..5 on each of the six dimensions, and the mean position."""
    sec = draft.section("continuum", ["1", "2", "3", "4", "5", "mean"])
    items = _items(views)
    for i, dimension in enumerate(DIMENSIONS):
        parts = []
        for position in range(1, 6):
            hits = [it for it in items if it[1].continuum[i] == position]
            parts.append(sec.put(dimension, str(position), _tally(hits, f"placements|{dimension}={position}")))
        draft.add_sums(Sum(total, tuple(parts)))
        exact = Fraction(sum(p.continuum[i] for _, p in items), len(items)) if items else None
        weights = Weighted(tuple(zip(range(1, 6), parts, strict=True)), total)
        sec.put(dimension, "mean", ratio(to_places(exact) if exact is not None else None, {m for m, _ in items},
                                         base=len(items), weighted=weights, exact=exact))


def learning_outcomes(draft: Draft, views: Views) -> None:
    """Agreed, assessed and achieved outcomes by kind (from outcome progress) and the share achieved."""
    sec = draft.section("learning_outcomes", ["agreed", "assessed", "achieved", "achieved_share"])
    for kind in [*OutcomeKind, None]:
        row = kind.value if kind is not None else "all"
        covs = [(v.member, c) for v in views for k, c in v.coverage if kind is None or k == kind]
        members = {m for m, c in covs if c.agreed > 0}
        refs = {col: sec.put(row, col, tally(sum(getattr(c, col) for _, c in covs), members, f"outcomes_{col}|{row}"))
                for col in ("agreed", "assessed", "achieved")}
        agreed = sum(c.agreed for _, c in covs)
        share = to_places(Fraction(sum(c.achieved for _, c in covs), agreed)) if agreed else None
        sec.put(row, "achieved_share", ratio(share, members, (refs["achieved"], refs["agreed"])))
    for col in ("agreed", "assessed", "achieved"):
        draft.add_sums(Sum(("learning_outcomes", "all", col),
                           tuple(("learning_outcomes", k.value, col) for k in OutcomeKind)))

