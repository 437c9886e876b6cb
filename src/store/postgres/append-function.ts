/**
 * The append path as one server-side function, so a group commit's batch is
 * one round trip (one statement, its own transaction) instead of six (BEGIN,
 * lock, read the last seq, INSERT, touch, COMMIT): on a busy machine every
 * round trip waits for the server process to be scheduled.
 *
 * It is created per connection in `pg_temp` (pool `connect`): no schema
 * object to migrate, nothing two instances starting together could race on.
 * Inside, each statement takes a fresh snapshot (READ COMMITTED), so the last
 * `seq` is read after the session rows are locked and sees whatever another
 * instance committed before.
 *
 * It also sends the commit's pointers (`pg_notify` on `berth_events`), so they
 * leave with the commit. Failures are raised with berth's own SQLSTATEs (postgres-append.ts maps
 * them): BRT01 a session is missing (message: its id), BRT02 a lease epoch
 * moved on (message: the session id, detail: the current epoch).
 */
export const APPEND_FUNCTION = `
CREATE OR REPLACE FUNCTION pg_temp.berth_append(
  p_sessions text[],
  p_check_sessions text[],
  p_check_epochs bigint[],
  p_ids text[],
  p_event_sessions text[],
  p_timestamps text[],
  p_types text[],
  p_payloads text[],
  p_touch text[],
  p_now text
) RETURNS TABLE (out_session text, out_base integer) LANGUAGE plpgsql AS $fn$
DECLARE
  v_bad record;
  v_locked integer;
BEGIN
  -- The batch's session rows, locked in id order: appenders on other instances queue here, never deadlock.
  PERFORM 1 FROM session s WHERE s.id = ANY(p_sessions) ORDER BY s.id FOR UPDATE;
  GET DIAGNOSTICS v_locked = ROW_COUNT;
  IF v_locked <> cardinality(p_sessions) THEN
    SELECT w.sid INTO v_bad FROM unnest(p_sessions) AS w(sid)
      WHERE NOT EXISTS (SELECT 1 FROM session s WHERE s.id = w.sid) LIMIT 1;
    RAISE EXCEPTION USING ERRCODE = 'BRT01', MESSAGE = v_bad.sid;
  END IF;
  IF cardinality(p_check_sessions) > 0 THEN
    SELECT c.sid, s.run_epoch INTO v_bad
      FROM unnest(p_check_sessions, p_check_epochs) AS c(sid, epoch) JOIN session s ON s.id = c.sid
      WHERE s.run_epoch <> c.epoch LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'BRT02', MESSAGE = v_bad.sid, DETAIL = v_bad.run_epoch::text;
    END IF;
  END IF;
  RETURN QUERY
    WITH last AS (
      SELECT w.sid, coalesce((SELECT max(e.seq) FROM event e WHERE e.session_id = w.sid), 0) AS base
      FROM unnest(p_sessions) AS w(sid)
    ), inserted AS (
      INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq)
      SELECT v.id, v.sid, v.ts, v.kind, v.payload,
             last.base + row_number() OVER (PARTITION BY v.sid ORDER BY v.n)
      FROM unnest(p_ids, p_event_sessions, p_timestamps, p_types, p_payloads)
             WITH ORDINALITY AS v(id, sid, ts, kind, payload, n)
      JOIN last ON last.sid = v.sid
    )
    -- (PostgreSQL runs a data-modifying WITH to completion whether or not it is read.)
    SELECT last.sid, last.base::integer FROM last;
  IF cardinality(p_touch) > 0 THEN
    UPDATE session SET updated_at = p_now WHERE id = ANY(p_touch);
  END IF;
  -- Other instances learn of the commit from a pointer per session (src/store/postgres/notify-bus.ts), sent
  -- with the commit itself: delivered only if it commits, in commit order, and in this same round trip.
  PERFORM pg_notify('berth_events',
      w.sid || ' ' || (SELECT max(e.seq) FROM event e WHERE e.session_id = w.sid) || ' ' ||
      floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint)
    FROM unnest(p_sessions) AS w(sid);
END
$fn$`
