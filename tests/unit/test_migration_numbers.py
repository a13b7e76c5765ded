"""Migration versions are unique per service folder: the ledger's key is (service, version), so two
files sharing a number (two branches that each took "the next one") would fail half-way through a
deployment's migrate job. `discover` refuses them before anything is applied."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkplek_common.db import MigrationError, discover
from werkplek_common.settings import REPO_ROOT


def test_the_repository_numbers_each_services_migrations_uniquely() -> None:
    found = discover(REPO_ROOT / "services")
    assert len({(m.service, m.version) for m in found}) == len(found) > 0


def test_two_migrations_with_one_number_in_a_service_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "svc" / "migrations"
    folder.mkdir(parents=True)
    (folder / "0001_first.sql").write_text("SELECT 1;")
    (folder / "0002_mine.sql").write_text("SELECT 2;")
    other = tmp_path / "other" / "migrations"
    other.mkdir(parents=True)
    (other / "0002_theirs.sql").write_text("SELECT 2;")  # the same number in another service: fine
    assert len(discover(tmp_path)) == 3
    (folder / "0002_theirs.sql").write_text("SELECT 3;")
    with pytest.raises(MigrationError, match="share version 0002"):
        discover(tmp_path)
