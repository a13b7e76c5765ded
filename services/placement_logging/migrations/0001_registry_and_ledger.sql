-- Placement logging: the registry (current state per object, plus placement revisions) and the
-- students' time ledger. Tables carry the pl_ prefix: the database is shared by every service.

-- Every registry table: id, the owning institution (tenant boundary), the terms as last stored (jsonb),
-- a version (also the ETag) and the columns other queries need.
CREATE TABLE pl_programme (
  id              text PRIMARY KEY,
  institution_id  text        NOT NULL,
  body            jsonb       NOT NULL,
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_programme_institution ON pl_programme (institution_id, id);

CREATE TABLE pl_enrolment (
  id              text PRIMARY KEY,            -- student_id/academic_year
  institution_id  text        NOT NULL,
  student_id      text        NOT NULL,
  academic_year   text        NOT NULL,
  programme_id    text        NOT NULL,
  phase           int         NOT NULL,
  body            jsonb       NOT NULL,
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_enrolment_institution ON pl_enrolment (institution_id, student_id);

CREATE TABLE pl_workplace (
  id              text PRIMARY KEY,
  institution_id  text        NOT NULL,
  body            jsonb       NOT NULL,
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_workplace_institution ON pl_workplace (institution_id, id);

CREATE TABLE pl_mentor (
  id              text PRIMARY KEY,
  institution_id  text        NOT NULL,
  workplace_id    text        NOT NULL,
  body            jsonb       NOT NULL,
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_mentor_institution ON pl_mentor (institution_id, id);

-- Current terms of each placement (a current view); every agreed/amended/ended version is kept in
-- pl_placement_revision, so history is never lost.
CREATE TABLE pl_placement (
  id              text PRIMARY KEY,
  institution_id  text        NOT NULL,
  student_id      text        NOT NULL,
  start_date      date        NOT NULL,
  end_date        date        NOT NULL,
  ended_on        date,
  outcome_ids     text[]      NOT NULL DEFAULT '{}',  -- of the learning agreement, for entry validation
  body            jsonb       NOT NULL,
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_placement_student ON pl_placement (student_id, id);
CREATE INDEX pl_placement_institution ON pl_placement (institution_id, id);

CREATE TABLE pl_placement_revision (
  placement_id    text        NOT NULL,
  version         int         NOT NULL,
  kind            text        NOT NULL,        -- agreed / amended / ended
  body            jsonb       NOT NULL,
  event_id        uuid        NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (placement_id, version)
);

-- The ledger: append-only facts. A correction or withdrawal is a new revision, never an update.
CREATE TABLE pl_entry_revision (
  entry_id          uuid        NOT NULL,
  revision          int         NOT NULL,
  kind              text        NOT NULL,      -- logged / corrected / withdrawn
  student_id        text        NOT NULL,
  placement_id      text        NOT NULL,
  work_date         date        NOT NULL,
  start_time        time,
  end_time          time,
  duration_minutes  int         NOT NULL,
  activity          text        NOT NULL,
  outcome_ids       text[]      NOT NULL,
  description       text        NOT NULL,
  event_id          uuid        NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (entry_id, revision)
);

-- Current view of each entry (latest revision + the mentor's decision), for validation and reads.
-- `version` rises on every change of the representation and is the entry's ETag.
CREATE TABLE pl_entry (
  entry_id          uuid PRIMARY KEY,
  student_id        text        NOT NULL,
  placement_id      text        NOT NULL,
  revision          int         NOT NULL,
  version           int         NOT NULL,
  work_date         date        NOT NULL,
  start_time        time,
  end_time          time,
  duration_minutes  int         NOT NULL,
  activity          text        NOT NULL,
  outcome_ids       text[]      NOT NULL,
  description       text        NOT NULL,
  withdrawn         boolean     NOT NULL DEFAULT false,
  decision          text        NOT NULL DEFAULT 'pending',  -- pending / confirmed / rejected
  logged_at         timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_entry_student_day ON pl_entry (student_id, work_date, entry_id);

-- Mentor decisions learned from feedback events; event_id makes applying them idempotent.
CREATE TABLE pl_entry_decision (
  event_id        uuid PRIMARY KEY,
  entry_id        uuid        NOT NULL,
  kind            text        NOT NULL,        -- confirmed / rejected / reversed
  entry_revision  int,
  mentor_id       text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  applied_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_entry_decision_entry ON pl_entry_decision (entry_id);

-- Idempotency-Key store: the completed response of a POST, per principal and key.
CREATE TABLE pl_idempotency (
  principal       text        NOT NULL,
  key             text        NOT NULL,
  fingerprint     bytea       NOT NULL,
  status_code     int         NOT NULL,
  headers         jsonb       NOT NULL,
  body            bytea       NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal, key)
);
CREATE INDEX pl_idempotency_created ON pl_idempotency (created_at);
