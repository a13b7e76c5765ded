"""One name for one thing in every service's settings (issue 12 item 6; docs/adr/0009): the consumer
group is `consumer_group` (or `<part>_consumer_group` where a service runs several consumers), the
outbox rows a relay publishes are `outbox_producer`'s, the metrics listener is `metrics_port`. The
variables of the names before are still read, and the new one wins over the old."""

from __future__ import annotations

import pytest
from werkplek_funding_reports.config import Settings as FundingSettings
from werkplek_hour_accounting.config import AccountingSettings
from werkplek_mentor_feedback.config import MentorFeedbackSettings
from werkplek_placement_logging.config import Settings as PlacementSettings

ALL = (AccountingSettings, FundingSettings, MentorFeedbackSettings, PlacementSettings)


def fields(cls: type) -> set[str]:
    return set(cls.model_fields)  # type: ignore[attr-defined]


def test_each_service_names_its_consumer_groups_outbox_producers_and_metrics_port_alike() -> None:
    for cls in ALL:
        names = fields(cls)
        assert "metrics_port" in names
        groups = {n for n in names if n.endswith("_group")}
        assert groups and all(n == "consumer_group" or n.endswith("_consumer_group") for n in groups), (cls, groups)
        producers = {n for n in names if n.endswith("_producer")}
        assert all(n == "outbox_producer" or n.endswith("_outbox_producer") for n in producers), (cls, producers)
    for cls in (AccountingSettings, FundingSettings):
        assert {"consumer_group", "outbox_producer"} <= fields(cls)


def test_every_old_variable_maps_to_a_field_of_its_service() -> None:
    for cls in ALL:
        for field, old in cls.LEGACY_ENV.items():
            assert field in fields(cls), (cls, field)
            assert all(v.startswith("WERKPLEK_") and v != f"WERKPLEK_{field.upper()}" for v in old)


@pytest.mark.parametrize(("cls", "old", "field", "value"), [
    (AccountingSettings, "WERKPLEK_ACCOUNTING_APP_ID", "consumer_group", "ha-old"),
    (AccountingSettings, "WERKPLEK_ACCOUNTING_OUTBOX_PRODUCER", "outbox_producer", "ha-old-producer"),
    (FundingSettings, "WERKPLEK_REPORTS_GROUP_ID", "consumer_group", "fr-old"),
    (FundingSettings, "WERKPLEK_REPORTS_MEMBERS_GROUP", "members_consumer_group", "fr-members-old"),
    (FundingSettings, "WERKPLEK_REPORTS_METRICS_PORT", "metrics_port", 9999),
    (MentorFeedbackSettings, "WERKPLEK_MENTOR_PROGRESS_APP_ID", "progress_consumer_group", "progress-old"),
    (MentorFeedbackSettings, "WERKPLEK_MENTOR_NOTIFIER_GROUP", "notifier_consumer_group", "notifier-old"),
    (PlacementSettings, "WERKPLEK_DECISIONS_GROUP", "decisions_consumer_group", "decisions-old"),
    (PlacementSettings, "WERKPLEK_WORKER_METRICS_PORT", "metrics_port", 9998),
])
def test_an_old_variable_still_sets_the_setting(monkeypatch: pytest.MonkeyPatch, cls: type, old: str, field: str,
                                                value: object) -> None:
    monkeypatch.delenv(f"WERKPLEK_{field.upper()}", raising=False)
    monkeypatch.setenv(old, str(value))
    assert getattr(cls(), field) == value


def test_the_new_variable_wins_over_the_old_and_an_argument_over_both(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WERKPLEK_ACCOUNTING_APP_ID", "old")
    monkeypatch.setenv("WERKPLEK_CONSUMER_GROUP", "new")
    assert AccountingSettings().consumer_group == "new"
    assert AccountingSettings(consumer_group="given").consumer_group == "given"
    monkeypatch.delenv("WERKPLEK_CONSUMER_GROUP")
    assert AccountingSettings().consumer_group == "old"
    monkeypatch.delenv("WERKPLEK_ACCOUNTING_APP_ID")
    assert AccountingSettings().consumer_group == "werkplek-hour-accounting"
