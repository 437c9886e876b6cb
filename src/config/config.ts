import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import type { z } from 'zod'
import { BerthError } from '../core/errors.js'
import { SETTINGS, type SettingName } from './settings.js'

export type BerthConfig = {
  -readonly [K in SettingName]: z.output<(typeof SETTINGS)[K]['schema']>
} & {
  /** The environment as berth sees it: the process environment over the `.env` file. */
  env: Record<string, string | undefined>
  /** The `.env` file that was read, if any. */
  envFile: string | null
}

export interface LoadConfigInput {
  /** Parsed command-line options, keyed by camel-cased flag name. */
  flags?: Record<string, unknown>
  env?: Record<string, string | undefined>
  cwd?: string
  /** Path of the `.env` file; default `<cwd>/.env`; `false` to read none. */
  envFile?: string | false
}

/**
 * Read and validate every setting. Flags win over the process environment,
 * which wins over `.env`, which wins over the defaults. An invalid value is a
 * `CONFIG_INVALID` error naming where it came from.
 *
 * @example
 *   const config = loadConfig({ flags: { port: '9000' }, env: process.env })
 *   config.port // 9000
 */
export function loadConfig(input: LoadConfigInput = {}): BerthConfig {
  const cwd = input.cwd ?? process.cwd()
  const envFile = input.envFile === false ? null : (input.envFile ?? join(cwd, '.env'))
  const fromFile = envFile && existsSync(envFile) ? readEnvFile(envFile) : {}
  const env: Record<string, string | undefined> = { ...fromFile, ...(input.env ?? process.env) }
  const flags = input.flags ?? {}

  const values: Record<string, unknown> = {}
  const problems: string[] = []
  for (const [name, spec] of Object.entries(SETTINGS) as [SettingName, (typeof SETTINGS)[SettingName]][]) {
    const { raw, source } = pick(spec, flags, env)
    if (raw === undefined) {
      values[name] = spec.default
      continue
    }
    const parsed = spec.schema.safeParse(raw)
    if (parsed.success) values[name] = parsed.data
    else problems.push(`${source}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`)
  }
  if (problems.length > 0) {
    throw new BerthError('CONFIG_INVALID', `Invalid configuration:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    })
  }
  return {
    ...(values as Omit<BerthConfig, 'env' | 'envFile'>),
    env,
    envFile: envFile && existsSync(envFile) ? envFile : null,
  }
}

function pick(
  spec: { flag?: string; env: readonly string[] },
  flags: Record<string, unknown>,
  env: Record<string, string | undefined>,
): { raw: unknown; source: string } {
  if (spec.flag !== undefined && flags[spec.flag] !== undefined) {
    return { raw: flags[spec.flag], source: `--${kebab(spec.flag)}` }
  }
  for (const name of spec.env) {
    const value = env[name]
    if (value !== undefined && value !== '') return { raw: value, source: name }
  }
  return { raw: undefined, source: '' }
}

function readEnvFile(file: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>
  } catch (error) {
    throw new BerthError('CONFIG_INVALID', `Cannot read ${file}: ${String(error)}`, { cause: error })
  }
}

export function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)
}
