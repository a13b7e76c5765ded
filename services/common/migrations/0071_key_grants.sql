-- schema: keys
-- Every service's relay seals records with the data keys and every codec opens them: the service roles
-- read and add keys. Only placement logging runs erasures, so only it may destroy one (UPDATE); key
-- rotation (`python -m werkplek_common.keystore rotate`) runs as the owner. No role may DELETE a key:
-- a destroyed key stays as its tombstone (docs/adr/0070, docs/adr/0009).
GRANT SELECT, INSERT ON data_keys TO placement_logging, hour_accounting, mentor_feedback, funding_reports;
GRANT UPDATE ON data_keys TO placement_logging;
