import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, it } from 'vitest'

import { isBerthError } from '../../src/core/errors.js'
import { chooseDataRoot, dataPaths, PERSISTENT_ROOT } from '../../src/storage/data-root.js'

let base: string
let persistent: string
let missing: string

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'berth-root-'))
  persistent = join(base, 'var-data')
  missing = join(base, 'no-such-disk')
  mkdirSync(persistent)
})
afterEach(() => rmSync(base, { recursive: true, force: true }))

describe('chooseDataRoot', () => {
  it('prefers the flag over everything', () => {
    const env = { BERTH_DATA_DIR: '/env', RAILWAY_VOLUME_MOUNT_PATH: '/vol' }
    expect(chooseDataRoot({ flag: '/flag', env, cwd: base, persistentRoot: persistent })).toEqual({
      root: '/flag',
      source: 'flag',
    })
  })

  it('then BERTH_DATA_DIR, then the platform volume', () => {
    const both = { BERTH_DATA_DIR: '/env', RAILWAY_VOLUME_MOUNT_PATH: '/vol' }
    expect(chooseDataRoot({ env: both, cwd: base, persistentRoot: persistent })).toEqual({
      root: '/env',
      source: 'env',
    })
    const volume = { RAILWAY_VOLUME_MOUNT_PATH: '/vol' }
    expect(chooseDataRoot({ env: volume, cwd: base, persistentRoot: persistent })).toEqual({
      root: '/vol',
      source: 'platform-volume',
    })
  })

  it('then the persistent default when it exists as a directory', () => {
    expect(chooseDataRoot({ env: {}, cwd: base, persistentRoot: persistent })).toEqual({
      root: persistent,
      source: 'persistent-default',
    })
  })

  it('falls back to cwd when the persistent default is missing', () => {
    expect(chooseDataRoot({ flag: undefined, env: {}, cwd: base, persistentRoot: missing })).toEqual({
      root: base,
      source: 'cwd',
    })
  })

  it('treats empty strings as unset', () => {
    const env = { BERTH_DATA_DIR: '', RAILWAY_VOLUME_MOUNT_PATH: '' }
    expect(chooseDataRoot({ flag: '', env, cwd: base, persistentRoot: missing }).source).toBe('cwd')
  })

  it('resolves relative flag and env values against cwd', () => {
    expect(chooseDataRoot({ flag: 'data', env: {}, cwd: base }).root).toBe(join(base, 'data'))
    expect(chooseDataRoot({ env: { BERTH_DATA_DIR: '../x' }, cwd: join(base, 'a') }).root).toBe(join(base, 'x'))
    expect(chooseDataRoot({ env: { RAILWAY_VOLUME_MOUNT_PATH: './vol' }, cwd: base }).root).toBe(join(base, 'vol'))
  })

  it('refuses a persistent default that is a file, naming it', () => {
    const file = join(base, 'var-data-file')
    writeFileSync(file, 'oops')
    let caught: unknown
    try {
      chooseDataRoot({ env: {}, cwd: base, persistentRoot: file })
    } catch (err) {
      caught = err
    }
    expect(isBerthError(caught, 'ROOT_NOT_A_DIRECTORY')).toBe(true)
    expect((caught as Error).message).toContain(file)
  })

  it('defaults persistentRoot to /var/data', () => {
    expect(PERSISTENT_ROOT).toBe('/var/data')
  })
})

describe('dataPaths', () => {
  it('lays out the reference system files under the root', () => {
    expect(dataPaths('/var/data')).toEqual({
      root: '/var/data',
      database: '/var/data/events.db',
      workspaces: '/var/data/workspace',
      logs: '/var/data/agent_logs.txt',
    })
  })
})
