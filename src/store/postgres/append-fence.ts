/**
 * The append fence: how an instance numbers events without reading each
 * session's last `seq` on every commit.
 *
 * Each instance remembers, per session, the last `seq` it wrote and the lease
 * epoch it last had checked (postgres-append.ts), and gives them to the append
 * function (append-function.ts) with the fence generation they were learnt
 * under. The remembered numbers can go wrong in two ways only:
 * - too low, when another instance (or a merge) appended meanwhile: the
 *   unique (session_id, seq) index refuses the commit and the appender retries
 *   it with numbers read afresh;
 * - too high, or an epoch stale, when events were deleted or renumbered or a
 *   lease was claimed. Those moves go through `berth_fence_appends()` (schema
 *   step `0008_append_fence` in src/store/migrations.ts; statement triggers on
 *   `event` and `session` call it, whoever writes the SQL), which takes the
 *   advisory lock below exclusively and bumps `append_fence.generation`.
 *   Appends hold the same lock shared for their transaction, so the two never
 *   overlap, and an append that finds the generation moved reads every
 *   number and checks every epoch again.
 *
 * Anything that deletes events must fence before it locks rows an append
 * waits for (a delete's first statement does, through the trigger; a merge
 * into an existing session calls the function first), or the two would wait
 * for each other.
 */

/**
 * The advisory lock's two keys ("bert", 1). Never change them: databases
 * already carry them in `berth_fence_appends()`.
 */
export const APPEND_FENCE_LOCK = [1650815604, 1] as const

/** Fence appends in the current transaction if session `$1` exists (as its first statement, before any row lock). */
export const FENCE_APPENDS_IF_SESSION =
  'SELECT berth_fence_appends() WHERE EXISTS (SELECT 1 FROM session WHERE id = $1)'
