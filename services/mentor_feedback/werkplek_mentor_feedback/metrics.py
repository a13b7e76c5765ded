"""Metrics of mentor feedback. Labels are kinds and results, never a mentor, student or source id."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Counter, Gauge, Histogram
from werkplek_events import AssessmentRecorded, Event, TimeEntryConfirmed, TimeEntryRejected
from werkplek_events.vocabulary import ConfirmationChannel

WEBHOOKS = Counter("werkplek_mentor_webhooks_received_total",
                   "Inbound mentor webhooks by payload kind and result (accepted, bad_signature, "
                   "stale_timestamp, replay, forbidden, malformed, unknown_reference, conflict)", ["kind", "result"])
WEBHOOK_SECONDS = Histogram("werkplek_mentor_webhook_duration_seconds", "Time to verify and apply one webhook",
                            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
DECISIONS = Counter("werkplek_mentor_entry_decisions_total", "Time-entry decisions applied, by decision and channel",
                    ["decision", "channel"])
ASSESSMENTS = Counter("werkplek_mentor_assessments_recorded_total", "Assessments recorded, by moment", ["moment"])
ASSESSED_OUTCOMES = Counter("werkplek_mentor_outcomes_assessed_total", "Outcome assessments recorded, by level",
                            ["level"])
CONFIRMATION_REQUESTS = Counter("werkplek_mentor_confirmation_requests_total",
                                "Confirmation requests formed, by channel", ["channel"])
LINK_VISITS = Counter("werkplek_mentor_link_requests_total", "Confirmation-link requests by result "
                      "(shown, applied, used, expired, tampered, invalid_form)", ["result"])
OUTBOUND = Counter("werkplek_mentor_outbound_deliveries_total",
                   "Outbound webhook attempts by result (delivered, retry, failed, disabled)", ["result"])
PROGRESS_UPDATES = Counter("werkplek_outcome_progress_updates_total", "Outcome-progress versions emitted")
MAILS = Counter("werkplek_mentor_mails_total", "Mail send attempts by kind (confirmation_request, reminder, "
                "fresh_link, digest) and result (sent, retry, bounced, failed, undeliverable, expired)",
                ["kind", "result"])
MAILS_QUEUED = Gauge("werkplek_mentor_mails_queued", "Mails by state right now (pending, undeliverable, bounced, "
                     "failed: the last two over the past 7 days)", ["state"])
REMINDERS = Counter("werkplek_mentor_reminders_total", "Reminders formed for mentors whose hours wait for days")
DIGESTS = Counter("werkplek_mentor_digests_total", "Coordinators' daily digests formed, by outcome "
                  "(mailed, empty)", ["outcome"])
FRESH_LINKS = Counter("werkplek_mentor_fresh_links_total", "Fresh links asked for on the form, by outcome "
                      "(requested, sent, unknown_address, too_soon)", ["outcome"])
SOURCE_CHANGES = Counter("werkplek_mentor_source_changes_total", "Tool onboarding actions through the API, by "
                         "action", ["action"])

# Known label values start at 0, so a dashboard shows "none yet" rather than "no data".
for _channel in ConfirmationChannel:
    CONFIRMATION_REQUESTS.labels(_channel.value)
for _result in ("delivered", "retry", "failed", "disabled"):
    OUTBOUND.labels(_result)
for _kind in ("confirmation_request", "reminder", "fresh_link", "digest"):
    for _result in ("sent", "retry", "bounced", "failed", "undeliverable", "expired"):
        MAILS.labels(_kind, _result)
for _state in ("pending", "undeliverable", "bounced", "failed"):
    MAILS_QUEUED.labels(_state)
for _outcome in ("mailed", "empty"):
    DIGESTS.labels(_outcome)
for _outcome in ("requested", "sent", "unknown_address", "too_soon"):
    FRESH_LINKS.labels(_outcome)
for _action in ("registered", "secret_rotated", "endpoint_set", "endpoint_cleared", "retired"):
    SOURCE_CHANGES.labels(_action)


def count_applied(events: Sequence[Event]) -> None:
    """Count what an accepted message (a webhook, a link page's submission) applied."""
    for event in events:
        if isinstance(event, TimeEntryConfirmed | TimeEntryRejected):
            DECISIONS.labels(event.DECISION.value, event.channel.value).inc()
        elif isinstance(event, AssessmentRecorded):
            ASSESSMENTS.labels(event.moment.value).inc()
            for o in event.outcomes:
                ASSESSED_OUTCOMES.labels(o.level.value).inc()
