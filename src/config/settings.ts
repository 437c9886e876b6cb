import { z } from 'zod'

/**
 * Every setting berth reads, in one table: the README documents exactly
 * these (a test checks it), and `loadConfig` parses exactly these.
 * Precedence: command-line flag, then the process environment, then a
 * `.env` file in the working directory, then the default.
 */
export interface SettingSpec<T> {
  /** Long flag name without dashes, as commander camel-cases it (`dataDir` for `--data-dir`). */
  flag?: string
  /** Environment variables, the first set one wins. */
  env: readonly string[]
  schema: z.ZodType<T>
  default: T
  /** One line for the README and `--help`. */
  description: string
}

const sizeRegex = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?$/i
const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
  tb: 1e12,
  tib: 1024 ** 4,
}

/** `5GiB`, `500mb`, `1024` (bytes); `0`, `none` or `off` for no limit. */
export const byteSize = z.union([z.number(), z.string()]).transform((value, ctx): number | null => {
  if (typeof value === 'number') return value > 0 ? value : null
  const text = value.trim().toLowerCase()
  if (text === 'none' || text === 'off' || text === '0') return null
  const match = sizeRegex.exec(text)
  if (!match) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size; write e.g. 5GiB, 500MB or 0 for none` })
    return z.NEVER
  }
  return Math.round(Number(match[1]) * (UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1))
})

const optionalSecret = z.string().trim().min(1).optional()

export const SETTINGS = {
  dataDir: {
    flag: 'dataDir',
    env: ['BERTH_DATA_DIR'],
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'Data root. Unset: RAILWAY_VOLUME_MOUNT_PATH, then /var/data when it exists, else the current directory.',
  } satisfies SettingSpec<string | undefined>,
  host: {
    flag: 'host',
    env: ['BERTH_HOST', 'HOST'],
    schema: z.string().min(1),
    default: '0.0.0.0',
    description: 'Address the server listens on.',
  } satisfies SettingSpec<string>,
  port: {
    flag: 'port',
    env: ['PORT', 'BERTH_PORT'],
    schema: z.coerce.number().int().min(0).max(65535),
    default: 8000,
    description: 'Port for the API, WebSocket, UI and hosted sites (PORT is what Render and most PaaS set).',
  } satisfies SettingSpec<number>,
  logLevel: {
    flag: 'logLevel',
    env: ['BERTH_LOG_LEVEL', 'LOG_LEVEL'],
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']),
    default: 'info',
    description: 'Least severe level written to the terminal and to agent_logs.txt.',
  } satisfies SettingSpec<'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>,
  workspaceQuota: {
    flag: 'workspaceQuota',
    env: ['BERTH_WORKSPACE_QUOTA'],
    schema: byteSize,
    default: 5 * 1024 ** 3,
    description: 'Largest size of one session workspace (e.g. 5GiB, 500MB; 0 for no limit).',
  } satisfies SettingSpec<number | null>,
  chutesApiKey: {
    env: ['CHUTES_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for Chutes (https://llm.chutes.ai/v1), the default LLM provider.',
  } satisfies SettingSpec<string | undefined>,
  openrouterApiKey: {
    env: ['OPENROUTER_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for OpenRouter.',
  } satisfies SettingSpec<string | undefined>,
  openaiApiKey: {
    env: ['OPENAI_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for OpenAI or an OpenAI-compatible server.',
  } satisfies SettingSpec<string | undefined>,
  openaiBaseUrl: {
    env: ['OPENAI_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of an OpenAI-compatible server (vLLM, Ollama, llama.cpp); unset means OpenAI.',
  } satisfies SettingSpec<string | undefined>,
  anthropicApiKey: {
    env: ['ANTHROPIC_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for Anthropic.',
  } satisfies SettingSpec<string | undefined>,
} as const

export type SettingName = keyof typeof SETTINGS
