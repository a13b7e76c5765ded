-- A key whose state is large and changes a little at a time (funding reports: an institution's year
-- with thousands of students) keeps it as a head in runtime_state plus parts here (a student each),
-- so a batch writes the parts it changed instead of the whole state. Written in the batch's transaction.
CREATE TABLE runtime_state_parts (
  consumer_group text  NOT NULL,
  key            text  NOT NULL,
  part           text  NOT NULL,
  state          bytea NOT NULL,
  PRIMARY KEY (consumer_group, key, part)
);
ALTER TABLE runtime_state_parts ALTER COLUMN state SET STORAGE EXTERNAL;
