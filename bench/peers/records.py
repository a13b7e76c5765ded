"""The records every contestant reads (bench_peers, tests/integration/hour_accounting/test_peers.py):
one programme, per student an enrolment and an agreed placement, then time entries; every 11th entry
is corrected (revision 2), 4 of every 7 entries have their latest revision confirmed, and every 20th
record is delivered twice (the same record again, as at-least-once delivery does)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from werkplek_events import Event, KafkaRecord, ProgrammeRegistered, encode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.unit.hour_accounting.builders import (  # noqa: E402
    agreed,
    confirmed,
    corrected,
    enrolled,
    logged,
    programme,
)

SOURCE = "/bench/peers"


def programme_of(tag: str) -> ProgrammeRegistered:
    return programme(f"peers-prog-{tag}")


def catalogue_of(prog: ProgrammeRegistered) -> dict[str, int]:
    """The programme catalogue the peers are given at start: programme id -> study load minutes."""
    return {prog.programme_id: prog.ects * prog.hours_per_ects * 60}


def students_of(tag: str, n: int) -> list[str]:
    return [f"peers-{tag}-{i}" for i in range(n)]


def events(prog: ProgrammeRegistered, students: list[str], entries: int) -> Iterator[Event]:
    """In the order they are produced: setup, entries, corrections, redeliveries, confirmations."""
    pid = prog.programme_id
    for s in students:
        yield enrolled(s, pid)
        yield agreed(s, programme_id=pid)
    latest: list[Any] = []
    for j in range(entries):
        for s in students:
            e = logged(s, 30 + j % 50)
            latest.append(e)
            yield e
    for k, e in enumerate(latest):
        if k % 11 == 3:
            latest[k] = corrected(e, e.duration_minutes + 15)
            yield latest[k]
    for k, e in enumerate(latest):
        if k % 7 in (0, 2, 3, 5):
            yield confirmed(e)


def delivered(prog: ProgrammeRegistered, students: list[str], entries: int) -> list[Event]:
    """The events as delivered: every 20th once more (the same record again, a redelivery)."""
    out = []
    for k, e in enumerate(events(prog, students, entries)):
        out.append(e)
        if k % 20 == 7:
            out.append(e)
    return out


def records(prog: ProgrammeRegistered, students: list[str], entries: int) -> list[KafkaRecord]:
    return [encode(e, source=SOURCE) for e in delivered(prog, students, entries)]
