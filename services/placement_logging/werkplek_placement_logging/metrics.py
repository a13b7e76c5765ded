"""Metrics of placement logging (no per-student label, ever)."""

from __future__ import annotations

from prometheus_client import Counter

ENTRIES_ACCEPTED = Counter("werkplek_time_entries_accepted_total", "Time entries stored, by kind",
                           ["kind"])  # logged / duplicate / corrected / withdrawn
ENTRIES_REFUSED = Counter("werkplek_time_entries_refused_total", "Time entries refused, by reason", ["reason"])
REGISTRY_CHANGES = Counter("werkplek_registry_changes_total", "Registry objects stored, by kind", ["kind"])
DECISIONS_APPLIED = Counter("werkplek_entry_decisions_applied_total", "Mentor decisions applied to entries",
                            ["kind", "effect"])  # effect: applied / stale / duplicate / unknown_entry
IDEMPOTENT_REPLAYS = Counter("werkplek_idempotent_replays_total", "POSTs answered from the Idempotency-Key store",
                             ["route"])
VIEWS_APPLIED = Counter("werkplek_student_views_applied_total", "Share and outcome-progress events stored in "
                        "placement logging's read models", ["effect"])  # applied / stale
ERASURES = Counter("werkplek_erasures_total", "Erasure requests of data subjects, by kind and outcome",
                   ["kind", "outcome"])  # kind: student / mentor; outcome: requested / repeated / completed /
# removal_added (full removal added to an erasure of a student that kept the figures)
for _kind in ("student", "mentor"):  # known label values exist from the start (dashboards, alerts)
    for _outcome in ("requested", "repeated", "completed", "removal_added"):
        ERASURES.labels(_kind, _outcome)
