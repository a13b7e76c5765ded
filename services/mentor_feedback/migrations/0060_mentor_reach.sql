-- Reaching mentors and coordinators (issue 14): contact data, the mail queue and its idempotency
-- record, early warnings (risk changes, digests, reminders), fresh-link requests, and tool onboarding
-- through the API (sources per institution, secrets that expire after a rotation, an audit trail).
-- (Numbered 0060, not 0002: several branches add migrations at once; numbers need not be dense.)

-- Contact data (personal data): the latest MentorContactChanged / InstitutionContactChanged per
-- subject. Erasing a person's contact is deleting their row; nothing else here holds an address
-- except mf_mails.sent_to (where a mail went, for the delivery record).
CREATE TABLE mf_contacts (
  kind        text        NOT NULL CHECK (kind IN ('mentor', 'institution')),
  subject_id  text        NOT NULL,
  email       text        NOT NULL,
  language    text        NOT NULL,
  changed_at  timestamptz NOT NULL,             -- occurred_at of the event: an older one never wins
  PRIMARY KEY (kind, subject_id)
);
CREATE INDEX mf_contacts_email ON mf_contacts (lower(email)) WHERE kind = 'mentor';
-- A removal leaves its time behind, so an older "set" delivered late does not resurrect the address.
CREATE TABLE mf_contact_removals (
  kind        text        NOT NULL,
  subject_id  text        NOT NULL,
  removed_at  timestamptz NOT NULL,
  PRIMARY KEY (kind, subject_id)
);

-- Events the notifier has handled: its idempotency record per event id.
CREATE TABLE mf_notifier_applied (
  event_id   uuid PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

-- Every mail, queued in the transaction that handled its cause. `mail_id` is derived from the cause
-- (event id, or institution + day), so a redelivered event queues nothing new; it is also the
-- Message-ID. The message is rendered when sent, from `params` (no personal data) and the current
-- contact, so a removed address is never mailed.
CREATE TABLE mf_mails (
  mail_id         uuid        PRIMARY KEY,
  kind            text        NOT NULL CHECK (kind IN ('confirmation_request', 'reminder', 'fresh_link', 'digest')),
  recipient_kind  text        NOT NULL CHECK (recipient_kind IN ('mentor', 'institution')),
  recipient_id    text        NOT NULL,         -- mentor id or institution id
  institution_id  text,                         -- whose coordinators see the delivery
  request_id      text,                         -- the confirmation request, for mentor mails
  params          jsonb       NOT NULL,
  state           text        NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'sent', 'failed', 'bounced', 'undeliverable', 'expired')),
  attempts        int         NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz,                  -- a link is not worth mailing once it has expired
  last_error      text,
  sent_to         text,                         -- personal data: the address it went to
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);
CREATE INDEX mf_mails_due ON mf_mails (next_attempt_at) WHERE state = 'pending';
CREATE INDEX mf_mails_waiting ON mf_mails (recipient_kind, recipient_id) WHERE state = 'undeliverable';
CREATE INDEX mf_mails_institution ON mf_mails (institution_id, created_at);

-- Risk status changes, for the coordinators' daily digest; programmes give the institution.
CREATE TABLE mf_risk_changes (
  event_id        uuid        PRIMARY KEY,
  student_id      text        NOT NULL,
  programme_id    text        NOT NULL,
  previous_status text        NOT NULL,
  status          text        NOT NULL,
  worsened        boolean     NOT NULL,
  real_share      numeric     NOT NULL,
  occurred_at     timestamptz NOT NULL
);
CREATE INDEX mf_risk_changes_at ON mf_risk_changes (occurred_at);
CREATE TABLE mf_programmes (
  programme_id   text PRIMARY KEY,
  institution_id text NOT NULL,
  name           text NOT NULL
);
-- One digest per institution and day, ever.
CREATE TABLE mf_digests (
  institution_id text        NOT NULL,
  day            date        NOT NULL,
  students       int         NOT NULL,
  mail_id        uuid,                          -- NULL: nobody crossed that day, no mail
  formed_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (institution_id, day)
);

-- When each mentor was last reminded of hours pending for days (at most one reminder a week).
CREATE TABLE mf_reminders (
  mentor_id     text        PRIMARY KEY,
  reminded_at   timestamptz NOT NULL,
  request_id    text        NOT NULL
);

-- Fresh links asked for on the magic-link form. A row is written for a known and an unknown address
-- alike (the answer must not tell them apart); the address itself is not stored.
CREATE TABLE mf_link_requests (
  id           bigserial   PRIMARY KEY,
  mentor_id    text,                          -- NULL: no mentor has that address
  requested_at timestamptz NOT NULL DEFAULT now(),
  handled_at   timestamptz
);
CREATE INDEX mf_link_requests_open ON mf_link_requests (id) WHERE handled_at IS NULL;

-- The link page also shows outcome titles and whether the workplace signed in the agreement itself.
ALTER TABLE mf_placements ADD COLUMN workplace_signed_at timestamptz;
ALTER TABLE mf_confirmation_requests ADD COLUMN purpose text NOT NULL DEFAULT 'batch';
ALTER TABLE mf_confirmation_requests ADD COLUMN first_opened_at timestamptz;

-- Tool onboarding through the API: a source belongs to an institution (NULL: registered by an
-- operator on the command line), can be retired; a secret has a public id and, after a rotation,
-- an end of its grace period.
ALTER TABLE mf_sources ADD COLUMN institution_id text;
ALTER TABLE mf_sources ADD COLUMN retired_at timestamptz;
ALTER TABLE mf_source_secrets ADD COLUMN secret_id text;
ALTER TABLE mf_source_secrets ADD COLUMN expires_at timestamptz;
UPDATE mf_source_secrets SET secret_id = substr(encode(sha256(convert_to(secret, 'UTF8')), 'hex'), 1, 12);
CREATE TABLE mf_source_audit (
  id             bigserial   PRIMARY KEY,
  source_id      text        NOT NULL,
  institution_id text,
  action         text        NOT NULL,          -- registered / secret_rotated / endpoint_set / endpoint_cleared / retired
  actor          text        NOT NULL,          -- the coordinator's subject, or "cli"
  detail         jsonb       NOT NULL DEFAULT '{}',
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mf_source_audit_source ON mf_source_audit (source_id, id);
