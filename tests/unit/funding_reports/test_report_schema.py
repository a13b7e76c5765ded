"""The precise JSON Schemas of the reports (events/schemas/reports/): every report the code builds
validates, and what a published report must not be (a value behind a suppressed cell, a missing or
extra row, a section out of place, a count that is not whole) does not."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from werkplek_events import Event, FundingReportPublished, FundingReportSnapshotted, FundingTrajectoriesPublished
from werkplek_events.report_schemas import load
from werkplek_funding_reports.compute import Mark, report_event
from werkplek_funding_reports.domain.pseudonym import pseudonym
from werkplek_funding_reports.domain.publication import publication_set
from werkplek_funding_reports.domain.state import Cohort
from werkplek_funding_reports.snapshots import to_snapshot

from .story import YEAR, Story

Doc = dict[str, Any]
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def validator(event: type) -> Draft202012Validator:
    return Draft202012Validator(load(event))


def institution() -> tuple[str, list[Event]]:
    """Two programmes: one with six dual trajectories in a pilot, one with seven students and credits."""
    a = Story()
    b = Story(inst=a.inst)
    events: list[Event] = [a.programme(), b.programme(), a.pilot("pilot-1")]
    for n in range(6):
        events += a.dual_trajectory(f"{a.prog}-s{n}", confirmed=20_000 + 9_000 * n, pilot="pilot-1")
        events.append(a.credits(f"{a.prog}-s{n}", 60, 40 + n))
    for n, status in enumerate(["regular"] * 4 + ["side_entrant"] * 3):
        events += [b.enrol(f"{b.prog}-s{n}", status=status), b.credits(f"{b.prog}-s{n}", 30, 30 - n),
                   b.share(f"{b.prog}-s{n}", 1_000 * n)]
    return a.inst, events


@pytest.fixture(scope="module")
def documents() -> dict[str, Doc]:
    """Every report of the institution, and the trajectory rows, as published (JSON)."""
    inst, events = institution()
    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    computed = publication_set(cohort, (inst, YEAR), lambda s: pseudonym(b"key", s), 5)
    out = {k.report_id: json.loads(report_event(k, v, 1, Mark(), NOW).model_dump_json())
           for k, v in computed.reports.items()}
    for k, v in computed.trajectories.items():
        event = report_event(k, v, 1, Mark(), NOW, FundingTrajectoriesPublished)
        out[f"trajectories {k.report_id}"] = json.loads(event.model_dump_json())
    return out


def errors(event: type, doc: Doc) -> list[str]:
    return [e.message for e in validator(event).iter_errors(doc)]


def test_every_kind_of_report_validates(documents):
    scopes = {d["scope"] for d in documents.values()}
    assert scopes == {"programme", "institution", "pilot"}
    for rid, doc in documents.items():
        kind = FundingTrajectoriesPublished if rid.startswith("trajectories") else FundingReportPublished
        assert errors(kind, doc) == [], rid


def test_a_snapshot_validates_against_its_own_schema(documents):
    doc = next(d for d in documents.values() if d["scope"] == "programme" and "snapshot_id" not in d)
    snap = to_snapshot(FundingReportPublished.model_validate(doc), "s-1", NOW.date())
    assert errors(FundingReportSnapshotted, json.loads(snap.model_dump_json())) == []


def programme(documents: dict[str, Doc]) -> Doc:
    return copy.deepcopy(next(d for r, d in documents.items() if d["scope"] == "programme"
                              and not r.startswith("trajectories")))


def test_a_value_behind_a_suppressed_cell_is_refused(documents):
    doc = programme(documents)
    cell = doc["sections"][0]["rows"][0]["cells"]["students"]
    cell.update(suppressed=True, value="3")
    assert errors(FundingReportPublished, doc)


def test_a_count_must_be_whole_and_a_share_have_four_places(documents):
    doc = programme(documents)
    doc["sections"][0]["rows"][4]["cells"]["students"] = {"value": "7.5", "suppressed": False, "reason": None}
    assert errors(FundingReportPublished, doc)
    doc = programme(documents)
    quartile = doc["sections"][1]["rows"][1]["cells"]["real_share"]
    if not quartile["suppressed"]:
        quartile["value"] = "0.33"
        assert errors(FundingReportPublished, doc)


def test_rows_and_sections_are_exactly_the_layout(documents):
    doc = programme(documents)
    doc["sections"][0]["rows"].pop()  # over_25 missing
    assert errors(FundingReportPublished, doc)
    doc = programme(documents)
    doc["sections"][0]["rows"].append({"label": "elders", "cells": {}})
    assert errors(FundingReportPublished, doc)
    doc = programme(documents)
    doc["sections"].insert(0, doc["sections"].pop(2))
    assert errors(FundingReportPublished, doc)
    doc = programme(documents)
    doc["sections"].append({"name": "dual_criteria", "columns": [], "rows": []})  # trajectory rows: never here
    assert errors(FundingReportPublished, doc)


def test_trajectory_rows_carry_pseudonyms_only(documents):
    doc = copy.deepcopy(next(d for r, d in documents.items() if r.startswith("trajectories")))
    rows = doc["sections"][1]["rows"]
    assert rows, "the generated programme has students"
    rows[0]["label"] = "stu-12345"
    assert errors(FundingTrajectoriesPublished, doc)
