import { mkdtemp, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../src/logging/logger.js'

afterEach(() => {
  vi.restoreAllMocks()
})

describe('the log file', () => {
  it('appends JSON lines', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'berth-log-')), 'agent_logs.txt')
    const logger = createLogger({ level: 'info', file, terminal: false })
    logger.info({ session: 's1' }, 'run started')
    const line = JSON.parse((await readFile(file, 'utf8')).trim()) as Record<string, unknown>
    expect(line).toMatchObject({ msg: 'run started', session: 's1', level: 30 })
  })

  it('survives a full disk: the write fails without throwing, and stderr says so once', () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    // /dev/full answers every write with ENOSPC, as a full data disk does.
    const logger = createLogger({ level: 'info', file: '/dev/full', terminal: false })
    expect(() => {
      logger.error('a run could not store its end')
      logger.info('and another line')
    }).not.toThrow()
    const notices = stderr.mock.calls.map(([text]) => String(text)).filter((text) => text.includes('/dev/full'))
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatch(/cannot write the log file \/dev\/full \(ENOSPC\)/)
  })
})
