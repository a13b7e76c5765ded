"""Which report a figure belongs to: a programme × academic year, or an institution's roll-up."""

from __future__ import annotations

from dataclasses import dataclass

from werkplek_events.vocabulary import ReportScope


@dataclass(frozen=True, order=True)
class ReportKey:
    institution_id: str
    programme_id: str | None  # None: the institution's roll-up over all its programmes
    academic_year: str

    @property
    def scope(self) -> ReportScope:
        return ReportScope.INSTITUTION if self.programme_id is None else ReportScope.PROGRAMME

    @property
    def report_id(self) -> str:
        if self.programme_id is None:
            return f"inst:{self.institution_id}:{self.academic_year}"
        return f"{self.programme_id}:{self.academic_year}"


def keys_of(institution_id: str, programme_id: str, academic_year: str) -> set[ReportKey]:
    """A programme's report and its institution's roll-up."""
    return {ReportKey(institution_id, programme_id, academic_year), ReportKey(institution_id, None, academic_year)}
