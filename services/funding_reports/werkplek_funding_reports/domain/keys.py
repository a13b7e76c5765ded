"""Which report a figure belongs to: a programme × academic year, an institution's roll-up, or a pilot
× academic year. Reports of one institution and year form one publication set (`set_key`): they are
suppressed together, so no sum or difference across them gives a hidden cell away (docs/adr/0050)."""

from __future__ import annotations

from dataclasses import dataclass

from werkplek_events.limits import institution_report_id, pilot_report_id, programme_report_id
from werkplek_events.vocabulary import ReportScope

SetKey = tuple[str, str]  # institution, academic year


@dataclass(frozen=True)
class ReportKey:
    institution_id: str
    programme_id: str | None  # None: the institution's roll-up over all its programmes (or a pilot)
    academic_year: str
    pilot_id: str | None = None

    @property
    def scope(self) -> ReportScope:
        if self.pilot_id is not None:
            return ReportScope.PILOT
        return ReportScope.INSTITUTION if self.programme_id is None else ReportScope.PROGRAMME

    @property
    def report_id(self) -> str:
        """Fits the report id's limit for every id the APIs accept (`werkplek_events.limits`); an older
        record with a longer id makes a report the worker quarantines instead of publishing."""
        if self.pilot_id is not None:
            return pilot_report_id(self.pilot_id, self.academic_year)
        if self.programme_id is None:
            return institution_report_id(self.institution_id, self.academic_year)
        return programme_report_id(self.programme_id, self.academic_year)

    @property
    def set_key(self) -> SetKey:
        return (self.institution_id, self.academic_year)

    def __lt__(self, other: ReportKey) -> bool:  # programmes first, then the roll-up, then pilots
        return self._order() < other._order()

    def _order(self) -> tuple[str, str, int, str, str]:
        rank = 2 if self.pilot_id is not None else 1 if self.programme_id is None else 0
        return (self.institution_id, self.academic_year, rank, self.programme_id or "", self.pilot_id or "")


def keys_of(institution_id: str, programme_id: str, academic_year: str) -> set[ReportKey]:
    """A programme's report and its institution's roll-up."""
    return {ReportKey(institution_id, programme_id, academic_year), ReportKey(institution_id, None, academic_year)}


def pilot_keys(institution_id: str, pilot_id: str, academic_year: str) -> set[ReportKey]:
    return {ReportKey(institution_id, None, academic_year, pilot_id)}
