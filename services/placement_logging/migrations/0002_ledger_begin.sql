-- One round trip instead of two at the start of logging entries: take the Idempotency-Key (try) and the
-- student's lock, then read the stored reply or the context the rules need. A function, because each
-- statement of a (volatile) PL/pgSQL function takes a fresh snapshot: the reads see everything the
-- previous holder of the student's lock committed. In one plain statement the snapshot would predate
-- the lock wait. The rules themselves stay in Python (domain.py); this only gathers the facts.

CREATE TYPE pl_placement_ctx AS (
  id text, student_id text, start_date date, end_date date, ended_on date, outcome_ids text[]);
CREATE TYPE pl_day_ctx AS (
  entry_id uuid, work_date date, start_time time, end_time time, duration_minutes int);
CREATE TYPE pl_existing_ctx AS (entry_id uuid, student_id text);

CREATE FUNCTION pl_begin_log(
  idem_lock bigint, student_lock bigint, the_principal text, idem_key text,
  placement_ids text[], student text, days date[], entry_ids uuid[],
  OUT got boolean, OUT started_at timestamptz,
  OUT fingerprint bytea, OUT status_code int, OUT headers jsonb, OUT body bytea,
  OUT placements pl_placement_ctx[], OUT day pl_day_ctx[], OUT existing pl_existing_ctx[])
LANGUAGE plpgsql VOLATILE
-- Every read here is a key lookup. PL/pgSQL caches its plans; one made while a table looked empty (a
-- fresh install, the Idempotency-Key clean-up) would stay a sequential scan as the table grows.
SET enable_seqscan = off
AS $$
BEGIN
  started_at := now();  -- the transaction's start: the time of every event it stages
  got := pg_try_advisory_xact_lock(idem_lock);
  IF NOT got THEN
    RETURN;  -- another request with this key is in flight
  END IF;
  PERFORM pg_advisory_xact_lock(student_lock);
  SELECT i.fingerprint, i.status_code, i.headers, i.body INTO fingerprint, status_code, headers, body
    FROM pl_idempotency i WHERE i.principal = the_principal AND i.key = idem_key;
  IF FOUND THEN
    RETURN;  -- completed before: the caller replays the stored reply
  END IF;
  placements := ARRAY(SELECT ROW(p.id, p.student_id, p.start_date, p.end_date, p.ended_on, p.outcome_ids)::pl_placement_ctx
                      FROM pl_placement p WHERE p.id = ANY(placement_ids));
  day := ARRAY(SELECT ROW(e.entry_id, e.work_date, e.start_time, e.end_time, e.duration_minutes)::pl_day_ctx
               FROM pl_entry e WHERE e.student_id = student AND e.work_date = ANY(days) AND NOT e.withdrawn);
  existing := ARRAY(SELECT ROW(e.entry_id, e.student_id)::pl_existing_ctx
                    FROM pl_entry e WHERE e.entry_id = ANY(entry_ids));
END
$$;
