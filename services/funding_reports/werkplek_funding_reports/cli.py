"""`reports`: the funding staff's command line (python -m werkplek_funding_reports.cli).

Reads the report topics without a consumer group (nothing is committed); progress goes to stderr.
Exit codes: 0 done, 2 bad usage, 3 no such report/figure, 4 cannot write the file, 5 broker unreachable."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from werkplek_common.kafka import new_producer, publish
from werkplek_events import FundingReportPublished, FundingReportSnapshotted
from werkplek_events.limits import SNAPSHOT_LABEL_MAX, SNAPSHOT_LABEL_PATTERN

from .book import ReportBook, load_book
from .config import Settings
from .domain.keys import ReportKey
from .export import ExportError, render_text, write_csv, write_xlsx
from .lineage import explain, replay
from .snapshots import on_demand_label, snapshot_id, to_snapshot

app = typer.Typer(name="reports", add_completion=False, no_args_is_help=True, help=__doc__)
NOT_FOUND, CANNOT_WRITE, NO_BROKER = 3, 4, 5
YEAR = r"^20[0-9]{2}-20[0-9]{2}$"
Programme = Annotated[str | None, typer.Option(help="programme id (or use --institution for the roll-up)")]
Institution = Annotated[str | None, typer.Option(help="institution id: its roll-up over all programmes")]


def _year(value: str) -> str:
    if not re.fullmatch(YEAR, value):
        raise typer.BadParameter(f"{value!r} is not an academic year like 2026-2027")
    return value


Year = Annotated[str, typer.Option(help="academic year, e.g. 2026-2027", callback=_year)]
AsOf = Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="newest snapshot on or before this date")]


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def progress(n: int) -> None:
    typer.echo(f"\rreading… {n} records", err=True, nl=False)


def read_book(cfg: Settings) -> ReportBook:
    typer.echo(f"reading report topics from {cfg.kafka_bootstrap}", err=True)
    try:
        book = asyncio.run(load_book(cfg.kafka_bootstrap, progress=progress))
    except Exception as exc:  # an unreachable broker or missing topics: one clear line, not a traceback
        fail(f"cannot read the report topics at {cfg.kafka_bootstrap}: {exc}", NO_BROKER)
    typer.echo(f"\r{len(book.latest)} reports, {len(book.snapshots)} snapshots", err=True)
    return book


def report_id(programme: str | None, institution: str | None, year: str) -> str:
    if bool(programme) == bool(institution):
        fail("give exactly one of --programme or --institution", 2)
    return ReportKey(institution or "", programme, year).report_id


def find(book: ReportBook, rid: str, as_of: datetime | None) -> FundingReportPublished | FundingReportSnapshotted:
    report = book.latest.get(rid)
    if report is None:
        prefix = rid.rsplit(":", 1)[0] + ":"
        years = sorted(r.rsplit(":", 1)[1] for r in book.latest if r.startswith(prefix))
        known = f"; it has reports for {', '.join(years)}" if years else "; no report names it at all"
        fail(f"no funding report {rid!r}{known}", NOT_FOUND)
    if as_of is None:
        return report
    snap = book.snapshot_as_of(rid, as_of.date())
    if snap is None:
        fail(f"no snapshot of {rid!r} on or before {as_of.date()}", NOT_FOUND)
    return snap


@app.command("list")
def list_reports() -> None:
    """Every report with its latest version."""
    book = read_book(Settings())
    for rid, r in sorted(book.latest.items()):
        snaps = sum(1 for s in book.snapshots.values() if s.report_id == rid)
        typer.echo(f"{rid}\t{r.scope.value}\tv{r.version}\t{r.generated_at.isoformat()}\t{snaps} snapshots")


@app.command()
def show(year: Year, programme: Programme = None, institution: Institution = None, as_of: AsOf = None) -> None:
    """Print one report as text tables."""
    rid = report_id(programme, institution, year)
    typer.echo(render_text(find(read_book(Settings()), rid, as_of)), nl=False)


@app.command()
def export(year: Year, out: Annotated[Path, typer.Option(help="file to write")],
           fmt: Annotated[Format, typer.Option("--format")] = Format.CSV, programme: Programme = None,
           institution: Institution = None, as_of: AsOf = None,
           delimiter: Annotated[str, typer.Option(help="CSV delimiter (';' for Excel set to Dutch)")] = ",") -> None:
    """Write one report to CSV (UTF-8 with BOM) or XLSX (one sheet per section)."""
    rid = report_id(programme, institution, year)
    report = find(read_book(Settings()), rid, as_of)
    try:
        write_csv(report, out, delimiter) if fmt == Format.CSV else write_xlsx(report, out)
    except ExportError as exc:
        fail(str(exc), CANNOT_WRITE)
    typer.echo(f"wrote {out} ({report.report_id} v{report.version})", err=True)


@app.command()
def snapshot(year: Year, programme: Programme = None, institution: Institution = None,
             label: Annotated[str | None, typer.Option(help="snapshot label (default: UTC time)")] = None) -> None:
    """Publish an immutable "as of today" snapshot of a report's latest version."""
    if label is not None and not (len(label) <= SNAPSHOT_LABEL_MAX and re.fullmatch(SNAPSHOT_LABEL_PATTERN, label)):
        fail(f"a label is 1 to {SNAPSHOT_LABEL_MAX} characters of A-Z a-z 0-9 _ . - (so the snapshot id fits)", 2)
    cfg = Settings()
    book = read_book(cfg)
    report = find(book, report_id(programme, institution, year), None)
    now = datetime.now(UTC)
    sid = snapshot_id(report.report_id, label or on_demand_label(now))
    if sid in book.snapshots:
        fail(f"snapshot {sid!r} exists and is never changed; choose another label", 1)
    snap = to_snapshot(report, sid, now.date())  # type: ignore[arg-type]
    asyncio.run(_publish(cfg, snap))
    typer.echo(sid)


async def _publish(cfg: Settings, snap: FundingReportSnapshotted) -> None:
    producer = new_producer(cfg.kafka_bootstrap, "werkplek-reports-cli")
    await producer.start()
    try:
        await publish(producer, [snap], source="/werkplek/funding-reports/cli")
    finally:
        await producer.stop()


@app.command()
def lineage(year: Year, section: str, row: str, column: str, programme: Programme = None,
            institution: Institution = None) -> None:
    """Explain one figure: the pseudonymous students, confirmed entries and assessments behind it."""
    cfg = Settings()
    rid = report_id(programme, institution, year)
    key = ReportKey(institution or "", programme, year)
    typer.echo(f"replaying input topics from {cfg.kafka_bootstrap}", err=True)
    cohort = asyncio.run(replay(cfg.kafka_bootstrap, progress))
    typer.echo("", err=True)
    try:
        answer = explain(cohort, key, (section, row, column), cfg.pseudonym_key, cfg.reports_min_count)
    except KeyError as exc:
        fail(f"no figure {section}/{row}/{column} in {rid}: {exc}", NOT_FOUND)
    json.dump(answer, sys.stdout, indent=2)
    typer.echo("")


if __name__ == "__main__":
    app()
