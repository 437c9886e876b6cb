import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../src/logging/logger.js'
import { upgradeLog } from '../../src/runtime/upgrade-log.js'
import { tempDir } from '../helpers/temp-dir.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('the upgrade progress log', () => {
  it('says where the upgrade is at least every 5 s, even while one statement runs for long', async () => {
    const file = join(await tempDir(), 'agent_logs.txt')
    const logger = createLogger({ level: 'info', file, terminal: false })
    vi.useFakeTimers()
    const log = upgradeLog(logger)
    log.progress({ step: 'backup', fraction: 0 })
    log.progress({ step: 'backup', fraction: 1 })
    log.progress({ step: '0002_berth_columns', fraction: 0 })
    log.progress({ step: '0002_berth_columns', fraction: 0.42 })
    // 21 s without a single report (one long CREATE INDEX): still a line at least every 5 s.
    vi.advanceTimersByTime(21_000)
    log.stop()
    logger.flush()
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { msg: string; time: number })
    const progress = lines.filter((line) => line.msg.startsWith('Upgrading the database: 0002_berth_columns, '))
    expect(progress[0]?.msg).toBe('Upgrading the database: 0002_berth_columns, 0 %')
    expect(progress.slice(1).map((line) => line.msg)).toEqual(
      Array(4).fill('Upgrading the database: 0002_berth_columns, 42 %'),
    )
    const times = progress.map((line) => line.time)
    for (let i = 1; i < times.length; i++)
      expect((times[i] as number) - (times[i - 1] as number)).toBeLessThanOrEqual(5000)
    expect(lines.map((line) => line.msg)).toContain('Upgrading the database: backup done in 0.0 s')
  })
})
