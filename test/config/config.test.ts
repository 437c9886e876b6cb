import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { kebab, loadConfig } from '../../src/config/config.js'
import { SETTINGS } from '../../src/config/settings.js'
import { isBerthError } from '../../src/core/errors.js'
import { tempDir } from '../helpers/temp-dir.js'

describe('loadConfig', () => {
  it('uses defaults when nothing is set', () => {
    const config = loadConfig({ env: {}, envFile: false })
    expect(config).toMatchObject({ host: '0.0.0.0', port: 8000, logLevel: 'info', workspaceQuota: 5 * 1024 ** 3 })
    expect(config.dataDir).toBeUndefined()
    expect(config.chutesApiKey).toBeUndefined()
  })

  it('takes flags over the environment over .env over defaults', async () => {
    const cwd = await tempDir()
    await writeFile(
      join(cwd, '.env'),
      'PORT=7000\nBERTH_LOG_LEVEL=debug\nCHUTES_API_KEY="from-file"\nBERTH_HOST=127.0.0.2\n',
    )
    const config = loadConfig({ cwd, env: { PORT: '7100', BERTH_HOST: '127.0.0.3' }, flags: { host: '127.0.0.4' } })
    expect(config.port).toBe(7100)
    expect(config.logLevel).toBe('debug')
    expect(config.chutesApiKey).toBe('from-file')
    expect(config.host).toBe('127.0.0.4')
    expect(config.envFile).toBe(join(cwd, '.env'))
    expect(config.env.CHUTES_API_KEY).toBe('from-file')
  })

  it('parses sizes and turns the quota off with 0', () => {
    expect(loadConfig({ env: { BERTH_WORKSPACE_QUOTA: '500MB' }, envFile: false }).workspaceQuota).toBe(500_000_000)
    expect(
      loadConfig({ env: { BERTH_SANDBOX_READONLY: '/opt/node, /root/.nvm,' }, envFile: false }).sandboxReadOnly,
    ).toEqual(['/opt/node', '/root/.nvm'])
    expect(() => loadConfig({ env: { BERTH_SANDBOX_READONLY: 'opt/node' }, envFile: false })).toThrow(/absolute/)
    expect(() => loadConfig({ env: { BERTH_SANDBOX_READONLY: '/opt,//' }, envFile: false })).toThrow(/defeat/)
    expect(loadConfig({ env: { BERTH_WORKSPACE_QUOTA: '2GiB' }, envFile: false }).workspaceQuota).toBe(2 * 1024 ** 3)
    expect(loadConfig({ env: { BERTH_WORKSPACE_QUOTA: '0' }, envFile: false }).workspaceQuota).toBeNull()
  })

  it('names the source of every invalid value', () => {
    try {
      loadConfig({
        env: { PORT: 'eighty', BERTH_WORKSPACE_QUOTA: 'lots' },
        flags: { logLevel: 'loud' },
        envFile: false,
      })
      expect.unreachable()
    } catch (error) {
      expect(isBerthError(error, 'CONFIG_INVALID')).toBe(true)
      const message = (error as Error).message
      expect(message).toContain('PORT')
      expect(message).toContain('BERTH_WORKSPACE_QUOTA')
      expect(message).toContain('--log-level')
    }
  })

  it('every setting is documented in the README with its variables', async () => {
    const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8')
    for (const [name, spec] of Object.entries(SETTINGS)) {
      for (const variable of spec.env) expect(readme, `README lacks ${variable} (${name})`).toContain(`\`${variable}\``)
      if ('flag' in spec && spec.flag)
        expect(readme, `README lacks --${kebab(spec.flag)}`).toContain(`--${kebab(spec.flag)}`)
    }
  })
})
