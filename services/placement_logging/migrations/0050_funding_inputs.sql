-- Inputs of the funding reports (issue 13): credits taken and earned per enrolment and year, and
-- pilots (proeftuinen). Same shape as every registry table: id, the owning institution, the terms as
-- last stored, a version (also the ETag).
CREATE TABLE pl_credits (
  id              text PRIMARY KEY,            -- student_id/academic_year, as the enrolment
  institution_id  text        NOT NULL,
  student_id      text        NOT NULL,
  academic_year   text        NOT NULL,
  body            jsonb       NOT NULL,        -- {programme_id, credits_taken, credits_earned}
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_credits_institution ON pl_credits (institution_id, id);

CREATE TABLE pl_pilot (
  id              text PRIMARY KEY,
  institution_id  text        NOT NULL,
  body            jsonb       NOT NULL,
  version         int         NOT NULL DEFAULT 1,
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_pilot_institution ON pl_pilot (institution_id, id);
