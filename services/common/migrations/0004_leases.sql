-- Named leases: one holder at a time for a job that must have a single owner among the replicas (the
-- outbox relay of a producer). A lease expires unless its holder renews it, so a holder that is
-- paused, partitioned away or dead loses it and another replica takes over; `token` goes up at every
-- change of holder, so a holder that comes back finds it lost the lease (werkplek_common.lease).
-- Times are the database's: one clock for every replica.
CREATE TABLE leases (
  name        text        PRIMARY KEY,
  holder      text        NOT NULL,        -- host:pid:random of the holding process
  token       bigint      NOT NULL,
  acquired_at timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
