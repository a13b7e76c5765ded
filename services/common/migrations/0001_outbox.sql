-- Transactional outbox shared by every service that stores a row and emits an event.
-- A service inserts its events here in the same transaction as its own rows; the relay publishes them.
CREATE TABLE outbox (
  id          bigserial PRIMARY KEY,
  producer    text        NOT NULL,            -- the service that wrote the row; its relay publishes it
  topic       text        NOT NULL,
  key         bytea       NOT NULL,
  value       bytea       NOT NULL,
  headers     jsonb       NOT NULL,            -- [[name, utf-8 value], ...]
  event_id    uuid        NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX outbox_producer_id ON outbox (producer, id);
