"""Precise JSON Schemas of the funding reports, generated from `report_layout` into `schemas/reports/`.

The topic schemas (`schemas/<topic>.json`) describe a report generically, as the event model does, so
that a section can be added without a new topic version. These describe what is actually published:
each scope's sections in order, each section's rows in order and its columns, and per cell what its
value looks like; a suppressed cell has no value and no reason. A consumer that wants to be strict
validates with these; the tests validate every report they see with them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .report_layout import PATTERNS, PILOT, PROGRAMME, PSEUDONYM, TRAJECTORIES, Cell, Section
from .reporting import FundingReportPublished, FundingReportSnapshotted, FundingTrajectoriesPublished
from .schemas import DIALECT, SCHEMA_DIR, render_schema, schema_for, schema_id
from .topics import topic_for
from .vocabulary import ReportScope

REPORT_SCHEMA_DIR = SCHEMA_DIR / "reports"
NULLABLE = (Cell.PARAM, Cell.SHARE, Cell.MEAN, Cell.EUROS)  # empty: not defined (nothing to divide by)
Schema = dict[str, Any]


def _cell(kind: Cell, sec: Section) -> Schema:
    value: Schema = {"type": "string", "pattern": PATTERNS[kind]}
    if kind in NULLABLE or sec.nullable:
        value = {"anyOf": [value, {"type": "null"}]}
    visible: Schema = {"properties": {"suppressed": {"const": False}, "value": value}, "required": ["value"]}
    hidden: Schema = {"properties": {"suppressed": {"const": True}, "value": {"type": "null"},
                                     "reason": {"type": "null"}}, "required": ["suppressed"]}
    never_hidden = kind in (Cell.PARAM, Cell.FLAG) or not sec.suppressible
    options = [visible] if never_hidden else [visible, hidden]
    return {"type": "object", "properties": {"value": True, "suppressed": {"type": "boolean"},
                                             "reason": {"anyOf": [{"type": "string", "pattern": "^[a-z0-9_]+$",
                                                                   "maxLength": 64}, {"type": "null"}]}},
            "additionalProperties": False, "oneOf": options}


def _row(sec: Section, label: Schema, row: str | None) -> Schema:
    cells = {c: _cell(sec.cell(row or "", c), sec) for c in sec.columns}
    return {"type": "object", "required": ["label", "cells"], "additionalProperties": False,
            "properties": {"label": label, "cells": {"type": "object", "properties": cells,
                                                     "required": list(sec.columns), "additionalProperties": False}}}


def section_schema(sec: Section) -> Schema:
    if sec.rows:
        rows: Schema = {"type": "array", "prefixItems": [_row(sec, {"const": r}, r) for r in sec.rows],
                        "minItems": len(sec.rows), "items": False}
    else:
        rows = {"type": "array", "items": _row(sec, {"type": "string", "pattern": PSEUDONYM}, None)}
    return {"type": "object", "required": ["name", "columns", "rows"], "additionalProperties": False,
            "properties": {"name": {"const": sec.name}, "columns": {"const": list(sec.columns)}, "rows": rows}}


def sections_schema(layout: tuple[Section, ...]) -> Schema:
    return {"type": "array", "prefixItems": [section_schema(s) for s in layout], "minItems": len(layout),
            "items": False}


def _scoped(scope: ReportScope, layout: tuple[Section, ...]) -> Schema:
    return {"if": {"properties": {"scope": {"const": scope.value}}},
            "then": {"properties": {"sections": sections_schema(layout)}}}


def report_schema(event: type[FundingReportPublished | FundingReportSnapshotted | FundingTrajectoriesPublished],
                  ) -> Schema:
    """The event's own schema with its sections pinned down per scope."""
    base = schema_for(event)
    name = topic_for(event).name
    if event is FundingTrajectoriesPublished:
        rules = [{"properties": {"scope": {"const": ReportScope.PROGRAMME.value},
                                 "sections": sections_schema(TRAJECTORIES)}}]
    else:
        rules = [_scoped(ReportScope.PROGRAMME, PROGRAMME), _scoped(ReportScope.INSTITUTION, PROGRAMME),
                 _scoped(ReportScope.PILOT, PILOT)]
    return {**base, "$schema": DIALECT, "$id": schema_id(name) + ":layout", "allOf": rules,
            "description": f"A published {name} report as the layout of werkplek_events.report_layout defines it."}


REPORTS = (FundingReportPublished, FundingReportSnapshotted, FundingTrajectoriesPublished)


def expected() -> dict[Path, str]:
    return {REPORT_SCHEMA_DIR / f"{topic_for(e).name}.json": render_schema(report_schema(e)) for e in REPORTS}


def _stale() -> list[Path]:
    on_disk = {p: p.read_text(encoding="utf-8") for p in REPORT_SCHEMA_DIR.glob("*.json")}
    want = expected()
    return sorted(p for p in want.keys() | on_disk.keys() if want.get(p) != on_disk.get(p))


def drift() -> list[str]:
    """The layout schemas whose committed file differs (relative to events/)."""
    return [str(p.relative_to(SCHEMA_DIR.parent)) for p in _stale()]


def write() -> list[str]:
    REPORT_SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
    stale, want = _stale(), expected()
    for path in stale:
        if path in want:
            path.write_text(want[path], encoding="utf-8", newline="\n")
        else:
            path.unlink()
    return [str(p.relative_to(SCHEMA_DIR.parent)) for p in stale]


def load(event: type[FundingReportPublished | FundingReportSnapshotted | FundingTrajectoriesPublished]) -> Schema:
    schema: Schema = json.loads((REPORT_SCHEMA_DIR / f"{topic_for(event).name}.json").read_text(encoding="utf-8"))
    return schema
