"""`reports`: the funding staff's command line (python -m werkplek_funding_reports.cli).

Reads the report topics without a consumer group (nothing is committed); progress goes to stderr.
`--as-of` recomputes a report as it was at a past instant by replaying the input topics through the
worker's own code; `--snapshot` shows a stored snapshot. `--trajectories` reads the per-trajectory
rows (access-restricted topic). Exit codes: 0 done, 1 refused (a snapshot id is never reused),
2 bad usage, 3 no such report/figure, 4 cannot write the file, 5 broker unreachable."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from werkplek_common.kafka import new_producer, publish
from werkplek_events import FundingReportSnapshotted
from werkplek_events.limits import SNAPSHOT_LABEL_MAX, SNAPSHOT_LABEL_PATTERN

from .book import ReportBook, load_book
from .config import Settings
from .domain.keys import ReportKey
from .domain.state import Cohort
from .export import ExportError, Report, render_text, write_csv, write_xlsx
from .lineage import explain
from .replay import recompute, replay
from .snapshots import on_demand_label, snapshot_id, to_snapshot

app = typer.Typer(name="reports", add_completion=False, no_args_is_help=True, help=__doc__)
REFUSED, USAGE, NOT_FOUND, CANNOT_WRITE, NO_BROKER = 1, 2, 3, 4, 5
YEAR = r"^20[0-9]{2}-20[0-9]{2}$"
Programme = Annotated[str | None, typer.Option(help="programme id (or --institution / --pilot)")]
Institution = Annotated[str | None, typer.Option(help="institution id: its roll-up over all programmes")]
Pilot = Annotated[str | None, typer.Option(help="pilot (proeftuin) id: its evaluation report for the year")]


def _year(value: str) -> str:
    if not re.fullmatch(YEAR, value):
        raise typer.BadParameter(f"{value!r} is not an academic year like 2026-2027")
    return value


def parse_instant(value: str | None) -> datetime | None:
    """An ISO 8601 instant (an offset or Z; none means UTC); a date alone means the end of that day, UTC."""
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = datetime.strptime(value, "%Y-%m-%d").date()
            return datetime.combine(day + timedelta(days=1), time(0), UTC)
        instant = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date (2026-12-01) or an instant (2026-12-01T14:30:00Z)") from None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


Year = Annotated[str, typer.Option(help="academic year, e.g. 2026-2027", callback=_year)]
AsOf = Annotated[str | None, typer.Option(help="recompute the report as it was at this instant (or end of day)")]
Snapshot = Annotated[str | None, typer.Option(help="show this stored snapshot (see `list`) instead")]
Trajectories = Annotated[bool, typer.Option(help="the per-trajectory rows (restricted topic)")]


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


def fail(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def progress(n: int) -> None:
    typer.echo(f"\rreading… {n} records", err=True, nl=False)


def read_book(cfg: Settings, trajectories: bool = False) -> ReportBook:
    typer.echo(f"reading report topics from {cfg.kafka_bootstrap}", err=True)
    try:
        book = asyncio.run(load_book(cfg.kafka_bootstrap, progress=progress, trajectories=trajectories))
    except Exception as exc:  # an unreachable broker, missing topics or no right to read: one line, no traceback
        fail(f"cannot read the report topics at {cfg.kafka_bootstrap}: {exc}", NO_BROKER)
    typer.echo(f"\r{len(book.latest)} reports, {len(book.snapshots)} snapshots", err=True)
    return book


def report_key(programme: str | None, institution: str | None, pilot: str | None, year: str) -> ReportKey:
    if sum(x is not None for x in (programme, institution, pilot)) != 1:
        fail("give exactly one of --programme, --institution or --pilot", USAGE)
    return ReportKey(institution or "", programme, year, pilot)


def find(book: ReportBook, rid: str, snapshot: str | None, trajectories: bool = False) -> Report:
    shelf: dict[str, Report] = book.trajectories if trajectories else book.latest  # type: ignore[assignment]
    report = shelf.get(rid)
    if report is None:
        prefix = rid.rsplit(":", 1)[0] + ":"
        years = sorted(r.rsplit(":", 1)[1] for r in shelf if r.startswith(prefix))
        known = f"; it has reports for {', '.join(years)}" if years else "; no report names it at all"
        fail(f"no funding report {rid!r}{known}", NOT_FOUND)
    if snapshot is None:
        return report
    snap = book.snapshots.get(snapshot)
    if snap is None or snap.report_id != rid:
        fail(f"no snapshot {snapshot!r} of {rid!r}", NOT_FOUND)
    return snap


def as_of_report(cfg: Settings, book: ReportBook, key: ReportKey, instant: datetime, trajectories: bool) -> Report:
    """The report recomputed from the input topics as they were at `instant`."""
    typer.echo(f"replaying input topics up to {instant.isoformat()}", err=True)
    try:
        cohort, mark = asyncio.run(replay(cfg.kafka_bootstrap, instant, progress))
    except Exception as exc:
        fail(f"cannot replay the input topics at {cfg.kafka_bootstrap}: {exc}", NO_BROKER)
    typer.echo("", err=True)
    key = _resolved(cohort, key)
    version = book.version_at(key.report_id, instant) or 1
    report = recompute(cohort, mark, key, cfg.pseudonym_key, cfg.reports_min_count, instant, version, trajectories)
    if report is None:
        fail(f"no funding report {key.report_id!r} as of {instant.isoformat()}", NOT_FOUND)
    return report


def _resolved(cohort: Cohort, key: ReportKey) -> ReportKey:
    """The institution of a programme's or pilot's report, as the cohort knows it."""
    if key.pilot_id is not None and key.pilot_id in cohort.pilots:
        return ReportKey(cohort.pilots[key.pilot_id].institution_id, None, key.academic_year, key.pilot_id)
    if key.programme_id is not None:
        return ReportKey(cohort.institution_of(key.programme_id) or "", key.programme_id, key.academic_year)
    return key


def one_report(key: ReportKey, as_of: str | None, snapshot: str | None, trajectories: bool) -> Report:
    if as_of is not None and snapshot is not None:
        fail("give --as-of or --snapshot, not both", USAGE)
    instant = parse_instant(as_of)
    cfg = Settings()
    book = read_book(cfg, trajectories and instant is None)
    if instant is not None:
        return as_of_report(cfg, book, key, instant, trajectories)
    return find(book, key.report_id, snapshot, trajectories)


@app.command("list")
def list_reports() -> None:
    """Every report with its latest version, and every snapshot."""
    book = read_book(Settings())
    for rid, r in sorted(book.latest.items()):
        snaps = sorted(s.snapshot_id for s in book.snapshots.values() if s.report_id == rid)
        typer.echo(f"{rid}\t{r.scope.value}\tv{r.version}\t{r.generated_at.isoformat()}\t{len(snaps)} snapshots"
                   + "".join(f"\n  snapshot {s}" for s in snaps))


@app.command()
def show(year: Year, programme: Programme = None, institution: Institution = None, pilot: Pilot = None,
         as_of: AsOf = None, snapshot: Snapshot = None, trajectories: Trajectories = False) -> None:
    """Print one report as text tables."""
    key = report_key(programme, institution, pilot, year)
    typer.echo(render_text(one_report(key, as_of, snapshot, trajectories), parse_instant(as_of)), nl=False)


@app.command()
def export(year: Year, out: Annotated[Path, typer.Option(help="file to write")],
           fmt: Annotated[Format, typer.Option("--format")] = Format.CSV, programme: Programme = None,
           institution: Institution = None, pilot: Pilot = None, as_of: AsOf = None, snapshot: Snapshot = None,
           trajectories: Trajectories = False,
           delimiter: Annotated[str, typer.Option(help="CSV delimiter (';' for Excel set to Dutch)")] = ",") -> None:
    """Write one report to CSV (UTF-8 with BOM) or XLSX (one sheet per section)."""
    key = report_key(programme, institution, pilot, year)
    report = one_report(key, as_of, snapshot, trajectories)
    instant = parse_instant(as_of)
    try:
        write_csv(report, out, delimiter, instant) if fmt == Format.CSV else write_xlsx(report, out, instant)
    except ExportError as exc:
        fail(str(exc), CANNOT_WRITE)
    typer.echo(f"wrote {out} ({report.report_id} v{report.version})", err=True)


@app.command()
def snapshot(year: Year, programme: Programme = None, institution: Institution = None, pilot: Pilot = None,
             label: Annotated[str | None, typer.Option(help="snapshot label (default: UTC time)")] = None) -> None:
    """Publish an immutable "as of today" snapshot of a report's latest version."""
    if label is not None and not (len(label) <= SNAPSHOT_LABEL_MAX and re.fullmatch(SNAPSHOT_LABEL_PATTERN, label)):
        fail(f"a label is 1 to {SNAPSHOT_LABEL_MAX} characters of A-Z a-z 0-9 _ . - (so the snapshot id fits)", 2)
    cfg = Settings()
    book = read_book(cfg)
    report = find(book, report_key(programme, institution, pilot, year).report_id, None)
    now = datetime.now(UTC)
    sid = snapshot_id(report.report_id, label or on_demand_label(now))
    if sid in book.snapshots:
        fail(f"snapshot {sid!r} exists and is never changed; choose another label", REFUSED)
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
            institution: Institution = None, pilot: Pilot = None) -> None:
    """Explain one figure: the pseudonymous students, confirmed entries and assessments behind it."""
    cfg = Settings()
    key = report_key(programme, institution, pilot, year)
    typer.echo(f"replaying input topics from {cfg.kafka_bootstrap}", err=True)
    try:
        cohort, _ = asyncio.run(replay(cfg.kafka_bootstrap, None, progress))
    except Exception as exc:
        fail(f"cannot replay the input topics at {cfg.kafka_bootstrap}: {exc}", NO_BROKER)
    typer.echo("", err=True)
    try:
        answer = explain(cohort, _resolved(cohort, key), (section, row, column), cfg.pseudonym_key,
                         cfg.reports_min_count)
    except (KeyError, StopIteration) as exc:
        fail(f"no figure {section}/{row}/{column} in {key.report_id}: {exc}", NOT_FOUND)
    json.dump(answer, sys.stdout, indent=2)
    typer.echo("")


if __name__ == "__main__":
    app()
