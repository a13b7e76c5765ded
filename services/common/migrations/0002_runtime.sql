-- The stream runtime's own tables (werkplek_common.runtime), per consumer group:
-- * runtime_offsets: the next offset to process of every input partition. These, not Kafka's committed
--   offsets, are the truth; a batch's transaction compare-and-sets them (a zombie finds them moved).
-- * runtime_state: each key's state (a student, a report unit, ...) as the consumer's own bytes, with
--   the partition number it lives on and tags to find the keys a change of reference data concerns.
-- * runtime_quarantine: keys whose handling failed; their records go to the DLQ until released.
-- A batch writes offsets, states, quarantine, the consumer's read models and the outbox in ONE transaction.
CREATE TABLE runtime_offsets (
  consumer_group text   NOT NULL,
  topic          text   NOT NULL,
  partition      int    NOT NULL,
  next_offset    bigint NOT NULL,
  PRIMARY KEY (consumer_group, topic, partition)
);
CREATE TABLE runtime_state (
  consumer_group text        NOT NULL,
  key            text        NOT NULL,
  partition      int         NOT NULL,
  tags           text[]      NOT NULL DEFAULT '{}',
  state          bytea       NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, key)
);
CREATE INDEX runtime_state_partition ON runtime_state (consumer_group, partition);
-- states are written whole and are already compact: skip TOAST compression
ALTER TABLE runtime_state ALTER COLUMN state SET STORAGE EXTERNAL;
CREATE TABLE runtime_quarantine (
  consumer_group text        NOT NULL,
  key            text        NOT NULL,
  partition      int         NOT NULL,
  reason         text        NOT NULL,
  error_type     text        NOT NULL,
  records        bigint      NOT NULL DEFAULT 0,  -- sent to the DLQ because of it
  since          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer_group, key)
);
