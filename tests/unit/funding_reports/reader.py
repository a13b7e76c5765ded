"""A reader trying to undo suppression, written from docs/reports.md ("Relations between figures")
and independent of the report code: it knows only the published reports and the documented
relations, forms every linear combination of them (exact Gaussian elimination over the rationals)
and reports each suppressed cell it can compute."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from werkplek_events import ReportSection
from werkplek_events.report_layout import BANDS, DIMENSIONS, STATUSES

Cell = tuple[str, str, str, str]  # report id, section, row, column
Terms = list[tuple[Fraction, Cell]]
PLACEMENT_FORMS = ("internship", "project", "dual", "simulated", "job_shadowing", "other")
ENVIRONMENTS = ("simulated", "realistic", "authentic", "unknown")
SECTORS = (*"ABCDEFGHIJKLMNOPQRSTU", "unknown")
ONE = Fraction(1)
# within a report: (section, total row, total column, [(part row, part column)])
SAME_FIGURE = [  # docs: "the same figure shown twice"
    (("target_groups", "all", "students"), ("required_share", "students", "value")),
    (("target_groups", "all", "students"), ("dual_vs_non_dual", "students", "all")),
    (("target_groups", "all", "dual_track"), ("dual_vs_non_dual", "students", "dual")),
    (("study_efficiency", "all", "credits_taken"), ("dual_vs_non_dual", "credits_taken", "all")),
    (("study_efficiency", "all", "credits_earned"), ("dual_vs_non_dual", "credits_earned", "all")),
    (("learning_outcomes", "all", "agreed"), ("dual_vs_non_dual", "outcomes_agreed", "all")),
    (("learning_outcomes", "all", "achieved"), ("dual_vs_non_dual", "outcomes_achieved", "all")),
]
NOT_ADDITIVE = {("share_distribution", r) for r in ("q1", "median", "q3")} | {
    ("required_share", "required_share"), ("placements", "mentors"), ("placements", "mentors_trained"),
    ("placements", "mentors_not_trained"), ("placements", "mentors_training_unknown"),
    ("placements", "mentors_trained_share"), ("dual_vs_non_dual", "real_share_median"),
    ("dual_vs_non_dual", "year_share_median"), ("dual_vs_non_dual", "outcomes_achieved_share"),
    ("dual_vs_non_dual", "study_efficiency"), ("dual_vs_non_dual", "drop_out_rate"), ("success", "entry_year"),
    ("success", "nominal_years"), ("success", "rate_within_nominal"), ("success", "rate_within_nominal_plus_one"),
}
RATIOS = [  # (section, row, column of the ratio) -> numerator cells, denominator cell, within one report
    *((("study_efficiency", r, "efficiency"), [(r, "credits_earned")], (r, "credits_taken"))
      for r in (*STATUSES, "all", "over_25")),
    *((("learning_outcomes", r, "achieved_share"), [(r, "achieved")], (r, "agreed"))
      for r in ("knowledge", "skill", "attitude", "all")),
]


@dataclass
class Reader:
    reports: Mapping[str, list[ReportSection]]
    equations: list[Terms] = field(default_factory=list)
    approximate: list[Terms] = field(default_factory=list)  # from rounded ratios: true to 4 places only

    def value(self, cell: Cell) -> Fraction | None:
        rid, section, row, column = cell
        for sec in self.reports[rid]:
            if sec.name == section:
                for r in sec.rows:
                    if r.label == row:
                        c = r.cells[column]
                        return None if c.suppressed or c.value is None else Fraction(c.value)
        raise KeyError(cell)

    def suppressed(self) -> list[Cell]:
        return [(rid, s.name, r.label, c) for rid, secs in self.reports.items() for s in secs for r in s.rows
                for c, cell in r.cells.items() if cell.suppressed]

    def total(self, rid: str, total: tuple[str, str, str], parts: Iterable[tuple[str, str, str]]) -> None:
        self.equations.append([(ONE, (rid, *total)), *((-ONE, (rid, *p)) for p in parts)])

    def knows_a_report(self, rid: str, pilot: bool = False) -> None:
        """The sums docs/reports.md lists for each section."""
        if pilot:
            return self._pilot(rid)
        for column in ("students", "dual_track"):
            self.total(rid, ("target_groups", "all", column), [("target_groups", s, column) for s in STATUSES])
        for column in ("real_share", "projected_share", "year_share"):
            self.total(rid, ("share_distribution", "students", column),
                       [("share_distribution", b, column) for b in BANDS])
        self.total(rid, ("required_share", "students", "value"), [("required_share", r, "value") for r in (
            "on_course", "not_on_course", "no_share_data", "no_required_share")])
        self.total(rid, ("required_share", "students", "value"), [("required_share", r, "value") for r in (
            "on_track", "at_risk", "behind", "status_unknown")])
        for row in ("min_share", "co_creation", "two_components", "build_up", "competences", "outcomes", "all_six"):
            self.total(rid, ("target_groups", "all", "dual_track"), [("dual_criteria_summary", row, "met"),
                                                                     ("dual_criteria_summary", row, "not_met")])
        placements = ("placements", "placements", "count")
        self.total(rid, placements, [("placements", f"form_{f}", "count") for f in PLACEMENT_FORMS])
        self.total(rid, placements, [("placements", f"environment_{e}", "count") for e in ENVIRONMENTS])
        self.total(rid, ("placements", "mentors", "count"), [("placements", r, "count") for r in (
            "mentors_trained", "mentors_not_trained", "mentors_training_unknown")])
        self.total(rid, placements, [("sectors", s, "placements") for s in SECTORS])
        for dim in DIMENSIONS:
            self.total(rid, placements, [("continuum", dim, str(k)) for k in range(1, 6)])
            mean = self.value((rid, "continuum", dim, "mean"))
            if mean is not None:  # mean × placements = 1 × n1 + … + 5 × n5
                self.approximate.append([(-mean, (rid, *placements)), *((Fraction(k), (rid, "continuum", dim, str(k)))
                                                                        for k in range(1, 6))])
        for column in ("agreed", "assessed", "achieved"):
            self.total(rid, ("learning_outcomes", "all", column),
                       [("learning_outcomes", k, column) for k in ("knowledge", "skill", "attitude")])
        for column in ("students", "credits_taken", "credits_earned"):
            self.total(rid, ("study_efficiency", "all", column), [("study_efficiency", s, column) for s in STATUSES])
        for row in ("students", "confirmed_hours_year", "outcomes_agreed", "outcomes_achieved", "credits_taken",
                    "credits_earned", "drop_outs"):
            self.total(rid, ("dual_vs_non_dual", row, "all"),
                       [("dual_vs_non_dual", row, c) for c in ("dual", "non_dual")])
        for column in ("dual", "non_dual", "all"):
            self.total(rid, ("success", "entered", column), [("success", r, column) for r in (
                "graduated_within_nominal", "graduated_in_extra_year", "dropped_out", "transferred", "no_result_yet")])
        for row in ("entered", "graduated_within_nominal", "graduated_in_extra_year", "dropped_out", "transferred",
                    "no_result_yet"):
            self.total(rid, ("success", row, "all"), [("success", row, c) for c in ("dual", "non_dual")])
        for a, b in SAME_FIGURE:
            self.total(rid, a, [b])
        for (section, row, column), nums, den in RATIOS:
            r = self.value((rid, section, row, column))
            if r is not None:  # a published ratio: numerator = ratio × denominator
                self.approximate.append([(-r, (rid, section, *den)), *((ONE, (rid, section, *n)) for n in nums)])
        return None

    def _pilot(self, rid: str) -> None:
        self.total(rid, ("target_groups", "all", "students"), [("target_groups", s, "students") for s in STATUSES])
        for column in ("students", "credits_taken", "credits_earned"):
            self.total(rid, ("study_efficiency", "all", column), [("study_efficiency", s, column) for s in STATUSES])
        self.total(rid, ("success", "trajectories", "value"), [("success", r, "value") for r in (
            "graduated_within_nominal", "graduated_in_extra_year", "graduated_later", "dropped_out", "transferred",
            "continuing")])
        self.total(rid, ("target_groups", "all", "students"), [("success", "trajectories", "value")])
        self.total(rid, ("target_groups", "all", "students"), [("cost", "trajectories", "value")])

    def knows_the_roll_up(self, rollup: str, programmes: list[str]) -> None:
        """Every additive figure of the roll-up is the sum of the same figure of the programme reports."""
        for sec in self.reports[rollup]:
            for row in sec.rows:
                for column in row.cells:
                    if (sec.name, row.label) in NOT_ADDITIVE or sec.name == "rules_applied" or (
                            sec.name == "continuum" and column == "mean") or column in ("efficiency",
                                                                                        "achieved_share"):
                        continue
                    self.equations.append([(ONE, (rollup, sec.name, row.label, column)),
                                           *((-ONE, (p, sec.name, row.label, column)) for p in programmes)])

    def knows_the_pilot_is_their_dual_tracks(self, pilot: str, programmes: list[str]) -> None:
        def dual_of(section: str, row: str, column: str) -> list[tuple[Fraction, Cell]]:
            return [(-ONE, (p, section, row, column)) for p in programmes]

        for row in (*STATUSES, "all", "over_25"):
            self.equations.append([(ONE, (pilot, "target_groups", row, "students")),
                                   *dual_of("target_groups", row, "dual_track")])
        for column in ("credits_taken", "credits_earned"):
            self.equations.append([(ONE, (pilot, "study_efficiency", "all", column)),
                                   *dual_of("dual_vs_non_dual", column, "dual")])
        self.equations.append([(ONE, (pilot, "cost", "confirmed_hours", "value")),
                               *dual_of("dual_vs_non_dual", "confirmed_hours_year", "dual")])

    def recovered(self) -> set[Cell]:
        """Every suppressed cell some linear combination of the equations pins down as a function of
        published figures. (One the documented relations pin down without any published figure, say
        a pilot of programmes with no students, is known from the relations alone: no publication
        reveals it.) Published cells are kept as columns that are never pivots."""
        hidden = set(self.suppressed())
        rows: list[dict[tuple[bool, Cell], Fraction]] = []
        for eq in [*self.equations, *self.approximate]:
            row: dict[tuple[bool, Cell], Fraction] = {}
            for coeff, cell in eq:
                col = (cell not in hidden, cell)  # (False, …) sorts first: hidden cells become pivots
                row[col] = row.get(col, Fraction(0)) + coeff
            rows.append({c: x for c, x in row.items() if x})
        found: set[Cell] = set()
        for group in _groups(rows):
            found |= _solve(group)
        return found

    def check_true(self, truth: Mapping[Cell, Fraction | None]) -> list[Terms]:
        """The equations that do not hold on the unsuppressed figures (none may: the reader's
        knowledge must be true)."""
        out = []
        for eq in self.equations:
            values = [truth.get(c) for _, c in eq]
            if all(v is not None for v in values) and sum(k * v for (k, _), v in zip(eq, values, strict=True)
                                                          if v is not None) != 0:
                out.append(eq)
        return out


Column = tuple[bool, Cell]  # (published, cell): published cells sort last and are never pivots


def _groups(rows: list[dict[Column, Fraction]]) -> list[list[dict[Column, Fraction]]]:
    """Equations that share no suppressed cell are solved apart."""
    parent: dict[Column, Column] = {}

    def root(c: Column) -> Column:
        while parent.setdefault(c, c) != c:
            c = parent[c]
        return c

    for row in rows:
        unknown = [c for c in row if not c[0]]
        for c in unknown[1:]:
            parent[root(c)] = root(unknown[0])
    out: dict[Column, list[dict[Column, Fraction]]] = {}
    for row in rows:
        unknown = [c for c in row if not c[0]]
        if unknown:
            out.setdefault(root(unknown[0]), []).append(row)
    return list(out.values())


def _solve(rows: list[dict[Column, Fraction]]) -> set[Cell]:
    """Gauss-Jordan over the rationals; a pivot whose row keeps no other suppressed cell but some
    published one is recovered."""
    pivots: dict[Column, dict[Column, Fraction]] = {}
    for r in rows:
        for p, prow in pivots.items():
            if r.get(p):
                f = r[p]
                for c, x in prow.items():
                    r[c] = r.get(c, Fraction(0)) - f * x
                r = {c: x for c, x in r.items() if x}
        lead = min((c for c in r if not c[0]), default=None)
        if lead is None:
            continue
        r = {c: x / r[lead] for c, x in r.items()}
        for p, prow in list(pivots.items()):
            if prow.get(lead):
                f = prow[lead]
                pivots[p] = {c: x for c, x in ((c, prow.get(c, Fraction(0)) - f * r.get(c, Fraction(0)))
                                               for c in prow.keys() | r.keys()) if x}
        pivots[lead] = r
    return {p[1] for p, row in pivots.items() if not any(not c[0] for c in row if c != p) and any(c[0] for c in row)}
