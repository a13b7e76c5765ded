"""A whole report: every section in a fixed order, then what may be published of it."""

from __future__ import annotations

from collections.abc import Sequence

from werkplek_events import ReportSection

from . import cohort_sections as cohort
from . import trajectory_sections as trajectory
from .figures import Draft
from .privacy import publishable
from .records import StudentView


def build_draft(views: Sequence[StudentView]) -> Draft:
    draft = Draft()
    cohort.target_groups(draft, views)
    cohort.share_distribution(draft, views)
    cohort.required_share(draft, views)
    trajectory.dual_criteria(draft, views)
    total = trajectory.placements(draft, views)
    trajectory.continuum(draft, views, total)
    trajectory.learning_outcomes(draft, views)
    cohort.pilot_evaluation(draft, views)
    return draft


def report_sections(views: Sequence[StudentView], min_count: int) -> list[ReportSection]:
    return publishable(build_draft(views), min_count)
