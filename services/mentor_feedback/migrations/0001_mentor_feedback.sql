-- Mentor feedback: sending sources and their secrets, the reference data it consumes (mentors,
-- placements, time entries), the decisions and assessments it accepted, webhook idempotency,
-- confirmation requests (links and outbound webhooks, every attempt) and the progress read model.

CREATE TABLE mf_sources (
  source_id            text PRIMARY KEY,
  endpoint_url         text,                 -- the tool's inbound URL for outbound webhooks, if any
  endpoint_disabled_at timestamptz,          -- set when the endpoint answered 410 Gone
  created_at           timestamptz NOT NULL DEFAULT now()
);

-- Several secrets per source so a key can be rotated: any of them verifies, all of them sign.
CREATE TABLE mf_source_secrets (
  source_id  text NOT NULL REFERENCES mf_sources ON DELETE CASCADE,
  secret     text NOT NULL CHECK (secret LIKE 'whsec\_%'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, secret)
);

-- Consumed events already applied (the consumers are idempotent by event_id).
CREATE TABLE mf_applied_events (
  event_id   uuid PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mf_mentors (
  mentor_id      text PRIMARY KEY,
  workplace_id   text NOT NULL,
  institution_id text NOT NULL,
  trained        boolean NOT NULL,
  webhook_source text,
  registered_at  timestamptz NOT NULL
);
CREATE INDEX mf_mentors_source ON mf_mentors (webhook_source);

CREATE TABLE mf_placements (
  placement_id   text PRIMARY KEY,
  student_id     text NOT NULL,
  mentor_id      text NOT NULL,
  institution_id text,                      -- from PlacementAgreed (an amendment may arrive first)
  outcomes       jsonb NOT NULL,            -- [{outcome_id, kind}] of the learning agreement
  terms_at       timestamptz NOT NULL,      -- occurred_at of the event that set the current terms
  ended_on       date
);
CREATE INDEX mf_placements_student ON mf_placements (student_id);

CREATE TABLE mf_entries (
  entry_id         uuid PRIMARY KEY,
  student_id       text NOT NULL,
  placement_id     text NOT NULL,
  revision         int NOT NULL,
  work_date        date,                     -- NULL until the logged facts arrive (a withdrawal can
  minutes          int,                      -- overtake them: it is on another topic)
  activity         text,
  description      text NOT NULL DEFAULT '',
  withdrawn        boolean NOT NULL DEFAULT false,
  logged_at        timestamptz NOT NULL,     -- occurred_at of the latest revision
  decision         text CHECK (decision IN ('confirmed', 'rejected')),
  decided_revision int,                      -- the decision holds for this revision only
  decided_at       timestamptz,
  requested_at     timestamptz,              -- last time a confirmation request included it
  request_id       text
);
CREATE INDEX mf_entries_placement ON mf_entries (placement_id);
CREATE INDEX mf_entries_pending ON mf_entries (logged_at) WHERE NOT withdrawn;

-- Every decision ever taken (audit trail; mf_entries keeps the current one).
CREATE TABLE mf_decision_log (
  event_id   uuid PRIMARY KEY,
  entry_id   uuid NOT NULL,
  revision   int NOT NULL,
  action     text NOT NULL CHECK (action IN ('confirmed', 'rejected', 'reversed')),
  mentor_id  text NOT NULL,
  channel    text NOT NULL,
  reason     text,
  comment    text NOT NULL DEFAULT '',
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mf_decision_log_entry ON mf_decision_log (entry_id);

CREATE TABLE mf_assessments (
  assessment_id text PRIMARY KEY,
  student_id    text NOT NULL,
  placement_id  text NOT NULL,
  mentor_id     text NOT NULL,
  moment        text NOT NULL,
  assessed_on   date NOT NULL,
  outcomes      jsonb NOT NULL,
  event_id      uuid NOT NULL,
  recorded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mf_signatures (
  placement_id text NOT NULL,
  party        text NOT NULL,
  signed_by    text NOT NULL,
  signed_at    timestamptz NOT NULL,
  event_id     uuid NOT NULL,
  PRIMARY KEY (placement_id, party)
);

-- Webhook idempotency: the first accepted result per (source, webhook-id), replayed on a resend.
CREATE TABLE mf_webhook_messages (
  source_id   text NOT NULL,
  webhook_id  text NOT NULL,
  kind        text NOT NULL,
  status      int NOT NULL,
  response    jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source_id, webhook_id)
);

-- One confirmation request per batch of a mentor's pending entries.
CREATE TABLE mf_confirmation_requests (
  request_id text PRIMARY KEY,
  mentor_id  text NOT NULL,
  channel    text NOT NULL CHECK (channel IN ('link', 'webhook')),
  entry_ids  uuid[] NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,                   -- links are single-use
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mf_outbound_deliveries (
  delivery_id     text PRIMARY KEY,         -- also the outbound webhook-id
  source_id       text NOT NULL REFERENCES mf_sources,
  request_id      text NOT NULL,
  payload         bytea NOT NULL,           -- the exact bytes signed and sent on every attempt
  state           text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'failed', 'disabled')),
  attempts        int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mf_outbound_due ON mf_outbound_deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE mf_outbound_attempts (
  id              bigserial PRIMARY KEY,
  delivery_id     text NOT NULL REFERENCES mf_outbound_deliveries,
  attempt         int NOT NULL,
  attempted_at    timestamptz NOT NULL,
  status_code     int,
  error           text,
  duration_ms     int NOT NULL,
  result          text NOT NULL,            -- delivered / retry / failed / disabled
  next_attempt_at timestamptz
);
CREATE INDEX mf_outbound_attempts_delivery ON mf_outbound_attempts (delivery_id, attempt);

CREATE TABLE outcome_progress_read_model (
  student_id text PRIMARY KEY,
  version    int NOT NULL,
  body       jsonb NOT NULL,
  event_id   uuid NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
