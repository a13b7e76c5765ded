-- schema: keys (shared by every service, owned by the owner; docs/adr/0009)
-- The key store of crypto-shredding (docs/adr/0070-crypto-shredding.md, docs/privacy.md): one data key
-- per data subject (`student:<id>` / `mentor:<id>`), stored only wrapped (AES-256-GCM) by a master key
-- that lives in the environment (a Kubernetes Secret), never in the database. Erasure wipes `wrapped`
-- and sets `destroyed_at`: the row stays as a tombstone that holds no key and no personal data, so the
-- codec can tell "erased" from "never sealed". Reached only through werkplek_common.keystore.
CREATE TABLE data_keys (
  key_id       uuid        PRIMARY KEY,
  subject      text        NOT NULL,
  master_id    text,                          -- the master key that wrapped it; NULL once destroyed
  wrapped      bytea,                         -- nonce ‖ ciphertext ‖ tag; NULL once destroyed
  created_at   timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  destroyed_at timestamptz,
  CHECK ((destroyed_at IS NULL) = (wrapped IS NOT NULL AND master_id IS NOT NULL))
);
-- at most one live key per subject; a subject erased and later seen again gets a fresh key
CREATE UNIQUE INDEX data_keys_live_subject ON data_keys (subject) WHERE destroyed_at IS NULL;
CREATE INDEX data_keys_subject ON data_keys (subject);
CREATE INDEX data_keys_master ON data_keys (master_id) WHERE destroyed_at IS NULL;
