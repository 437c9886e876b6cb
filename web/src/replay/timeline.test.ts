import { describe, expect, it } from 'vitest'
import { advance, buildTimeline, gapAt, playedAt } from './timeline.js'

describe('replay timeline', () => {
  it('keeps short pauses as they were and shortens long ones, recording them as gaps', () => {
    const hour = 3_600_000
    const timeline = buildTimeline([1000, 1200, 4200, 4200 + hour, 4300 + hour], { maxGapMs: 5000, shownGapMs: 1500 })
    expect(timeline.times).toEqual([0, 200, 3200, 4700, 4800])
    expect(timeline.duration).toBe(4800)
    expect(timeline.gaps).toEqual([{ index: 3, at: 4700, realMs: hour }])
    expect(gapAt(timeline, 4000, 1500)).toEqual(timeline.gaps[0])
    expect(gapAt(timeline, 3000, 1500)).toBeNull()
  })

  it('treats out-of-order or unreadable timestamps as no pause', () => {
    const timeline = buildTimeline([5000, 4000, Number.NaN, 6000])
    expect(timeline.times).toEqual([0, 0, 0, 1000])
  })

  it('seeks: counts the events played at any position', () => {
    const timeline = buildTimeline([0, 100, 100, 900])
    expect(playedAt(timeline, -1)).toBe(0)
    expect(playedAt(timeline, 0)).toBe(1)
    expect(playedAt(timeline, 99)).toBe(1)
    expect(playedAt(timeline, 100)).toBe(3)
    expect(playedAt(timeline, 900)).toBe(4)
    expect(playedAt(timeline, 10_000)).toBe(4)
    expect(playedAt(buildTimeline([]), 0)).toBe(0)
  })

  it('advances by wall-clock time times the speed, instant jumps to the end, never past it', () => {
    expect(advance(0, 500, 1, 10_000)).toBe(500)
    expect(advance(0, 500, 2, 10_000)).toBe(1000)
    expect(advance(1000, 500, 10, 10_000)).toBe(6000)
    expect(advance(9000, 500, 10, 10_000)).toBe(10_000)
    expect(advance(0, 1, 'instant', 10_000)).toBe(10_000)
    expect(advance(100, -50, 1, 10_000)).toBe(100)
  })
})
