"""The garbage collector's settings for workers whose state is many small objects (hour accounting's
cached students, funding reports' cohorts).

Those objects die by reference counting, never in cycles. With CPython's default thresholds every
batch's new objects soon trigger full collections that scan all of them: in hour accounting that was
the largest latency spike (about 100 ms per 1M objects, several times a second at 1,000 students/s);
in funding reports it was up to 40 % of the CPU of recomputing a 5,000-student publication set
(docs/perf/funding-reports.md). What exists at start (modules, schemas, the catalogue) is frozen out of
the collector, young collections run less often, and full ones rarely; short-lived cycles are still
collected young. Called once, after the worker is built and before it runs."""

from __future__ import annotations

import gc

GC_YOUNG = 200_000  # net allocations between young collections (CPython's default: 700)


def tune_gc(young: int = GC_YOUNG) -> None:
    gc.freeze()
    gc.set_threshold(young, 20, 100)
