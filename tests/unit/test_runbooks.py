"""Every alert links to its own section of docs/runbooks.md, and that section says what to check and do."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "infra" / "prometheus" / "rules" / "werkplek.yml"
RUNBOOKS = ROOT / "docs" / "runbooks.md"
BASE = "https://github.com/werkplek/werkplek/blob/main/docs/runbooks.md#"


def sections(text: str) -> dict[str, str]:
    """GitHub's anchor of each `## ` heading -> the section's text."""
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {re.sub(r"[^a-z0-9-]", "", title.strip().lower().replace(" ", "-")): body
            for title, body in zip(parts[1::2], parts[2::2], strict=True)}


def missing_runbooks(rules: dict, text: str) -> list[str]:
    known = sections(text)
    out = []
    for rule in (r for g in rules["groups"] for r in g["rules"] if "alert" in r):
        url = rule.get("annotations", {}).get("runbook_url", "")
        anchor = url.removeprefix(BASE)
        body = known.get(anchor, "")
        if not url.startswith(BASE) or anchor != rule["alert"].lower() or not all(
                w in body for w in ("**Means**", "**Check**", "**Do**")):
            out.append(rule["alert"])
    return out


def test_every_alert_has_a_runbook() -> None:
    rules = yaml.safe_load(RULES.read_text())
    assert len([r for g in rules["groups"] for r in g["rules"]]) >= 9
    assert missing_runbooks(rules, RUNBOOKS.read_text()) == []


def test_a_missing_section_is_caught() -> None:
    rules = yaml.safe_load(RULES.read_text())
    broken = RUNBOOKS.read_text().replace("## WerkplekTargetDown", "## Targets down")
    assert missing_runbooks(rules, broken) == ["WerkplekTargetDown"]
