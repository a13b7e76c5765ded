"""The personal data inventory (docs/privacy.md) is complete: every sealed field of the contract
and every table the migrations create is named in it, so a new table or field cannot slip past the
inventory (and so past erasure and retention) unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

from werkplek_events import topic_for
from werkplek_events.personal import PERSONAL_FIELDS

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "privacy.md").read_text()


def test_every_sealed_field_is_in_the_inventory_with_its_topic():
    for cls, paths in PERSONAL_FIELDS.items():
        rows = [line for line in DOC.splitlines() if topic_for(cls).name in line]
        assert rows, f"{topic_for(cls).name} is not in docs/privacy.md"
        for path in paths:
            assert any(f"`{path}`" in row for row in rows), f"{cls.__name__}.{path} is not in docs/privacy.md"


def test_every_table_is_in_the_inventory():
    created = {m for sql in ROOT.glob("services/*/migrations/*.sql")
               for m in re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql.read_text())}
    assert created, "no migrations found"
    missing = sorted(t for t in created if f"`{t}`" not in DOC)
    assert missing == [], f"tables not in docs/privacy.md: {missing}"
