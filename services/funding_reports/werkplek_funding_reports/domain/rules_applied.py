"""Which rules a report applied: a version and a code per rule, so a reader sees in the report itself
which reading of a criterion or which suppression produced its figures (docs/reports.md)."""

from __future__ import annotations

from werkplek_events.report_layout import LAYOUT_VERSION

from .criteria import RULES
from .figures import Draft, param

OTHER_RULES: dict[str, tuple[int, str]] = {
    "year_share": (1, "year_minutes_over_one_year_of_study_load"),
    "success": (1, "cohort_closing_after_nominal_plus_one_year"),
    "suppression": (2, "joint_over_institution_year_with_linear_audit"),
    "layout": (LAYOUT_VERSION, "report_layout"),
}


def rules_applied(draft: Draft) -> None:
    sec = draft.section("rules_applied", ["version"])
    for name, (version, code) in {**RULES, **OTHER_RULES}.items():
        sec.put(name, "version", param(version, code))
