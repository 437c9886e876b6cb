import { clock, duration } from '../lib/format.js'
import { gapAt, type ReplaySpeed, SPEEDS, type Timeline } from '../replay/timeline.js'

/**
 * Play and pause, the speed (1×, 2×, 10×, instant), and a seek bar over the
 * session's timeline on which shortened pauses are marked (with their real
 * length); "Live" when the playhead follows a running session.
 */
export function ReplayControls(props: {
  timeline: Timeline
  position: number
  playing: boolean
  speed: ReplaySpeed
  live: boolean
  running: boolean
  onPlay: () => void
  onPause: () => void
  onSeek: (position: number) => void
  onSpeed: (speed: ReplaySpeed) => void
}) {
  const { timeline, position } = props
  const total = Math.max(timeline.duration, 1)
  const inGap = gapAt(timeline, position)
  const atEnd = position >= timeline.duration
  return (
    <fieldset className="replay-controls">
      <legend className="visually-hidden">Replay</legend>
      <button
        type="button"
        className="button primary replay-play"
        aria-label={props.playing ? 'Pause replay' : 'Play replay'}
        onClick={props.playing ? props.onPause : props.onPlay}
      >
        {props.playing ? '❚❚ Pause' : '▶ Play'}
      </button>
      <span className="replay-time" aria-live="off">
        {clock(position)} / {clock(timeline.duration)}
      </span>
      <div className="seek">
        <input
          type="range"
          className="seek-bar"
          aria-label="Replay position"
          aria-valuetext={`${clock(position)} of ${clock(timeline.duration)}`}
          min={0}
          max={total}
          // "any": a stepped range rounds its maximum down, and the last events would never play.
          step="any"
          value={Math.min(position, total)}
          onChange={(e) => props.onSeek(Number(e.target.value))}
          onKeyDown={(e) => {
            const to = seekKey(e.key, position, timeline.duration)
            if (to === null) return
            e.preventDefault()
            props.onSeek(to)
          }}
        />
        <div className="seek-gaps" aria-hidden="true">
          {timeline.gaps.map((gap) => (
            <span
              key={gap.index}
              className="seek-gap"
              style={{ left: `${(gap.at / total) * 100}%` }}
              title={`${duration(gap.realMs)} pause, shortened`}
            />
          ))}
        </div>
      </div>
      <label className="replay-speed">
        <span className="visually-hidden">Speed</span>
        <select
          aria-label="Replay speed"
          value={String(props.speed)}
          onChange={(e) =>
            props.onSpeed(e.target.value === 'instant' ? 'instant' : (Number(e.target.value) as ReplaySpeed))
          }
        >
          {SPEEDS.map((s) => (
            <option key={String(s)} value={String(s)}>
              {s === 'instant' ? 'Instant' : `${s}×`}
            </option>
          ))}
        </select>
      </label>
      {props.running ? (
        props.live ? (
          <span className="badge live" role="status">
            ● Live
          </span>
        ) : (
          <button
            type="button"
            className="button small"
            onClick={() => {
              props.onSeek(timeline.duration)
              props.onPlay()
            }}
          >
            Go live
          </button>
        )
      ) : null}
      <span className="replay-note" role="status">
        {inGap ? `Skipping a ${duration(inGap.realMs)} pause…` : atEnd && !props.running ? 'End of the session.' : ''}
      </span>
    </fieldset>
  )
}

/** Keyboard seeking in steps a person can use: 5 s with the arrows, 30 s with Page keys, Home and End. */
function seekKey(key: string, position: number, end: number): number | null {
  const step = {
    ArrowLeft: -5000,
    ArrowDown: -5000,
    ArrowRight: 5000,
    ArrowUp: 5000,
    PageDown: -30_000,
    PageUp: 30_000,
  }[key]
  if (step !== undefined) return Math.max(0, Math.min(end, position + step))
  if (key === 'Home') return 0
  if (key === 'End') return end
  return null
}
