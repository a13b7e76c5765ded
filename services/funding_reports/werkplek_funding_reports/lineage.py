"""Lineage of one figure: which (pseudonymous) students are behind it, with their confirmed time
entries and recorded assessments. The cohort is rebuilt by replaying the input topics (no group, so
nothing is committed) with the fold the worker uses, and the report's publication set is computed
as the worker does, so the figure is recomputed, not guessed."""

from __future__ import annotations

from typing import Any

from .domain.figures import Ref
from .domain.keys import ReportKey
from .domain.pseudonym import pseudonym
from .domain.publication import publication_set
from .domain.state import Cohort


def explain(cohort: Cohort, key: ReportKey, ref: Ref, key_bytes: bytes, min_count: int) -> dict[str, Any]:
    """Raises KeyError when the report or the figure does not exist."""
    computed = publication_set(cohort, key.set_key, lambda sid: pseudonym(key_bytes, sid), min_count)
    if key not in computed.drafts:
        raise KeyError(f"no report {key.report_id}")
    figure = computed.drafts[key].figure(ref)
    published = next(c for s in computed.reports[key] if s.name == ref[0]
                     for r in s.rows if r.label == ref[1] for n, c in r.cells.items() if n == ref[2])
    students = sorted({sid for _, sid in figure.members}, key=lambda sid: pseudonym(key_bytes, sid))
    return {
        "report_id": key.report_id, "section": ref[0], "row": ref[1], "column": ref[2],
        "value": None if figure.value is None else str(figure.value),
        "suppressed_when_published": published.suppressed,
        "students": [{
            "trajectory": pseudonym(key_bytes, sid),
            "confirmed_entries": [str(e) for e in cohort.confirmed_entries(sid)],
            "assessments": sorted(cohort.assessments.get(sid, {})),
        } for sid in students],
    }
