"""The drafts of every kind of report, each section in the order of `werkplek_events.report_layout`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from werkplek_events import PilotRegistered

from . import cohort_sections as cohort
from . import funding_sections as funding
from . import pilot_sections as pilot
from . import trajectory_rows as rows
from . import trajectory_sections as trajectory
from .figures import Draft, Ref, Sum
from .records import EntryView, Member, StudentView
from .rules_applied import rules_applied

# The same figure shown in two sections (docs/reports.md, "Relations between figures").
SAME: tuple[tuple[Ref, Ref], ...] = (
    (("target_groups", "all", "students"), ("required_share", "students", "value")),
    (("target_groups", "all", "students"), ("dual_vs_non_dual", "students", "all")),
    (("target_groups", "all", "dual_track"), ("dual_vs_non_dual", "students", "dual")),
    (("study_efficiency", "all", "credits_taken"), ("dual_vs_non_dual", "credits_taken", "all")),
    (("study_efficiency", "all", "credits_earned"), ("dual_vs_non_dual", "credits_earned", "all")),
    (("learning_outcomes", "all", "agreed"), ("dual_vs_non_dual", "outcomes_agreed", "all")),
    (("learning_outcomes", "all", "achieved"), ("dual_vs_non_dual", "outcomes_achieved", "all")),
)
PILOT_SAME: tuple[tuple[Ref, Ref], ...] = (
    (("target_groups", "all", "students"), ("success", "trajectories", "value")),
    (("target_groups", "all", "students"), ("cost", "trajectories", "value")),
)


def build_draft(views: Sequence[StudentView], entries: Sequence[EntryView] = (), year: str = "") -> Draft:
    """A programme's report, or an institution's roll-up over its programmes."""
    draft = Draft()
    cohort.target_groups(draft, views)
    cohort.share_distribution(draft, views)
    cohort.required_share(draft, views)
    trajectory.dual_criteria_summary(draft, views)
    total = trajectory.placements(draft, views)
    trajectory.sectors(draft, views, total)
    trajectory.continuum(draft, views, total)
    trajectory.learning_outcomes(draft, views)
    funding.study_efficiency(draft, views)
    funding.dual_vs_non_dual(draft, views)
    funding.success(draft, entries, year)
    rules_applied(draft)
    draft.add_sums(*(Sum(a, (b,)) for a, b in SAME))
    return draft


def pilot_draft(facts: PilotRegistered, views: Sequence[StudentView], entries: Mapping[Member, EntryView],
                year: str) -> Draft:
    draft = Draft()
    pilot.pilot_facts(draft, facts, year)
    pilot.inflow(draft, views)
    funding.study_efficiency(draft, views)
    pilot.results(draft, views, entries, year)
    pilot.cost(draft, facts, views, year)
    rules_applied(draft)
    draft.add_sums(*(Sum(a, (b,)) for a, b in PILOT_SAME))
    return draft


def trajectory_draft(views: Sequence[StudentView]) -> Draft:
    """The per-trajectory rows of a programme report (restricted topic)."""
    draft = Draft()
    rows.dual_criteria(draft, views)
    rows.year_shares(draft, views)
    rules_applied(draft)
    return draft
