-- Erasure of a data subject (docs/adr/0072): the audit log of requests. It holds no personal data:
-- the subject appears only as a hash (to recognise a second request), never its id; the counts of
-- what was removed; who asked (a coordinator's subject: staff, accountable) and when each step ended.
CREATE TABLE pl_erasure (
  erasure_id       uuid        PRIMARY KEY,
  institution_id   text        NOT NULL,
  subject_kind     text        NOT NULL CHECK (subject_kind IN ('student', 'mentor')),
  subject_hash     text        NOT NULL,
  requested_by     text        NOT NULL,
  requested_at     timestamptz NOT NULL DEFAULT now(),
  keys_destroyed_at timestamptz,             -- step 1: the subject's data keys are wiped
  completed_at     timestamptz,              -- step 2: own rows removed, SubjectErased staged
  removed          jsonb       NOT NULL DEFAULT '{}',  -- counts per table, never values
  UNIQUE (subject_kind, subject_hash)
);
CREATE INDEX pl_erasure_open ON pl_erasure (requested_at) WHERE completed_at IS NULL;
-- the subject id an unfinished erasure works on; deleted when it completes, so the log keeps no id
CREATE TABLE pl_erasure_work (
  erasure_id uuid PRIMARY KEY REFERENCES pl_erasure ON DELETE CASCADE,
  subject_id text NOT NULL
);
