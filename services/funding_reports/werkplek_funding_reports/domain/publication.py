"""One publication set: every report of an institution and academic year, computed from the same
cohort and suppressed together, plus the per-trajectory rows of each programme report. The live
worker and the as-of replay both call `publication_set`, so a report recomputed as of an instant is
the report that was published then."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from werkplek_events import ReportSection

from .figures import Draft
from .keys import ReportKey, SetKey
from .privacy import publishable, suppress
from .report import build_draft, pilot_draft, trajectory_draft
from .state import Cohort
from .views import entries_for, views_for

Pseudonymise = Callable[[str], str]


@dataclass(frozen=True)
class PublicationSet:
    reports: dict[ReportKey, list[ReportSection]]
    trajectories: dict[ReportKey, list[ReportSection]]  # programme reports only; restricted topic
    drafts: dict[ReportKey, Draft]  # unsuppressed, for lineage; never published


def set_keys(cohort: Cohort, key: SetKey) -> list[ReportKey]:
    """The set's reports; a pilot's only once the pilot is known (an enrolment may name it before its
    PilotRegistered arrives, from another topic: the report is held until then)."""
    return sorted(k for k in cohort.report_keys()
                  if k.set_key == key and (k.pilot_id is None or k.pilot_id in cohort.pilots))


def publication_set(cohort: Cohort, key: SetKey, pseudonymise: Pseudonymise, min_count: int) -> PublicationSet:
    keys = set_keys(cohort, key)
    views = {k: views_for(cohort, k, pseudonymise) for k in keys}
    rollup = ReportKey(key[0], None, key[1])
    entries = {k: entries_for(cohort, k) for k in keys if k.pilot_id is None}
    by_member = {e.member: e for e in entries.get(rollup) or entries_for(cohort, rollup)}
    drafts = {k: pilot_draft(cohort.pilots[k.pilot_id], views[k], by_member, k.academic_year) if k.pilot_id
              else build_draft(views[k], entries[k], k.academic_year) for k in keys}
    pilots = {k.report_id: cohort.pilots[k.pilot_id].programme_ids for k in keys if k.pilot_id is not None}
    hidden = suppress(drafts, min_count, pilots)
    reports = {k: publishable(drafts[k], hidden[k]) for k in keys}
    trajectories = {k: publishable(trajectory_draft(views[k]), set()) for k in keys if k.programme_id is not None}
    return PublicationSet(reports, trajectories, drafts)
