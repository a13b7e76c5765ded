"""The layout of every funding report: its sections in order, their rows and columns, and what kind of
figure each cell holds. The report events are generic (sections of rows of cells, so an export
renders any of them); this catalogue is what a published report must look like, the single source
for the precise JSON Schemas in `schemas/reports/` (`python -m werkplek_events.schemas`) and for the
section and row names the report code uses. docs/reports.md explains every name listed here."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from .vocabulary import EnrolmentStatus, LearningEnvironment, NaceSection, OutcomeKind, PartnerKind, PlacementForm

LAYOUT_VERSION = 2  # raised whenever a section, row or column is added, renamed or removed


class Cell(StrEnum):
    """What a cell holds, as the JSON string of its decimal value."""

    COUNT = "count"  # a whole number of trajectories or things
    HOURS = "hours"  # a sum of hours or credits, up to 4 decimals
    SHARE = "share"  # a share or rate, 4 decimals
    MEAN = "mean"  # a mean on a scale, 4 decimals
    EUROS = "euros"  # an amount of money, 2 decimals
    PARAM = "param"  # a parameter or rule version (never suppressed; may be empty)
    FLAG = "flag"  # 0 or 1, with a reason code


PATTERNS = {
    Cell.COUNT: r"^(0|[1-9][0-9]*)$",
    Cell.HOURS: r"^(0|[1-9][0-9]*)(\.[0-9]{1,4})?$",
    Cell.SHARE: r"^(0|[1-9][0-9]*)\.[0-9]{4}$",  # a share may pass 1 (more hours than the load)
    Cell.MEAN: r"^[0-9]+\.[0-9]{4}$",
    Cell.EUROS: r"^(0|[1-9][0-9]*)\.[0-9]{2}$",
    Cell.PARAM: r"^-?[0-9]+(\.[0-9]+)?$",
    Cell.FLAG: r"^[01]$",
}
PSEUDONYM = r"^t-[0-9a-f]{16}$"


@dataclass(frozen=True)
class Section:
    name: str
    columns: tuple[str, ...]
    rows: tuple[str, ...] = ()  # fixed rows in this order; empty: one row per trajectory (`PSEUDONYM`)
    kind: Cell = Cell.COUNT  # of every cell not named in `by_row` / `by_column`
    by_row: tuple[tuple[str, Cell], ...] = ()
    by_column: tuple[tuple[str, Cell], ...] = ()
    suppressible: bool = True  # False on the restricted topic: its rows are never suppressed
    nullable: bool = False  # a visible cell may be empty (no data for that trajectory)

    def cell(self, row: str, column: str) -> Cell:
        return dict(self.by_row).get(row) or dict(self.by_column).get(column) or self.kind


STATUSES = tuple(s.value for s in EnrolmentStatus)
TARGET_GROUPS = (*STATUSES, "all", "over_25")
BANDS = ("<10%", "10% to <20%", "20% to <1/3", "1/3 to <50%", ">=50%")
CRITERIA = ("min_share", "co_creation", "two_components", "build_up", "competences", "outcomes")
DIMENSIONS = ("learning_environment", "extent", "engagement", "transfer", "integration", "target_group")
SECTORS = (*(s.value for s in NaceSection), "unknown")
PARTNERS = tuple(f"partners_{k.value}" for k in PartnerKind)
RULES = (*CRITERIA, "year_share", "success", "suppression", "layout")
MENTORS = ("mentors", "mentors_trained", "mentors_not_trained", "mentors_training_unknown", "mentors_trained_share")
PLACEMENTS = ("placements", *(f"form_{f.value}" for f in PlacementForm),
              *(f"environment_{e.value}" for e in LearningEnvironment), "environment_unknown", *MENTORS)
SIDE = ("dual", "non_dual", "all")
STATISTICS = (("q1", Cell.SHARE), ("median", Cell.SHARE), ("q3", Cell.SHARE))

RULES_APPLIED = Section("rules_applied", ("version",), RULES, Cell.PARAM)
STUDY_EFFICIENCY = Section("study_efficiency", ("students", "credits_taken", "credits_earned", "efficiency"),
                           TARGET_GROUPS, by_column=(("credits_taken", Cell.HOURS), ("credits_earned", Cell.HOURS),
                                                     ("efficiency", Cell.SHARE)))

PROGRAMME: tuple[Section, ...] = (
    Section("target_groups", ("students", "dual_track"), TARGET_GROUPS),
    Section("share_distribution", ("real_share", "projected_share", "year_share"),
            ("students", "q1", "median", "q3", *BANDS), by_row=STATISTICS),
    Section("required_share", ("value",), ("required_share", "students", "on_course", "not_on_course", "no_share_data",
                                            "no_required_share", "required_share_reached", "on_track", "at_risk",
                                            "behind", "status_unknown"), by_row=(("required_share", Cell.PARAM),)),
    Section("dual_criteria_summary", ("met", "not_met"), (*CRITERIA, "all_six")),
    Section("placements", ("count",), PLACEMENTS, by_row=(("mentors_trained_share", Cell.SHARE),)),
    Section("sectors", ("placements", "students"), SECTORS),
    Section("continuum", ("1", "2", "3", "4", "5", "mean"), DIMENSIONS, by_column=(("mean", Cell.MEAN),)),
    Section("learning_outcomes", ("agreed", "assessed", "achieved", "achieved_share"),
            (*(k.value for k in OutcomeKind), "all"), by_column=(("achieved_share", Cell.SHARE),)),
    STUDY_EFFICIENCY,
    Section("dual_vs_non_dual", SIDE,
            ("students", "real_share_median", "year_share_median", "confirmed_hours_year", "outcomes_agreed",
             "outcomes_achieved", "outcomes_achieved_share", "credits_taken", "credits_earned", "study_efficiency",
             "drop_outs", "drop_out_rate"),
            by_row=(("real_share_median", Cell.SHARE), ("year_share_median", Cell.SHARE),
                    ("confirmed_hours_year", Cell.HOURS), ("outcomes_achieved_share", Cell.SHARE),
                    ("credits_taken", Cell.HOURS), ("credits_earned", Cell.HOURS), ("study_efficiency", Cell.SHARE),
                    ("drop_out_rate", Cell.SHARE))),
    Section("success", SIDE,
            ("entry_year", "nominal_years", "entered", "graduated_within_nominal", "graduated_in_extra_year",
             "dropped_out", "transferred", "no_result_yet", "rate_within_nominal", "rate_within_nominal_plus_one"),
            by_row=(("entry_year", Cell.PARAM), ("nominal_years", Cell.PARAM), ("rate_within_nominal", Cell.SHARE),
                    ("rate_within_nominal_plus_one", Cell.SHARE))),
    RULES_APPLIED,
)
PILOT: tuple[Section, ...] = (
    Section("pilot", ("value",), ("budget_eur", "budget_total_eur", "programmes", "partners", *PARTNERS,
                                  "period_days"), Cell.PARAM),
    Section("target_groups", ("students",), TARGET_GROUPS),
    STUDY_EFFICIENCY,
    Section("success", ("value",), ("trajectories", "graduated_within_nominal", "graduated_in_extra_year",
                                    "graduated_later", "dropped_out", "transferred", "continuing")),
    Section("cost", ("value",), ("budget_eur", "trajectories", "cost_per_trajectory", "confirmed_hours",
                                 "cost_per_confirmed_hour"),
            by_row=(("budget_eur", Cell.PARAM), ("cost_per_trajectory", Cell.EUROS), ("confirmed_hours", Cell.HOURS),
                    ("cost_per_confirmed_hour", Cell.EUROS))),
    RULES_APPLIED,
)
TRAJECTORIES: tuple[Section, ...] = (
    Section("dual_criteria", (*CRITERIA, "all_six"), kind=Cell.FLAG, suppressible=False),
    Section("year_shares", ("phase", "dual", "year_share", "confirmed_hours_year", "real_share"), kind=Cell.SHARE,
            by_column=(("phase", Cell.COUNT), ("dual", Cell.FLAG), ("confirmed_hours_year", Cell.HOURS)),
            suppressible=False, nullable=True),
    RULES_APPLIED,
)


def section(layout: tuple[Section, ...], name: str) -> Section:
    return next(s for s in layout if s.name == name)
