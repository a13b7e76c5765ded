-- What the student app needs from placement logging alone (each service owns its data):
-- refused batch items, kept until the student resends or withdraws them, so a phone that lost a
-- batch reply can still learn what was refused; and placement logging's own read models of the
-- student's share (from accounting.share.updated.v1) and outcome progress (from
-- feedback.outcome_progress.updated.v1), built by the worker. Never another service's tables.

CREATE TABLE pl_refusal (
  student_id   text        NOT NULL,
  entry_id     uuid        NOT NULL,
  entry        jsonb       NOT NULL,     -- the item as the phone sent it
  problem      jsonb       NOT NULL,     -- the RFC 9457 problem document of the batch reply
  refused_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (student_id, entry_id)
);

-- One row per student, replaced only by a higher version (redelivery and reordering change nothing).
CREATE TABLE pl_share_view (
  student_id    text PRIMARY KEY,
  programme_id  text        NOT NULL,
  version       int         NOT NULL,
  status        text        NOT NULL,
  real_share    numeric     NOT NULL,
  body          jsonb       NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pl_share_view_programme ON pl_share_view (programme_id, student_id);

CREATE TABLE pl_outcome_view (
  student_id    text PRIMARY KEY,
  version       int         NOT NULL,
  body          jsonb       NOT NULL,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
