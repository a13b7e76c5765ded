-- Accountability for staff reads of personal data (docs/adr/0074): who read what about whom, when.
-- Kept for WERKPLEK_PERSONAL_READS_RETENTION_DAYS (two years by default), then deleted by the worker.
CREATE TABLE pl_personal_reads (
  id             bigserial   PRIMARY KEY,
  at             timestamptz NOT NULL DEFAULT now(),
  reader         text        NOT NULL,   -- the staff member's `sub`
  role           text        NOT NULL,
  institution_id text,
  what           text        NOT NULL,   -- trajectory_revealed / mentor_contact
  subject_id     text        NOT NULL    -- the student or mentor read about
);
CREATE INDEX pl_personal_reads_subject ON pl_personal_reads (subject_id, at);
CREATE INDEX pl_personal_reads_at ON pl_personal_reads (at);
