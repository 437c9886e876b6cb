import { APPEND_FENCE_LOCK } from './append-fence.js'

/**
 * The append path as one server-side function, so a group commit's batch is
 * one round trip (one statement, its own transaction) instead of several
 * (BEGIN, reads, INSERT, touch, COMMIT): on a busy machine every round trip
 * waits for the server process to be scheduled.
 *
 * It is created per connection in `pg_temp` (pool `connect`): no schema
 * object to migrate, nothing two instances starting together could race on.
 *
 * Numbering (append-fence.ts): the caller gives each session's last `seq` as
 * it knows it, or -1, with the fence generation it learnt them under. While
 * the generation stands, known numbers are used as they are and known epochs
 * are not read again; otherwise, and for unknown sessions, the function reads
 * the last `seq` and checks that the session exists and the epochs hold. No
 * session row is locked: two writers that number the same `seq` collide on
 * the unique (session_id, seq) index, and the caller retries with fresh
 * numbers. It answers each session's base and the generation (null when
 * the fence row is gone: then nothing is taken as known until a fence puts it back).
 *
 * Payloads come as one text joined by U+001F (PAYLOAD_SEPARATOR): JSON text
 * never holds a raw control character, and one string costs neither side the
 * escaping and parsing of an array literal of quote-filled texts.
 *
 * It also sends the commit's pointers (`pg_notify` on `berth_events`, up to
 * 100 per notification), so they leave with the commit. Failures are raised
 * with berth's own SQLSTATEs (postgres-append.ts maps them): BRT01 a session
 * is missing (message: its id), BRT02 a lease epoch moved on (message: the
 * session id, detail: the current epoch).
 */
/** Joins an append's payloads into one parameter (JSON escapes every control character in its text). */
export const PAYLOAD_SEPARATOR = '\u001f'

export const APPEND_FUNCTION = `
CREATE OR REPLACE FUNCTION pg_temp.berth_append(
  p_generation bigint,
  p_sessions text[],
  p_bases integer[],
  p_counts integer[],
  p_check_sessions text[],
  p_check_epochs bigint[],
  p_check_known boolean[],
  p_ids text[],
  p_event_sessions text[],
  p_timestamps text[],
  p_types text[],
  p_payloads text,
  p_touch text[],
  p_now text
) RETURNS TABLE (out_session text, out_base integer, out_generation bigint) LANGUAGE plpgsql AS $fn$
DECLARE
  v_generation bigint;
  v_bases integer[];
  v_bad record;
  v_sent_at bigint;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(${APPEND_FENCE_LOCK[0]}, ${APPEND_FENCE_LOCK[1]});
  SELECT f.generation INTO v_generation FROM append_fence f;
  v_bases := CASE WHEN v_generation = p_generation THEN p_bases
                  ELSE array_fill(-1, ARRAY[cardinality(p_sessions)]) END;
  IF -1 = ANY(v_bases) THEN
    SELECT w.sid INTO v_bad FROM unnest(p_sessions, v_bases) AS w(sid, base)
      WHERE w.base = -1 AND NOT EXISTS (SELECT 1 FROM session s WHERE s.id = w.sid) LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'BRT01', MESSAGE = v_bad.sid;
    END IF;
    SELECT array_agg(CASE WHEN w.base >= 0 THEN w.base
                          ELSE coalesce((SELECT max(e.seq) FROM event e WHERE e.session_id = w.sid), 0) END
                     ORDER BY w.n)
      INTO v_bases FROM unnest(p_sessions, v_bases) WITH ORDINALITY AS w(sid, base, n);
  END IF;
  IF v_generation IS DISTINCT FROM p_generation OR false = ANY(p_check_known) THEN
    SELECT c.sid, s.run_epoch INTO v_bad
      FROM unnest(p_check_sessions, p_check_epochs, p_check_known) AS c(sid, epoch, known)
      JOIN session s ON s.id = c.sid
      WHERE (v_generation IS DISTINCT FROM p_generation OR NOT c.known) AND s.run_epoch <> c.epoch LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'BRT02', MESSAGE = v_bad.sid, DETAIL = v_bad.run_epoch::text;
    END IF;
  END IF;
  INSERT INTO event (id, session_id, timestamp, event_type, event_payload, seq)
    SELECT v.id, v.sid, v.ts, v.kind, v.payload, last.base + row_number() OVER (PARTITION BY v.sid ORDER BY v.n)
    FROM unnest(p_ids, p_event_sessions, p_timestamps, p_types, string_to_array(p_payloads, chr(31)))
           WITH ORDINALITY AS v(id, sid, ts, kind, payload, n)
    JOIN unnest(p_sessions, v_bases) AS last(sid, base) ON last.sid = v.sid;
  IF cardinality(p_touch) > 0 THEN
    -- Locked in id order, as every appender does: two touching the same sessions queue instead of deadlocking.
    PERFORM 1 FROM session s WHERE s.id = ANY(p_touch) ORDER BY s.id FOR NO KEY UPDATE;
    UPDATE session SET updated_at = p_now WHERE id = ANY(p_touch);
  END IF;
  -- Other instances learn of the commit from pointers (src/store/postgres/notify-bus.ts) sent with the commit
  -- itself: delivered only if it commits, in commit order, and in this same round trip.
  v_sent_at := floor(extract(epoch FROM clock_timestamp()) * 1000);
  PERFORM pg_notify('berth_events', string_agg(p.pointer, ',' ORDER BY p.n))
    FROM (SELECT w.sid || ' ' || (w.base + w.cnt) || ' ' || v_sent_at, w.n
          FROM unnest(p_sessions, v_bases, p_counts) WITH ORDINALITY AS w(sid, base, cnt, n)) AS p(pointer, n)
    GROUP BY (p.n - 1) / 100;
  RETURN QUERY SELECT w.sid, w.base, v_generation FROM unnest(p_sessions, v_bases) AS w(sid, base);
END
$fn$`
