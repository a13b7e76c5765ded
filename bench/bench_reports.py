"""Funding reports benchmark (`make bench`; not a test). Pure: no broker, no database.

(a) fold the input events of one programme of BENCH_STUDENTS (5,000) students into a cohort
    (enrolment, credits, placement, signatures, a confirmation, an assessment, progress, share)
                                                                   -> fold_events_per_s
(b) recompute its publication set (the programme report, its roll-up, the trajectory rows), the
    worker's `compute_set`, BENCH_REPEAT (5) times                 -> set_seconds_median / _max
    and of that, the suppression (primary, complementary, audit)   -> suppress_seconds_median
(c) an institution of BENCH_PROGRAMMES (10) programmes sharing the same number of students
                                                                   -> institution_set_seconds_median
BENCH_COLLECTOR: "worker" (default) runs under the worker's collector settings (`tune_gc`), "default"
under CPython's. CPU time of this process, wall time, and what else ran (load average, other processes' CPU) are
written next to each figure: on a shared 2-core machine the wall time depends on the others.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from werkplek_common.runtime.collector import tune_gc  # noqa: E402
from werkplek_events import Event  # noqa: E402
from werkplek_funding_reports.compute import compute_set  # noqa: E402
from werkplek_funding_reports.domain.privacy import suppress  # noqa: E402
from werkplek_funding_reports.domain.publication import set_keys  # noqa: E402
from werkplek_funding_reports.domain.report import build_draft  # noqa: E402
from werkplek_funding_reports.domain.state import Cohort  # noqa: E402
from werkplek_funding_reports.domain.views import entries_for, views_for  # noqa: E402

from tests.unit.funding_reports.story import Story  # noqa: E402

STUDENTS = int(os.environ.get("BENCH_STUDENTS", "5000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "5"))
PROGRAMMES = int(os.environ.get("BENCH_PROGRAMMES", "10"))
COLLECTOR = os.environ.get("BENCH_COLLECTOR", "worker")  # "worker": the worker's tune_gc; "default": CPython's
STATUSES = ["regular", "working_student", "side_entrant", "other"]


def programme_events(story: Story, students: int) -> list[Event]:
    events: list[Event] = [story.programme()]
    for n in range(students):
        sid = f"{story.prog}-{n}"
        if n % 3 == 0:
            events += story.dual_trajectory(sid, confirmed=10_000 + 17 * n)
        else:
            events += [story.enrol(sid, status=STATUSES[n % 4], age="over_25" if n % 6 == 1 else "21_to_25"),
                       story.share(sid, 13 * n % 90_000)]
        events.append(story.credits(sid, 60, 30 + n % 31))
    return events


def others() -> dict[str, float]:
    """Load and the CPU share of other processes over one second."""
    me = os.getpid()
    procs = [p for p in psutil.process_iter() if p.pid != me]
    for p in procs:
        try:
            p.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(1)
    busy = 0.0
    for p in procs:
        try:
            busy += p.cpu_percent(None)
        except psutil.Error:
            pass
    return {"loadavg_1m": os.getloadavg()[0], "other_processes_cpu_percent": round(busy, 1)}


def timed(fn: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def fold(events: list[Event]) -> Cohort:
    cohort = Cohort()
    for e in events:
        cohort.apply(e)
    return cohort


def main() -> None:
    if COLLECTOR == "worker":
        tune_gc()  # as the worker does at its start (since 2026-12-02)
    result: dict[str, Any] = {"students": STUDENTS, "repeat": REPEAT, "before": others(), "collector": COLLECTOR}
    story = Story(inst=f"inst-{uuid.uuid4().hex[:6]}")
    events = programme_events(story, STUDENTS)
    wall, cpu, cohort = timed(lambda: fold(events))
    result.update(events=len(events), fold_seconds=round(wall, 3), fold_cpu_seconds=round(cpu, 3),
                  fold_events_per_s=round(len(events) / wall))
    key = (story.inst, story.year)
    runs = [timed(lambda: compute_set(cohort, key, b"bench", 5)) for _ in range(REPEAT)]
    result.update(set_seconds_median=round(statistics.median(w for w, _, _ in runs), 3),
                  set_seconds_max=round(max(w for w, _, _ in runs), 3),
                  set_cpu_seconds_median=round(statistics.median(c for _, c, _ in runs), 3))
    keys = set_keys(cohort, key)
    drafts = {k: build_draft(views_for(cohort, k, str), entries_for(cohort, k), k.academic_year) for k in keys}
    sup = [timed(lambda: suppress(drafts, 5)) for _ in range(REPEAT)]
    result["suppress_seconds_median"] = round(statistics.median(w for w, _, _ in sup), 3)
    hidden = sup[0][2]
    result["cells_hidden"] = {k.report_id.split(":")[0]: len(v) for k, v in hidden.items()}

    inst: list[Event] = []
    for _ in range(PROGRAMMES):
        inst += programme_events(Story(inst=story.inst + "-many"), STUDENTS // PROGRAMMES)
    many = fold(inst)
    runs = [timed(lambda: compute_set(many, (story.inst + "-many", story.year), b"bench", 5)) for _ in range(REPEAT)]
    result.update(institution_programmes=PROGRAMMES,
                  institution_set_seconds_median=round(statistics.median(w for w, _, _ in runs), 3),
                  institution_set_cpu_seconds_median=round(statistics.median(c for _, c, _ in runs), 3))
    result["after"] = others()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "reports.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
