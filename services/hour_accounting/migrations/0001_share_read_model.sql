-- Hour accounting's read model: each student's latest share, served by placement logging.
-- `body` is the latest ShareUpdated event's JSON; a row is replaced only by a higher version.
CREATE TABLE share_read_model (student_id text PRIMARY KEY, programme_id text NOT NULL, version int NOT NULL, status text NOT NULL, real_share numeric NOT NULL, body jsonb NOT NULL, event_id uuid NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
