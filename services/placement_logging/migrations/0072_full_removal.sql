-- Full removal (docs/adr/0072, 2026-12-02): an erasure of a student may also ask that the student be
-- left out of every aggregate figure (`SubjectErased.remove_from_figures`). Asked with the first
-- request or added later to an erasure that kept the figures (then the erasure runs its last step
-- again, staging the event with the option); who asked it and when, for the audit. No personal data.
ALTER TABLE pl_erasure
  ADD COLUMN remove_from_figures boolean NOT NULL DEFAULT false,
  ADD COLUMN removal_asked_by    text,
  ADD COLUMN removal_asked_at    timestamptz,
  ADD CONSTRAINT pl_erasure_removal_students_only CHECK (NOT remove_from_figures OR subject_kind = 'student');
