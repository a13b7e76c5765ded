"""Which report a figure belongs to: a programme × academic year, or an institution's roll-up."""

from __future__ import annotations

from dataclasses import dataclass

from werkplek_events.limits import institution_report_id, programme_report_id
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
        """Fits the report id's limit for every id the APIs accept (`werkplek_events.limits`); an older
        record with a longer id makes a report the worker quarantines instead of publishing."""
        if self.programme_id is None:
            return institution_report_id(self.institution_id, self.academic_year)
        return programme_report_id(self.programme_id, self.academic_year)


def keys_of(institution_id: str, programme_id: str, academic_year: str) -> set[ReportKey]:
    """A programme's report and its institution's roll-up."""
    return {ReportKey(institution_id, programme_id, academic_year), ReportKey(institution_id, None, academic_year)}
