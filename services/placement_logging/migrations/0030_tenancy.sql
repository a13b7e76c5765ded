-- Tenant isolation by construction (issue 9, ADR 0030). A student belongs to one institution: the one
-- that enrolled them first. Every enrolment, placement and share of a student is checked against it;
-- only an explicit transfer (offered by that institution, accepted by the other) moves the student.
-- Numbered 0030, not 0003: other work adds placement-logging migrations at the same time, and the
-- runner keys them by (service, version).
CREATE TABLE pl_student (
  student_id      text PRIMARY KEY,
  institution_id  text        NOT NULL,
  registered_at   timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_student_institution ON pl_student (institution_id, student_id);

-- Existing students: the institution of their earliest enrolment (by academic year). An enrolment by
-- another institution for a later year was the hole this closes; it stays in pl_enrolment as history
-- of that institution, but nothing of the student can be changed or read through it any more.
INSERT INTO pl_student (student_id, institution_id, registered_at)
SELECT DISTINCT ON (student_id) student_id, institution_id, updated_at
FROM pl_enrolment ORDER BY student_id, academic_year, updated_at, institution_id;

DO $$
DECLARE conflicted int;
BEGIN
  SELECT count(*) INTO conflicted FROM (
    SELECT student_id FROM pl_enrolment GROUP BY student_id HAVING count(DISTINCT institution_id) > 1) s;
  IF conflicted > 0 THEN
    RAISE NOTICE '% students were enrolled by more than one institution; each now belongs to its first one '
                 '(see docs/security.md)', conflicted;
  END IF;
END
$$;

-- At most one open transfer offer per student, and every accepted transfer for the record.
CREATE TABLE pl_student_transfer (
  student_id        text PRIMARY KEY REFERENCES pl_student,
  from_institution  text        NOT NULL,
  to_institution    text        NOT NULL,
  offered_by        text        NOT NULL,   -- the coordinator (subject of the token) who offered it
  offered_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pl_student_transfer_log (
  student_id        text        NOT NULL,
  from_institution  text        NOT NULL,
  to_institution    text        NOT NULL,
  offered_by        text        NOT NULL,
  offered_at        timestamptz NOT NULL,
  accepted_by       text        NOT NULL,
  accepted_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (student_id, accepted_at)
);
