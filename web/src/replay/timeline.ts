/** How a replay compresses time: pauses longer than `maxGapMs` are shown as `shownGapMs`. */
export interface TimelineOptions {
  maxGapMs: number
  shownGapMs: number
}

export const DEFAULT_TIMELINE: TimelineOptions = { maxGapMs: 5_000, shownGapMs: 1_500 }

/** A shortened pause, for the seek bar's marks and the chat's "… later" dividers. */
export interface TimelineGap {
  /** Index of the event after the pause. */
  index: number
  /** Replay position (ms) where the shortened pause ends, i.e. where that event plays. */
  at: number
  /** How long the pause really was. */
  realMs: number
}

export interface Timeline {
  /** Replay position (ms from the first event) of each event, non-decreasing. */
  times: number[]
  duration: number
  gaps: TimelineGap[]
}

export type ReplaySpeed = 1 | 2 | 10 | 'instant'
export const SPEEDS: readonly ReplaySpeed[] = [1, 2, 10, 'instant']

/**
 * Place events on the replay's time axis: the original spacing, except that
 * each pause longer than `maxGapMs` (the user away, a server restart) is cut
 * to `shownGapMs` and recorded as a gap. Timestamps out of order or
 * unreadable count as no pause.
 *
 * @example
 *   buildTimeline([0, 1000, 3_601_000]).times // [0, 1000, 2500] with the default options
 */
export function buildTimeline(timestampsMs: readonly number[], options: TimelineOptions = DEFAULT_TIMELINE): Timeline {
  const times: number[] = []
  const gaps: TimelineGap[] = []
  let position = 0
  let previous: number | null = null
  timestampsMs.forEach((stamp, index) => {
    if (previous !== null && Number.isFinite(stamp)) {
      const real = Math.max(0, stamp - previous)
      if (real > options.maxGapMs) {
        position += options.shownGapMs
        gaps.push({ index, at: position, realMs: real })
      } else {
        position += real
      }
    }
    if (Number.isFinite(stamp) && (previous === null || stamp > previous)) previous = stamp
    times.push(position)
  })
  return { times, duration: position, gaps }
}

/**
 * How many events have played at a replay position (those placed at or
 * before it), by binary search.
 *
 * @example
 *   playedAt(buildTimeline([0, 1000, 2000]), 1500) // 2
 */
export function playedAt(timeline: Timeline, position: number): number {
  let low = 0
  let high = timeline.times.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((timeline.times[mid] ?? 0) <= position) low = mid + 1
    else high = mid
  }
  return low
}

/**
 * The position after `elapsedMs` of wall-clock time at a speed; `instant`
 * jumps to the end. Never past the end.
 *
 * @example
 *   advance(1000, 500, 10, 60_000) // 6000
 */
export function advance(position: number, elapsedMs: number, speed: ReplaySpeed, duration: number): number {
  if (speed === 'instant') return duration
  return Math.min(duration, position + Math.max(0, elapsedMs) * speed)
}

/** The gap a position lies in, if it is inside a shortened pause (for the "skipping 2 h" label). */
export function gapAt(
  timeline: Timeline,
  position: number,
  shownGapMs = DEFAULT_TIMELINE.shownGapMs,
): TimelineGap | null {
  return timeline.gaps.find((gap) => position < gap.at && position >= gap.at - shownGapMs) ?? null
}
