"""How long mentor feedback keeps what only bridges a short time (docs/privacy.md, "Retention")."""

from __future__ import annotations

from werkplek_common.retention import Rule

from .config import MentorFeedbackSettings

_FINISHED = "state <> 'pending'"


def rules(cfg: MentorFeedbackSettings) -> list[Rule]:
    replay, links = cfg.mentor_webhook_replay_retention_days, cfg.mentor_link_retention_days
    return [
        # a resent webhook-id older than this is refused by its timestamp anyway (tolerance: minutes)
        Rule("mf_webhook_messages", "received_at", replay),
        # the signed bytes of a finished outbound webhook (they repeat entries' descriptions)
        Rule("mf_outbound_deliveries", "created_at", replay, _FINISHED, before=(
            "DELETE FROM mf_outbound_attempts a USING mf_outbound_deliveries d WHERE a.delivery_id = d.delivery_id"
            " AND d.state <> 'pending' AND d.created_at < now() - make_interval(days => $1)",)),
        Rule("mf_confirmation_requests", "expires_at", links),
        Rule("mf_link_requests", "requested_at", links, "handled_at IS NOT NULL"),
    ]
