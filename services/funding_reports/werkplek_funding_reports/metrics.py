"""Metrics of funding reports (no per-student or per-report labels; scope is programme/institution)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

REPORTS_PUBLISHED = Counter("werkplek_reports_published_total", "Funding report versions published", ["scope"])
SNAPSHOTS_PUBLISHED = Counter("werkplek_report_snapshots_total", "Immutable report snapshots published", ["trigger"])
INPUT_TO_REPORT = Histogram(
    "werkplek_report_input_lag_seconds",
    "From the newest input event a report version reflects to its commit",
    buckets=(0.1, 0.25, 0.5, 1, 1.5, 2, 3, 5, 10, 30, 60, 300),
)
COMPUTE_SECONDS = Histogram(
    "werkplek_report_compute_duration_seconds",
    "Time to compute one publication set (an institution's reports of one year, suppressed together)",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUARANTINES = Counter("werkplek_report_quarantines_total",
                      "Reports set aside because they could not be computed or published (sent to the report"
                      " topic's DLQ), by error type", ["error"])
QUARANTINED = Gauge("werkplek_reports_quarantined", "Reports currently quarantined (not published) in this process")

# Known label values start at 0, so a dashboard shows "none yet" rather than "no data".
SNAPSHOTS_PUBLISHED.labels("schedule")
QUARANTINES.labels("ValidationError")  # the one kind seen so far: an own report that does not fit the contract
