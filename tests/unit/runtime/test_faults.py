"""Quiet logs under faults: a repeated line is written once, then summarised once per interval with
its count; a recovery writes what is still counted and one line saying so; backoff grows to its cap."""

from __future__ import annotations

import logging

from werkplek_common.runtime.backoff import Backoff
from werkplek_common.runtime.faults import Outage, RepeatFilter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Lines(logging.Handler):
    def __init__(self, repeats: RepeatFilter) -> None:
        super().__init__()
        self.addFilter(repeats)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def setup(clock: Clock) -> tuple[logging.Logger, list[str], RepeatFilter]:
    repeats = RepeatFilter(interval=60, clock=clock)
    sink = Lines(repeats)
    log = logging.getLogger(f"test-faults-{id(sink)}")
    log.handlers[:] = [sink]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log, sink.lines, repeats


def test_a_repeated_line_is_written_once_then_summarised_per_interval():
    clock = Clock()
    log, lines, _ = setup(clock)
    for _ in range(500):
        log.error("Unable connect to node with id %s: %s", 1, "refused")
        clock.now += 0.1  # 50 s of it
    log.warning("another line")
    assert lines == ["Unable connect to node with id 1: refused", "another line"]
    clock.now += 15
    log.error("Unable connect to node with id %s: %s", 1, "refused")
    assert lines[-1] == "Unable connect to node with id 1: refused [repeated 499 times in the last 65 s]"
    log.info("info lines are never held back")
    log.info("info lines are never held back")
    assert lines[-2:] == ["info lines are never held back"] * 2


def test_an_outage_is_logged_once_and_its_recovery_once_with_the_counted_repeats():
    clock = Clock()
    log, lines, repeats = setup(clock)
    outage = Outage("kafka", log, clock)
    for _ in range(100):
        outage.failed(ConnectionError("refused"))
        log.error("Marking the coordinator dead (node %s)", 1)
        clock.now += 0.3
    assert lines == ["kafka unreachable; waiting for it (retrying with backoff)",
                     "Marking the coordinator dead (node 1)"]
    assert repeats.flush(log) == 1 and "repeated 99 more times" in lines[-1]
    outage.failed(ConnectionError("refused"))
    outage.ok()
    outage.ok()
    assert lines[-1] == "kafka reachable again after 30 s" and not outage.down
    assert sum("reachable again" in line for line in lines) == 1


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_a_reset():
    b = Backoff(first=0.5, cap=4, jitter=0)
    assert [b.delay() for _ in range(6)] == [0.5, 1, 2, 4, 4, 4]
    b.reset()
    assert b.delay() == 0.5
