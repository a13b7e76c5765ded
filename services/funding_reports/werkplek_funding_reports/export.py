"""Rendering a report for people: a text table, CSV (UTF-8 with BOM, one figure per line, so it
round-trips) and XLSX (one sheet per section). Files are written to a temporary file in the target
directory and renamed, so a failed export leaves nothing behind."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from werkplek_events import FundingReportPublished, FundingReportSnapshotted, FundingTrajectoriesPublished, ReportCell

Report = FundingReportPublished | FundingReportSnapshotted | FundingTrajectoriesPublished
HEADER = ["section", "row", "column", "value", "suppressed", "reason"]
SUPPRESSED = "x"  # the usual mark for a confidential cell in published statistics


class ExportError(Exception):
    pass


def metadata(report: Report, as_of: datetime | None = None) -> list[tuple[str, str]]:
    """Who the report is about and which inputs it reflects; `as_of`: recomputed as of that instant."""
    rows = [("report_id", report.report_id), ("scope", report.scope.value),
            ("institution_id", report.institution_id), ("programme_id", report.programme_id or ""),
            ("pilot_id", report.pilot_id or ""),
            ("academic_year", report.academic_year), ("version", str(report.version)),
            ("generated_at", report.generated_at.isoformat()),
            ("inputs_until", report.watermark.last_event_time.isoformat() if report.watermark.last_event_time else "")]
    if isinstance(report, FundingReportSnapshotted):
        rows += [("snapshot_id", report.snapshot_id), ("as_of", report.as_of.isoformat())]
    if as_of is not None:
        rows += [("as_of", as_of.isoformat()), ("recomputed", "replayed from the input topics")]
    return rows


def text_cell(cell: ReportCell | None) -> str:
    if cell is None:
        return ""
    if cell.suppressed:
        return SUPPRESSED
    value = "" if cell.value is None else str(cell.value)
    return f"{value} ({cell.reason})" if cell.reason else value


def render_text(report: Report, as_of: datetime | None = None) -> str:
    out = [f"{k}: {v}" for k, v in metadata(report, as_of)]
    out.append(f"{SUPPRESSED} = suppressed (small, or derivable from other published figures)")
    for sec in report.sections:
        table = [["", *sec.columns]] + [[r.label, *(text_cell(r.cells.get(c)) for c in sec.columns)] for r in sec.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
        out += ["", f"== {sec.name}"] + ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                                         for row in table]
    return "\n".join(out) + "\n"


def csv_text(report: Report, delimiter: str = ",", as_of: datetime | None = None) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(["report", key, "value", value, "", ""] for key, value in metadata(report, as_of))
    for sec in report.sections:
        for row in sec.rows:
            for column, cell in row.cells.items():
                value = "" if cell.value is None else str(cell.value)
                flag = "yes" if cell.suppressed else ""
                writer.writerow([sec.name, row.label, column, value, flag, cell.reason or ""])
    return buf.getvalue()


def write_csv(report: Report, path: Path, delimiter: str = ",", as_of: datetime | None = None) -> None:
    text = csv_text(report, delimiter, as_of)
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8-sig", newline=""))


def workbook(report: Report, as_of: datetime | None = None) -> Workbook:
    wb = Workbook()
    meta = wb.active
    meta.title = "report"
    for row in metadata(report, as_of):
        meta.append(list(row))
    for sec in report.sections:
        ws = wb.create_sheet(sec.name[:31])
        with_reason = [c for c in sec.columns if any(r.cells.get(c) and r.cells[c].reason for r in sec.rows)]
        ws.append(["row", *sec.columns, *(f"{c} reason" for c in with_reason)])
        for r in sec.rows:
            cells = [r.cells.get(c) for c in sec.columns]
            values = [SUPPRESSED if c and c.suppressed else (c.value if c else None) for c in cells]
            reasons = [r.cells[c].reason if c in r.cells else None for c in with_reason]
            ws.append([r.label, *values, *reasons])
    return wb


def write_xlsx(report: Report, path: Path, as_of: datetime | None = None) -> None:
    wb = workbook(report, as_of)
    atomic_write(path, lambda tmp: wb.save(tmp))


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Write through a temporary file next to `path`, then rename; on any failure remove it."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: directory {parent} does not exist")
    try:
        fd, name = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)
