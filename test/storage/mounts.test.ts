import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from 'vitest'

import { assessDurability, findMount } from '../../src/storage/checks.js'
import { parseMountinfo } from '../../src/storage/mountinfo.js'
import { tryMount, unmount } from '../helpers/mount.js'

// Sample texts use paths under /berth-test-nonexistent so the real file system
// (realpath of existing prefixes) cannot interfere.
const R = '/berth-test-nonexistent'

const overlayRoot = [
  '540 480 0:50 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w',
  '541 540 0:53 / /proc rw,nosuid,nodev,noexec,relatime - proc proc rw',
  '542 540 0:54 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k,mode=755',
].join('\n')

const diskAtVarData = [
  '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
  `90 27 8:16 / ${R}/var/data rw,relatime shared:40 - ext4 /dev/sdb rw`,
  `91 27 0:60 / ${R}/scratch rw - tmpfs tmpfs rw,size=1024k`,
].join('\n')

describe('parseMountinfo', () => {
  it('reads mount point, fs type and source across optional fields', () => {
    expect(parseMountinfo(diskAtVarData)[1]).toEqual({
      mountPoint: `${R}/var/data`,
      fsType: 'ext4',
      source: '/dev/sdb',
    })
  })

  it('skips malformed lines', () => {
    expect(parseMountinfo('garbage\n\n27 1 254:0 / / rw - ext4 /dev/vda rw\n')).toHaveLength(1)
  })
})

describe('findMount', () => {
  it('finds the overlay root of a container', () => {
    expect(findMount(`${R}/app/data`, overlayRoot)).toEqual({
      mountPoint: '/',
      fsType: 'overlay',
      source: 'overlay',
      isMountPoint: false,
    })
  })

  it('finds a disk mounted exactly at the path', () => {
    expect(findMount(`${R}/var/data`, diskAtVarData)).toMatchObject({
      fsType: 'ext4',
      source: '/dev/sdb',
      isMountPoint: true,
    })
  })

  it('uses the longest mount point prefix for paths inside a mount', () => {
    expect(findMount(`${R}/var/data/workspace/s1`, diskAtVarData)).toMatchObject({
      mountPoint: `${R}/var/data`,
      isMountPoint: false,
    })
    expect(findMount(`${R}/var/database`, diskAtVarData)).toMatchObject({ mountPoint: '/', fsType: 'ext4' })
  })

  it('finds tmpfs', () => {
    expect(findMount(`${R}/scratch`, diskAtVarData)).toMatchObject({ fsType: 'tmpfs', isMountPoint: true })
  })

  it('decodes octal escapes such as \\040 for spaces', () => {
    const text = `27 1 254:0 / / rw - ext4 /dev/vda rw\n95 27 8:1 / ${R}/my\\040disk rw - ext4 /dev/my\\134dev rw`
    expect(findMount(`${R}/my disk/events.db`, text)).toEqual({
      mountPoint: `${R}/my disk`,
      fsType: 'ext4',
      source: '/dev/my\\dev',
      isMountPoint: false,
    })
  })

  it('lets the last of stacked mounts win, and a later parent mount hide an earlier child', () => {
    const stacked = `27 1 254:0 / / rw - ext4 /dev/vda rw\n90 27 0:1 / ${R}/d rw - ext4 /dev/sdb rw\n91 90 0:2 / ${R}/d rw - tmpfs tmpfs rw`
    expect(findMount(`${R}/d`, stacked)?.fsType).toBe('tmpfs')
    const hidden = `27 1 254:0 / / rw - ext4 /dev/vda rw\n90 27 0:1 / ${R}/a/b rw - ext4 /dev/sdb rw\n91 27 0:2 / ${R}/a rw - tmpfs tmpfs rw`
    expect(findMount(`${R}/a/b`, hidden)).toMatchObject({ mountPoint: `${R}/a`, fsType: 'tmpfs', isMountPoint: false })
  })

  it('returns null when nothing matches', () => {
    expect(findMount('/x', '')).toBeNull()
  })

  it('reads the real /proc/self/mountinfo on Linux', () => {
    const mount = findMount(tmpdir())
    if (process.platform === 'linux') expect(mount?.fsType).toEqual(expect.any(String))
    else expect(mount).toBeNull()
  })
})

describe('assessDurability', () => {
  it('is persistent with no warnings on a mounted disk at /var/data', () => {
    const d = assessDurability(`${R}/var/data`, { expectMount: true, mountinfoText: diskAtVarData })
    expect(d).toEqual({
      persistent: true,
      warnings: [],
      fsType: 'ext4',
      mountPoint: `${R}/var/data`,
      isMountPoint: true,
    })
  })

  it('is ephemeral when /var/data is expected to be a mount but is a plain folder', () => {
    const text = '27 1 254:0 / / rw - ext4 /dev/vda rw'
    const d = assessDurability(`${R}/var/data`, { expectMount: true, mountinfoText: text })
    expect(d.persistent).toBe(false)
    expect(d.warnings).toHaveLength(1)
    expect(d.warnings[0]).toMatch(/not a mount point.*lost on the next redeploy.*--data-dir/)
  })

  it('accepts a plain folder when no mount was expected (chosen explicitly)', () => {
    const text = '27 1 254:0 / / rw - ext4 /dev/vda rw'
    expect(assessDurability(`${R}/data`, { expectMount: false, mountinfoText: text }).persistent).toBe(true)
  })

  it('is ephemeral on the overlay root of a container', () => {
    const d = assessDurability(`${R}/app`, { expectMount: false, mountinfoText: overlayRoot })
    expect(d.persistent).toBe(false)
    expect(d.warnings[0]).toMatch(/overlay.*container's own writable layer.*lost/)
  })

  it('is ephemeral on tmpfs even when it is a mount point', () => {
    const d = assessDurability(`${R}/scratch`, { expectMount: true, mountinfoText: diskAtVarData })
    expect(d.persistent).toBe(false)
    expect(d.warnings[0]).toMatch(/tmpfs.*memory/)
  })

  it('warns about network filesystems but stays persistent', () => {
    const text = `27 1 254:0 / / rw - ext4 /dev/vda rw\n90 27 0:70 / ${R}/nfs rw - nfs4 server:/export rw`
    const d = assessDurability(`${R}/nfs`, { expectMount: true, mountinfoText: text })
    expect(d.persistent).toBe(true)
    expect(d.warnings).toHaveLength(1)
    expect(d.warnings[0]).toMatch(/network filesystem.*WAL/)
  })
})

describe('real mounts (needs mount privileges; skipped otherwise)', () => {
  let base: string
  let mountPoint: string
  let mounted = false

  beforeAll(() => {
    base = mkdtempSync(join(tmpdir(), 'berth-mnt-'))
    mountPoint = join(base, 'tmp')
    mounted = tryMount(mountPoint, 'size=1m')
  })
  afterAll(() => {
    if (mounted) unmount(mountPoint)
    rmSync(base, { recursive: true, force: true })
  })

  it('detects a real tmpfs mount as ephemeral', (ctx) => {
    if (!mounted) return ctx.skip()
    expect(findMount(mountPoint)).toMatchObject({ fsType: 'tmpfs', isMountPoint: true })
    const d = assessDurability(join(mountPoint, 'data'), { expectMount: false })
    expect(d.persistent).toBe(false)
  })
})
