-- The mentor's reason of a rejection (issue 11: the app shows why an entry was rejected and what to do).
-- On the entry's current view: set when a rejection is applied; cleared when the entry is confirmed, the
-- decision reversed or the student corrects the entry (a new revision needs a decision anew). In the
-- decision history: kept with the rejection event, for the record.
-- Numbered 0004: the runner applies every pending (service, version) in version order, and this only
-- adds nullable columns to tables of 0001, so it is safe before or after 0030/0060. Entries rejected
-- before it have no reason (none was kept) and show "rejected" as before.
ALTER TABLE pl_entry
  ADD COLUMN rejection_reason  text,   -- werkplek_events RejectionReason
  ADD COLUMN rejection_comment text,   -- the mentor's own words ('' when they gave none)
  ADD CONSTRAINT pl_entry_rejection_only_when_rejected
    CHECK (decision = 'rejected' OR (rejection_reason IS NULL AND rejection_comment IS NULL));

ALTER TABLE pl_entry_decision
  ADD COLUMN reason  text,
  ADD COLUMN comment text;
