-- Hour accounting's own state, replacing faust's changelog: each student's state and, per consumer
-- group, the next offset to process of every input partition. Both are written in ONE transaction per
-- batch together with share_read_model and the outbox, so a crash leaves them consistent; the offsets
-- here (not Kafka's committed offsets) are the truth. `partition` is the student's partition number in
-- the co-partitioned student topics: a worker loads the states of the partitions it is assigned.
CREATE TABLE ha_student_state (
  consumer_group text        NOT NULL,
  student_id     text        NOT NULL,
  partition      int         NOT NULL,
  programme_id   text,                    -- of the current enrolment; NULL before any
  state          bytea       NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, student_id)
);
CREATE INDEX ha_student_state_partition ON ha_student_state (consumer_group, partition);
-- the states are written whole each batch and are already compact: skip TOAST compression
ALTER TABLE ha_student_state ALTER COLUMN state SET STORAGE EXTERNAL;
CREATE TABLE ha_offsets (
  consumer_group text   NOT NULL,
  topic          text   NOT NULL,
  partition      int    NOT NULL,
  next_offset    bigint NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition)
);
