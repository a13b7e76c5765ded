-- Hour accounting runs on the shared stream runtime (werkplek_common.runtime): its stored offsets and
-- student states move into the runtime's tables unchanged (the state bytes keep their format; the
-- programme of the current enrolment becomes the tag `programme:<id>`), so a running deployment
-- continues where it was instead of rebuilding.
INSERT INTO runtime_offsets (consumer_group, topic, partition, next_offset)
  SELECT consumer_group, topic, partition, next_offset FROM ha_offsets;
INSERT INTO runtime_state (consumer_group, key, partition, tags, state, updated_at)
  SELECT consumer_group, student_id, partition,
         CASE WHEN programme_id IS NULL THEN '{}'::text[] ELSE ARRAY['programme:' || programme_id] END,
         state, updated_at
  FROM ha_student_state;
DROP TABLE ha_student_state;
DROP TABLE ha_offsets;
