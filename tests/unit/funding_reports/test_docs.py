"""docs/reports.md explains every section, row, column and reason code a report can carry, and shows
the example consumer as it is in docs/examples (so the page and the tested code cannot drift)."""

from __future__ import annotations

import re

from werkplek_common.settings import REPO_ROOT
from werkplek_events.report_layout import PILOT, PROGRAMME, TRAJECTORIES
from werkplek_funding_reports.domain.criteria import REASONS, RULES
from werkplek_funding_reports.domain.rules_applied import OTHER_RULES

PAGE = (REPO_ROOT / "docs" / "reports.md").read_text(encoding="utf-8")
EXAMPLE = (REPO_ROOT / "docs" / "examples" / "latest_report.py").read_text(encoding="utf-8")
NAMED = set(re.findall(r"`([^`]+)`", PAGE))


def names(text: str) -> set[str]:
    """Words in backticks, and the parts of `a / b / c` paths and `a`, `b` lists."""
    return {part.strip() for name in NAMED for part in re.split(r"[ /,]+", name)} | NAMED


def test_every_section_row_and_column_is_explained():
    known = names(PAGE)
    missing = set()
    for layout in (PROGRAMME, PILOT, TRAJECTORIES):
        for sec in layout:
            missing |= {n for n in (sec.name, *sec.columns) if n not in known}
            missing |= {r for r in sec.rows if r not in known and not re.fullmatch(r"[B-T]", r)}
    assert missing == set(), sorted(missing)  # sections A…U are explained as a range


def test_every_reason_code_and_rule_is_explained():
    known = names(PAGE)
    codes = {r for reasons in REASONS.values() for r in reasons if not r.startswith(("missing_", "2_", "3_", "4_",
                                                                                      "5_"))}
    assert codes - known == set()
    assert {code for _, code in (*RULES.values(), *OTHER_RULES.values())} - known == set()


def test_the_page_shows_the_tested_example():
    shown = PAGE.split("```python\n", 1)[1].split("```", 1)[0]
    assert shown.strip() in EXAMPLE
