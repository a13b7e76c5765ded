"""Suppression over the whole published set of an institution and year: small counts, cells that a
sum or difference within a report or across reports (programme reports, roll-up, pilot) gives back,
ratios over few students; and the property: no linear combination of what is published recovers a
suppressed cell."""

from __future__ import annotations

from decimal import Decimal as D
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from werkplek_events import Event, ReportSection
from werkplek_funding_reports.domain.keys import ReportKey
from werkplek_funding_reports.domain.publication import PublicationSet, publication_set
from werkplek_funding_reports.domain.state import Cohort

from .generated import INST, PILOT, YEAR, Generated, institutions
from .reader import Reader
from .story import Story

STATUSES = ["regular", "working_student", "side_entrant", "other"]


def publish(events: list[Event], inst: str, year: str = YEAR) -> PublicationSet:
    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    return publication_set(cohort, (inst, year), lambda s: f"t-{s}", 5)


def cohort_of(story: Story, sizes: list[int], dual: bool = False) -> list[Event]:
    events: list[Event] = [story.programme()]
    for status, n in zip(STATUSES, sizes, strict=True):
        events += [story.enrol(f"{story.prog}-{status}-{i}", status=status, dual=dual) for i in range(n)]
    return events


def cells(sections: list[ReportSection], section: str, column: str) -> dict[str, D | None]:
    sec = next(s for s in sections if s.name == section)
    return {r.label: r.cells[column].value for r in sec.rows}


def target_cells(sizes: list[int]) -> dict[str, D | None]:
    story = Story()
    return cells(publish(cohort_of(story, sizes), story.inst).reports[ReportKey(story.inst, story.prog, YEAR)],
                 "target_groups", "students")


def test_a_lone_small_cell_pulls_in_the_smallest_other_part():
    # 20 students: other (2) is small; alone it would be 20 - 6 - 5 - 7, so working (5) goes too
    assert target_cells([6, 5, 7, 2]) == {
        "regular": 6, "working_student": None, "side_entrant": 7, "other": None, "all": 20, "over_25": None}


def test_small_cells_that_add_up_to_a_small_number_are_not_enough():
    # 10 students: working 4 and two zeros are hidden, but 10 - 6 = 4 would give their sum away
    assert target_cells([6, 4, 0, 0]) == {
        "regular": None, "working_student": None, "side_entrant": None, "other": None, "all": 10, "over_25": None}


def test_hidden_cells_adding_up_to_at_least_the_threshold_stay_hidden_alone():
    # 3 + 2 + 0 = 5 hidden; the sum is known but no single cell is
    assert target_cells([6, 3, 2, 0]) == {
        "regular": 6, "working_student": None, "side_entrant": None, "other": None, "all": 11, "over_25": None}


def test_a_small_total_hides_everything_under_it():
    assert set(target_cells([2, 1, 0, 0]).values()) == {None}


def test_the_roll_up_minus_the_other_programmes_gives_nothing_back():
    """The issue's example: per report, A hides its 3 working students and a complement; the roll-up
    (working 10) minus B (working 7) would give A's 3 back. Suppressed together, it cannot."""
    a = Story()
    b = Story(inst=a.inst)
    published = publish(cohort_of(a, [6, 3, 7, 5]) + cohort_of(b, [9, 7, 6, 8]), a.inst)
    prog_a = cells(published.reports[ReportKey(a.inst, a.prog, YEAR)], "target_groups", "students")
    prog_b = cells(published.reports[ReportKey(a.inst, b.prog, YEAR)], "target_groups", "students")
    roll = cells(published.reports[ReportKey(a.inst, None, YEAR)], "target_groups", "students")
    assert prog_a["working_student"] is None
    for row in STATUSES:  # wherever A hides a cell, B or the roll-up hides it too
        if prog_a[row] is None:
            assert roll[row] is None or prog_b[row] is None, row


def test_per_trajectory_rows_are_never_on_the_report_topic():
    story = Story()
    events: list[Event] = [story.programme()]
    for n in range(6):
        events += story.dual_trajectory(f"{story.prog}-s{n}")
    published = publish(events, story.inst)
    key = ReportKey(story.inst, story.prog, YEAR)
    assert "dual_criteria" not in [s.name for s in published.reports[key]]
    rows = next(s for s in published.trajectories[key] if s.name == "dual_criteria").rows
    assert [r.label for r in rows] == sorted(f"t-{story.prog}-s{n}" for n in range(6))
    text = "".join(s.model_dump_json() for secs in published.reports.values() for s in secs)
    assert "t-" not in text and story.prog + "-s" not in text  # no pseudonym, no student id
    assert ReportKey(story.inst, None, YEAR) not in published.trajectories  # programme reports only


def test_ratios_over_few_students_and_derived_from_hidden_counts_are_hidden():
    story = Story()
    events: list[Event] = [story.programme()]
    for n in range(4):
        events += story.dual_trajectory(f"{story.prog}-s{n}")
    report = publish(events, story.inst).reports[ReportKey(story.inst, story.prog, YEAR)]
    quart = {r.label: r.cells["real_share"] for r in next(s for s in report if s.name == "share_distribution").rows}
    assert quart["median"].suppressed and quart["median"].value is None  # 4 students with a share
    cont = {r.label: r.cells for r in next(s for s in report if s.name == "continuum").rows}
    assert cont["extent"]["mean"].suppressed


def truth(published: PublicationSet) -> dict[tuple[str, str, str, str], Fraction | None]:
    return {(k.report_id, *ref): (None if f.value is None else f.exact if f.exact is not None else Fraction(f.value))
            for k, d in published.drafts.items() for ref, f in d.cells()}


def reader_of(gen: Generated, published: PublicationSet) -> Reader:
    reports = {k.report_id: v for k, v in published.reports.items()}
    reader = Reader(reports)
    programmes = [rid for rid in reports if rid.startswith("prog-")]
    for rid in reports:
        reader.knows_a_report(rid, pilot=rid.startswith("pilot:"))
    if f"inst:{INST}:{YEAR}" in reports:
        reader.knows_the_roll_up(f"inst:{INST}:{YEAR}", programmes)
    pilot = f"pilot:{PILOT}:{YEAR}"
    if pilot in reports:
        reader.knows_the_pilot_is_their_dual_tracks(pilot, [f"{p}:{YEAR}" for p in gen.pilot_programmes
                                                            if f"{p}:{YEAR}" in reports])
    return reader


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(institutions())
def test_no_linear_combination_of_the_published_set_recovers_a_suppressed_cell(gen: Generated):
    published = publish(gen.events, INST)
    if not published.reports:
        return
    reader = reader_of(gen, published)
    true = truth(published)
    assert reader.check_true(true) == []  # what the reader knows is true of the real figures
    recovered = {c for c in reader.recovered() if true.get(c) is not None}
    assert recovered == set(), sorted(recovered)[:5]
    for eq in reader.equations:  # a visible total with hidden count parts: they stand for at least 5
        hidden = [c for _, c in eq if c in set(reader.suppressed())]
        visible_total = eq[0][1] not in hidden
        if hidden and visible_total and all(c[1] in ("target_groups",) for _, c in eq):
            assert sum(true[c] or 0 for c in hidden) >= 5, eq
    for sections in published.reports.values():
        for sec in sections:
            for row in sec.rows:
                for cell in row.cells.values():
                    assert not cell.suppressed or cell.value is None
