"""Suppression: small counts, cells recoverable by subtraction, ratios over few students."""

from __future__ import annotations

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st
from werkplek_events.vocabulary import EnrolmentStatus
from werkplek_funding_reports.domain.figures import Draft
from werkplek_funding_reports.domain.privacy import publishable, suppressed_cells
from werkplek_funding_reports.domain.records import StudentView
from werkplek_funding_reports.domain.report import build_draft, report_sections

from .cohort import TERMS, cohort

STATUSES = [EnrolmentStatus.REGULAR, EnrolmentStatus.WORKING_STUDENT, EnrolmentStatus.SIDE_ENTRANT,
            EnrolmentStatus.OTHER]


def students(regular: int, working: int, side: int, other: int) -> list[StudentView]:
    out = []
    for status, n in zip(STATUSES, (regular, working, side, other), strict=True):
        out += [StudentView(f"{status.value}-{i}", f"t-{status.value}-{i}", TERMS, status, False, False)
                for i in range(n)]
    return out


def target_cells(views: list[StudentView]) -> dict[str, D | None]:
    sec = next(s for s in report_sections(views, 5) if s.name == "target_groups")
    return {r.label: r.cells["students"].value for r in sec.rows}


def test_a_lone_small_cell_pulls_in_the_smallest_other_part():
    # 20 students: other (2) is small; alone it would be 20 - 6 - 5 - 7, so working (5) goes too
    assert target_cells(students(6, 5, 7, 2)) == {
        "regular": 6, "working_student": None, "side_entrant": 7, "other": None, "all": 20, "over_25": None}


def test_small_cells_that_add_up_to_a_small_number_are_not_enough():
    # 10 students: working 4 and two zeros are hidden, but 10 - 6 = 4 would give their sum away
    assert target_cells(students(6, 4, 0, 0)) == {
        "regular": None, "working_student": None, "side_entrant": None, "other": None, "all": 10,
        "over_25": None}


def test_hidden_cells_adding_up_to_at_least_the_threshold_stay_hidden_alone():
    # 3 + 2 + 0 = 5 hidden; the sum is known but no single cell is
    assert target_cells(students(6, 3, 2, 0)) == {
        "regular": 6, "working_student": None, "side_entrant": None, "other": None, "all": 11, "over_25": None}


def test_a_small_total_hides_everything_under_it():
    assert set(target_cells(students(2, 1, 0, 0)).values()) == {None}


def test_the_same_figure_in_two_sections_is_hidden_in_both():
    sections = {s.name: s for s in report_sections(cohort(), 5)}
    tg = {r.label: r.cells["dual_track"] for r in sections["target_groups"].rows}
    pilot = {r.label: r.cells["value"] for r in sections["pilot_evaluation"].rows}
    for status in ("regular", "working_student", "side_entrant", "other"):
        assert tg[status].suppressed == pilot[f"inflow_{status}"].suppressed
    assert tg["all"].value == pilot["inflow_all"].value == 5


def test_ratios_over_few_students_and_derived_from_hidden_counts_are_hidden():
    sections = {s.name: s for s in report_sections(cohort()[:4], 5)}
    quart = {r.label: r.cells["real_share"] for r in sections["share_distribution"].rows}
    assert quart["median"].suppressed and quart["median"].value is None  # 4 students with a share
    cont = {r.label: r.cells for r in sections["continuum"].rows}
    assert cont["extent"]["mean"].suppressed


def test_trajectory_rows_are_pseudonymous_and_not_suppressed():
    sec = next(s for s in report_sections(cohort(), 5) if s.name == "dual_criteria")
    assert [r.label for r in sec.rows] == ["t-s01", "t-s02", "t-s03", "t-s07", "t-s09"]
    assert all(not c.suppressed for r in sec.rows for c in r.cells.values())


def test_no_raw_student_id_in_the_published_report():
    text = "".join(s.model_dump_json() for s in report_sections(cohort(), 5))
    for view in cohort():
        assert f'"{view.student_id}"' not in text


def _recoverable(draft: Draft, hidden: set) -> list:
    """Hidden cells that one sum gives away: the only hidden cell of a sum, or hidden parts of a
    visible total whose sum is below the threshold."""
    bad = []
    for rule in draft.sums:
        cells = [rule.total, *rule.parts]
        gone = [c for c in cells if c in hidden]
        if len(gone) == 1:
            bad.append((rule, gone))
        elif gone and rule.total not in hidden:
            if sum(draft.figure(c).value or 0 for c in gone) < 5:
                bad.append((rule, gone))
    return bad


@given(st.lists(st.integers(0, 12), min_size=4, max_size=4))
def test_no_hidden_cell_can_be_recovered_by_subtraction(sizes):
    views = students(*sizes)
    draft = build_draft(views)
    hidden = suppressed_cells(draft, 5)
    assert _recoverable(draft, hidden) == []
    published = publishable(draft, 5)
    for sec in published:
        for row in sec.rows:
            for cell in row.cells.values():
                assert not cell.suppressed or cell.value is None
