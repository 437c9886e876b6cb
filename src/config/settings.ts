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

/** `https://a.example, http://localhost:3000` or `*`: origins as browsers send them (scheme, host, port; no path). */
export const corsOriginList = z.string().transform((value, ctx): string[] => {
  const origins = value
    .split(',')
    .map((item) => item.trim().replace(/\/+$/, ''))
    .filter((item) => item !== '')
  for (const origin of origins) {
    if (origin === '*') continue
    let parsed: URL | null = null
    try {
      parsed = new URL(origin)
    } catch {}
    if (parsed === null || !/^https?:$/.test(parsed.protocol) || parsed.origin !== origin) {
      ctx.addIssue({
        code: 'custom',
        message: `"${origin}" is not an origin; write scheme://host[:port], e.g. https://ui.example.com, or *`,
      })
      return z.NEVER
    }
  }
  return origins
})

export const SETTINGS = {
  dataDir: {
    flag: 'dataDir',
    env: ['BERTH_DATA_DIR'],
    schema: z.string().min(1).optional(),
    default: undefined,
    description:
      'Data root. Unset: RAILWAY_VOLUME_MOUNT_PATH, then /var/data when it exists, else the current directory.',
  } satisfies SettingSpec<string | undefined>,
  databaseUrl: {
    env: ['DATABASE_URL'],
    schema: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\//i, 'write postgres://user:password@host:5432/database')
      .optional(),
    default: undefined,
    description:
      'PostgreSQL for sessions and events, shared by several instances (postgres://user:password@host:5432/db; ' +
      'add ?sslmode=require or verify-full for TLS). Unset: the embedded SQLite file <data root>/events.db.',
  } satisfies SettingSpec<string | undefined>,
  databasePoolSize: {
    env: ['BERTH_DATABASE_POOL_SIZE'],
    schema: z.coerce.number().int().min(1).max(1000),
    default: 10,
    description:
      "Connections each instance keeps at most to DATABASE_URL; instances times this must stay below the server's max_connections.",
  } satisfies SettingSpec<number>,
  databaseCaFile: {
    env: ['BERTH_DATABASE_CA_FILE', 'PGSSLROOTCERT'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description:
      "PEM file of the CA that signed the PostgreSQL server's certificate (a provider's own CA, e.g. Supabase's); " +
      'with it sslmode=require also checks the chain. Unset: the system CAs.',
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
  workspaceUrl: {
    env: ['BERTH_WORKSPACE_URL'],
    schema: z
      .string()
      .trim()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 'write s3://bucket or s3://bucket/prefix')
      .optional(),
    default: undefined,
    description:
      'Where workspaces live. Unset: <data root>/workspace on the local disk. `s3://bucket/prefix`: an S3-compatible ' +
      'bucket (AWS S3, R2, B2, MinIO, Ceph radosgw), objects at <prefix>/workspace/<session>/<path>, reached with the AWS_* settings.',
  } satisfies SettingSpec<string | undefined>,
  awsAccessKeyId: {
    env: ['AWS_ACCESS_KEY_ID'],
    schema: optionalSecret,
    default: undefined,
    description:
      "Access key for BERTH_WORKSPACE_URL's bucket; unset: the AWS SDK's own chain (AWS_PROFILE, an instance role).",
  } satisfies SettingSpec<string | undefined>,
  awsSecretAccessKey: {
    env: ['AWS_SECRET_ACCESS_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'Secret key belonging to AWS_ACCESS_KEY_ID.',
  } satisfies SettingSpec<string | undefined>,
  awsRegion: {
    env: ['AWS_REGION', 'AWS_DEFAULT_REGION'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description: 'Region of the bucket (R2: auto); unset: us-east-1, which most S3-compatible servers accept.',
  } satisfies SettingSpec<string | undefined>,
  awsEndpointUrlS3: {
    env: ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      'Endpoint of an S3-compatible server, e.g. https://<account>.r2.cloudflarestorage.com or http://minio:9000 ' +
      '(path-style requests); unset: AWS S3.',
  } satisfies SettingSpec<string | undefined>,
  publicUrl: {
    env: ['BERTH_PUBLIC_URL', 'PUBLIC_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      'Public base URL for links the agent hands out (static_deploy); unset: the request host, else http://localhost:<port>.',
  } satisfies SettingSpec<string | undefined>,
  maxTurns: {
    env: ['BERTH_MAX_TURNS'],
    schema: z.coerce.number().int().min(1),
    default: 200,
    description: 'Most model calls one agent run may make before it stops with an error.',
  } satisfies SettingSpec<number>,
  maxRunTokens: {
    env: ['BERTH_MAX_RUN_TOKENS'],
    schema: z
      .union([z.literal('none'), z.coerce.number().int().min(0)])
      .transform((n) => (n === 'none' || n === 0 ? null : n)),
    default: null,
    description: 'Most tokens (input plus output, all calls) one agent run may use; 0 or none for no limit.',
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
  chutesBaseUrl: {
    env: ['CHUTES_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of the Chutes API; unset means https://llm.chutes.ai/v1 (tests point it at a local server).',
  } satisfies SettingSpec<string | undefined>,
  openrouterBaseUrl: {
    env: ['OPENROUTER_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of the OpenRouter API; unset means https://openrouter.ai/api/v1.',
  } satisfies SettingSpec<string | undefined>,
  anthropicBaseUrl: {
    env: ['ANTHROPIC_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of the Anthropic API; unset means https://api.anthropic.com.',
  } satisfies SettingSpec<string | undefined>,
  moonshotApiKey: {
    env: ['MOONSHOT_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for Moonshot (Kimi), used through its Anthropic-compatible endpoint.',
  } satisfies SettingSpec<string | undefined>,
  moonshotBaseUrl: {
    env: ['MOONSHOT_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: "Base URL of Moonshot's Anthropic-compatible API; unset means https://api.moonshot.ai/anthropic.",
  } satisfies SettingSpec<string | undefined>,
  model: {
    flag: 'model',
    env: ['BERTH_MODEL'],
    schema: z.string().trim().min(1),
    default: 'deepseek-ai/DeepSeek-V3-0324',
    description:
      'Default model. `provider:model` pins a provider (chutes, openrouter, openai, anthropic, moonshot); ' +
      'a bare id goes by its shape and the keys set: claude-* to Anthropic, org/model to Chutes or OpenRouter, ' +
      'others to OPENAI_BASE_URL or Chutes.',
  } satisfies SettingSpec<string>,
  fallbackModels: {
    env: ['BERTH_FALLBACK_MODELS'],
    schema: z.string().transform((text) =>
      text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item.length > 0),
    ),
    default: [],
    description: 'Comma-separated models tried in order when the model fails (same syntax as BERTH_MODEL).',
  } satisfies SettingSpec<string[]>,
  toolCallMode: {
    env: ['BERTH_TOOL_CALL_MODE'],
    schema: z.enum(['native', 'json']),
    default: 'native',
    description:
      "How models call tools: `native` (the API's tool calling) or `json` (JSON in the text, for models without it).",
  } satisfies SettingSpec<'native' | 'json'>,
  llmTimeout: {
    env: ['BERTH_LLM_TIMEOUT'],
    schema: z.coerce.number().positive(),
    default: 300,
    description: 'Seconds one LLM call may take in all, retries and fallbacks included.',
  } satisfies SettingSpec<number>,
  llmMaxRetries: {
    env: ['BERTH_LLM_MAX_RETRIES'],
    schema: z.coerce.number().int().min(0).max(20),
    default: 3,
    description: 'Retries per model on 429, 5xx and connection errors before the next fallback model.',
  } satisfies SettingSpec<number>,
  llmRetryDelay: {
    env: ['BERTH_LLM_RETRY_DELAY_MS'],
    schema: z.coerce.number().int().min(0),
    default: 1000,
    description: 'Base of the exponential backoff (full jitter, capped at 30 s) between LLM retries, in ms.',
  } satisfies SettingSpec<number>,
  imageProvider: {
    env: ['BERTH_IMAGE_PROVIDER'],
    schema: z.enum(['auto', 'openai', 'chutes', 'off']),
    default: 'auto',
    description:
      'Image generation (generate_image_from_text): `openai`, `chutes` or `off`. `auto`: BERTH_IMAGE_API_KEY or BERTH_IMAGE_BASE_URL when set (OpenAI-compatible), ' +
      'else CHUTES_API_KEY (Chutes FLUX), else OPENAI_API_KEY (OpenAI); an LLM key counts only while its base URL is unset.',
  } satisfies SettingSpec<'auto' | 'openai' | 'chutes' | 'off'>,
  imageApiKey: {
    env: ['BERTH_IMAGE_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for the image service (see BERTH_IMAGE_PROVIDER).',
  } satisfies SettingSpec<string | undefined>,
  imageBaseUrl: {
    env: ['BERTH_IMAGE_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: "Base URL of the image service; set alone, a keyless compatible server. Unset: the provider's own.",
  } satisfies SettingSpec<string | undefined>,
  imageModel: {
    env: ['BERTH_IMAGE_MODEL'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description:
      'Model of the image service; unset: gpt-image-1 (OpenAI); for Chutes the base URL picks the model (FLUX.1 schnell).',
  } satisfies SettingSpec<string | undefined>,
  speechProvider: {
    env: ['BERTH_SPEECH_PROVIDER'],
    schema: z.enum(['auto', 'openai', 'off']),
    default: 'auto',
    description:
      'Speech (generate_audio_response): `openai` or `off`. `auto`: BERTH_SPEECH_API_KEY or BERTH_SPEECH_BASE_URL when set (OpenAI-compatible), ' +
      'else OPENAI_API_KEY while OPENAI_BASE_URL is unset.',
  } satisfies SettingSpec<'auto' | 'openai' | 'off'>,
  speechApiKey: {
    env: ['BERTH_SPEECH_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for the speech service (see BERTH_SPEECH_PROVIDER).',
  } satisfies SettingSpec<string | undefined>,
  speechBaseUrl: {
    env: ['BERTH_SPEECH_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: "Base URL of the speech service; set alone, a keyless compatible server. Unset: the provider's own.",
  } satisfies SettingSpec<string | undefined>,
  speechModel: {
    env: ['BERTH_SPEECH_MODEL'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description: 'Model of the speech service; unset: gpt-4o-mini-tts.',
  } satisfies SettingSpec<string | undefined>,
  transcriptionProvider: {
    env: ['BERTH_TRANSCRIPTION_PROVIDER'],
    schema: z.enum(['auto', 'openai', 'chutes', 'off']),
    default: 'auto',
    description:
      'Transcription (audio_transcribe, audio files, POST /api/transcribe): `openai`, `chutes` or `off`. `auto`: BERTH_TRANSCRIPTION_API_KEY or BERTH_TRANSCRIPTION_BASE_URL when set (OpenAI-compatible), ' +
      'else OPENAI_API_KEY (OpenAI), else CHUTES_API_KEY (Chutes Whisper); an LLM key counts only while its base URL is unset.',
  } satisfies SettingSpec<'auto' | 'openai' | 'chutes' | 'off'>,
  transcriptionApiKey: {
    env: ['BERTH_TRANSCRIPTION_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for the transcription service (see BERTH_TRANSCRIPTION_PROVIDER).',
  } satisfies SettingSpec<string | undefined>,
  transcriptionBaseUrl: {
    env: ['BERTH_TRANSCRIPTION_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      "Base URL of the transcription service; set alone, a keyless compatible server. Unset: the provider's own.",
  } satisfies SettingSpec<string | undefined>,
  transcriptionModel: {
    env: ['BERTH_TRANSCRIPTION_MODEL'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description:
      'Model of the transcription service; unset: gpt-4o-transcribe (OpenAI); for Chutes the base URL picks the model (Whisper large v3).',
  } satisfies SettingSpec<string | undefined>,
  videoProvider: {
    env: ['BERTH_VIDEO_PROVIDER'],
    schema: z.enum(['auto', 'openai', 'off']),
    default: 'auto',
    description:
      'Video generation (generate_video_from_text): `openai` or `off`. `auto`: BERTH_VIDEO_API_KEY or BERTH_VIDEO_BASE_URL when set (OpenAI-compatible), ' +
      "else OPENAI_API_KEY while OPENAI_BASE_URL is unset (OpenAI's video API, Sora).",
  } satisfies SettingSpec<'auto' | 'openai' | 'off'>,
  videoApiKey: {
    env: ['BERTH_VIDEO_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description: 'API key for the video service (see BERTH_VIDEO_PROVIDER).',
  } satisfies SettingSpec<string | undefined>,
  videoBaseUrl: {
    env: ['BERTH_VIDEO_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: "Base URL of the video service; set alone, a keyless compatible server. Unset: the provider's own.",
  } satisfies SettingSpec<string | undefined>,
  videoModel: {
    env: ['BERTH_VIDEO_MODEL'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description: 'Model of the video service; unset: sora-2.',
  } satisfies SettingSpec<string | undefined>,
  mediaTimeout: {
    env: ['BERTH_MEDIA_TIMEOUT'],
    schema: z.coerce.number().positive(),
    default: 180,
    description:
      'Seconds one image, speech or transcription request may take in all, retries included (they follow ' +
      'BERTH_LLM_MAX_RETRIES and BERTH_LLM_RETRY_DELAY_MS).',
  } satisfies SettingSpec<number>,
  videoTimeout: {
    env: ['BERTH_VIDEO_TIMEOUT'],
    schema: z.coerce.number().positive(),
    default: 900,
    description: 'Seconds one video generation may take in all, its job polled every few seconds.',
  } satisfies SettingSpec<number>,
  bashTimeout: {
    env: ['BERTH_BASH_TIMEOUT'],
    schema: z.coerce.number().positive().max(86_400),
    default: 120,
    description:
      'Seconds one agent shell command may run before its process group is killed (the model may ask for less or more).',
  } satisfies SettingSpec<number>,
  sandbox: {
    env: ['BERTH_SANDBOX'],
    schema: z.enum(['auto', 'bubblewrap', 'off']),
    default: 'auto',
    description:
      "Where the agent's shell runs: `bubblewrap` confines it to its session's workspace with the system read-only " +
      '(refusing to start without it), `auto` does so when bwrap works here and otherwise warns and uses the host, ' +
      '`off` always uses the host.',
  } satisfies SettingSpec<'auto' | 'bubblewrap' | 'off'>,
  sandboxReadOnly: {
    env: ['BERTH_SANDBOX_READONLY'],
    schema: z
      .string()
      .transform((text) =>
        text
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item.length > 0),
      )
      .pipe(
        z.array(
          z
            .string()
            .startsWith('/', 'each path must be absolute')
            .refine((item) => item.replace(/\/+$/, '') !== '', 'the whole file system (/) would defeat the sandbox'),
        ),
      ),
    default: [],
    description:
      'Comma-separated absolute paths the sandboxed shell may also read, e.g. a toolchain outside /usr (/opt/node,/root/.nvm); the data root stays hidden even inside one.',
  } satisfies SettingSpec<string[]>,
  contextManager: {
    env: ['BERTH_CONTEXT_MANAGER'],
    schema: z.enum(['file-based', 'standard']),
    default: 'file-based',
    description:
      'How old tool output leaves the context over budget: `file-based` saves it to agent_memory/ and leaves a pointer, ' +
      '`standard` drops it.',
  } satisfies SettingSpec<'file-based' | 'standard'>,
  contextTokens: {
    env: ['BERTH_CONTEXT_TOKENS'],
    schema: z.coerce.number().int().min(1000),
    default: 120_000,
    description:
      'Token budget of the history sent to the model (estimated as characters / 4) before old turns are trimmed.',
  } satisfies SettingSpec<number>,
  tavilyApiKey: {
    env: ['TAVILY_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description:
      'API key for Tavily: web_search and visit_webpage use it first when several keys are set (without any key ' +
      'they use DuckDuckGo and a plain fetch).',
  } satisfies SettingSpec<string | undefined>,
  tavilyBaseUrl: {
    env: ['TAVILY_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of the Tavily API; unset means https://api.tavily.com.',
  } satisfies SettingSpec<string | undefined>,
  jinaApiKey: {
    env: ['JINA_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description:
      'API key for Jina (search through s.jina.ai, pages through r.jina.ai) for the web tools, after Tavily.',
  } satisfies SettingSpec<string | undefined>,
  jinaSearchBaseUrl: {
    env: ['JINA_SEARCH_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of Jina search; unset means https://s.jina.ai.',
  } satisfies SettingSpec<string | undefined>,
  jinaReaderBaseUrl: {
    env: ['JINA_READER_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of the Jina reader; unset means https://r.jina.ai.',
  } satisfies SettingSpec<string | undefined>,
  serperApiKey: {
    env: ['SERPER_API_KEY', 'SERPERDEV_API_KEY'],
    schema: optionalSecret,
    default: undefined,
    description:
      'API key for Serper (google.serper.dev, scrape.serper.dev) for the web tools, after Tavily and Jina; ' +
      'it also enables image_search.',
  } satisfies SettingSpec<string | undefined>,
  serperBaseUrl: {
    env: ['SERPER_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of Serper search; unset means https://google.serper.dev.',
  } satisfies SettingSpec<string | undefined>,
  serperScrapeBaseUrl: {
    env: ['SERPER_SCRAPE_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description: 'Base URL of the Serper scraper; unset means https://scrape.serper.dev.',
  } satisfies SettingSpec<string | undefined>,
  duckDuckGoBaseUrl: {
    env: ['BERTH_DUCKDUCKGO_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      "Base URL of the keyless search (DuckDuckGo's HTML endpoint) that web_search uses without a key, or when " +
      'the keyed provider fails; unset means https://html.duckduckgo.com.',
  } satisfies SettingSpec<string | undefined>,
  arxivBaseUrl: {
    env: ['BERTH_ARXIV_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      'Where visit_webpage reads arxiv.org/abs/<id> pages, as <base>/html/<id>; unset means https://arxiv.org.',
  } satisfies SettingSpec<string | undefined>,
  youtubeBaseUrl: {
    env: ['BERTH_YOUTUBE_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      'Where youtube_video_transcript sends its www.youtube.com requests; unset means https://www.youtube.com.',
  } satisfies SettingSpec<string | undefined>,
  webAllowPrivate: {
    env: ['BERTH_WEB_ALLOW_PRIVATE'],
    schema: z.stringbool(),
    default: false,
    description:
      "Let visit_webpage's plain fetch and the browser tools reach loopback, private and link-local addresses (berth's own API, " +
      'cloud metadata, the LAN). Off: only public addresses, checked when connecting and on every redirect.',
  } satisfies SettingSpec<boolean>,
  webTimeout: {
    env: ['BERTH_WEB_TIMEOUT'],
    schema: z.coerce.number().positive(),
    default: 20,
    description: 'Seconds one keyless web request (DuckDuckGo, a page, a transcript) may take.',
  } satisfies SettingSpec<number>,
  webMaxBytes: {
    env: ['BERTH_WEB_MAX_BYTES'],
    schema: byteSize.refine((value) => value !== null, 'give a size, e.g. 5MiB'),
    default: 5 * 1024 * 1024,
    description: 'The most a keyless page fetch downloads; a longer page is cut there, with a note.',
  } satisfies SettingSpec<number | null>,
  browserPath: {
    env: ['BERTH_BROWSER_PATH'],
    schema: z.string().min(1),
    default: '/usr/bin/chromium',
    description:
      'Chromium executable for the browser_* tools (Debian: apt-get install chromium); the tools are offered only ' +
      'when this file exists.',
  } satisfies SettingSpec<string>,
  browserMaxSessions: {
    env: ['BERTH_BROWSER_MAX_SESSIONS'],
    schema: z.coerce.number().int().min(1),
    default: 4,
    description:
      'Sessions that may hold a browser at once (one chromium, one isolated context each); one more gets a tool error.',
  } satisfies SettingSpec<number>,
  browserIdle: {
    env: ['BERTH_BROWSER_IDLE'],
    schema: z.coerce.number().positive(),
    default: 300,
    description: "Seconds a session's browser stays open after its last browser_* call.",
  } satisfies SettingSpec<number>,
  browserTimeout: {
    env: ['BERTH_BROWSER_TIMEOUT'],
    schema: z.coerce.number().positive(),
    default: 30,
    description: 'Seconds browser_navigation waits for a page to load before it reports a timeout.',
  } satisfies SettingSpec<number>,
  authToken: {
    env: ['BERTH_AUTH_TOKEN'],
    schema: z.string().trim().min(16, 'use at least 16 characters').optional(),
    default: undefined,
    description:
      'Server-wide token for public deployments: every API call and the WebSocket need it (bearer header, ' +
      'berth_token cookie via /login?token=…, or ?token=); share pages and deployed sites stay public.',
  } satisfies SettingSpec<string | undefined>,
  uploadLimit: {
    flag: 'uploadLimit',
    env: ['BERTH_UPLOAD_LIMIT'],
    schema: byteSize,
    default: 100 * 1024 ** 2,
    description: 'Largest single upload (e.g. 100MB; 0 for no limit beyond the workspace quota).',
  } satisfies SettingSpec<number | null>,
  staticBaseUrl: {
    env: ['STATIC_BASE_URL', 'BERTH_STATIC_BASE_URL'],
    schema: z.url().optional(),
    default: undefined,
    description:
      'Separate origin for deployed sites (e.g. https://sites.example.com pointing at the same server); ' +
      'unset: sites are served from the main origin under /workspace/, sandboxed by CSP.',
  } satisfies SettingSpec<string | undefined>,
  iiAgentCompat: {
    env: ['BERTH_II_AGENT_COMPAT'],
    schema: z.stringbool(),
    default: false,
    description:
      'Compatibility switch for an old ii-agent frontend on another origin: read and write a session by its id ' +
      'alone, as the reference does. Insecure on a public server; off by default.',
  } satisfies SettingSpec<boolean>,
  corsOrigins: {
    env: ['BERTH_CORS_ORIGINS'],
    schema: corsOriginList,
    default: [],
    description:
      'Comma-separated origins whose pages may call the API (e.g. an ii-agent frontend at https://ui.example.com); ' +
      'they may send cookies. `*` lets any origin call it without credentials. `null` (sandboxed pages) is never allowed.',
  } satisfies SettingSpec<string[]>,
  enableTerminal: {
    env: ['BERTH_ENABLE_TERMINAL'],
    schema: z.stringbool(),
    default: false,
    description: "Allow the WebSocket's terminal_command (runs shell commands in the session's workspace).",
  } satisfies SettingSpec<boolean>,
  maintenanceMessage: {
    env: ['BERTH_MAINTENANCE_MESSAGE'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description:
      'Banner text for `GET /api/maintenance_message`; unset: the text of `<root>/maintenance.txt` when that ' +
      'file exists (read on every request, so it can be changed without a restart).',
  } satisfies SettingSpec<string | undefined>,
  hfToken: {
    env: ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'],
    schema: optionalSecret,
    default: undefined,
    description: 'Hugging Face token for `berth eval gaia --from-hub` (GAIA is gated: accept its terms first).',
  } satisfies SettingSpec<string | undefined>,
  hfEndpoint: {
    env: ['HF_ENDPOINT'],
    schema: z.url(),
    default: 'https://huggingface.co',
    description: 'Base URL of the Hugging Face hub (a mirror, or a local server in tests), as huggingface_hub reads.',
  } satisfies SettingSpec<string>,
  gaiaDataset: {
    env: ['BERTH_GAIA_DATASET'],
    schema: z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'write owner/name, e.g. gaia-benchmark/GAIA'),
    default: 'gaia-benchmark/GAIA',
    description: 'Hub dataset that `berth eval gaia --from-hub` downloads.',
  } satisfies SettingSpec<string>,
  gaiaRevision: {
    env: ['BERTH_GAIA_REVISION'],
    schema: z.string().trim().min(1),
    default: 'main',
    description: 'Branch, tag or commit of that dataset to download.',
  } satisfies SettingSpec<string>,
  gaiaData: {
    env: ['BERTH_GAIA_DATA'],
    schema: z.string().trim().min(1).optional(),
    default: undefined,
    description:
      'GAIA dataset folder the server runs (the `/eval` page, `POST /api/gaia/run`); unset: ' +
      '`<root>/eval/hub/<BERTH_GAIA_DATASET>`, where `berth eval gaia --from-hub` puts it. ' +
      'Missing and HF_TOKEN set: the server downloads it there.',
  } satisfies SettingSpec<string | undefined>,
} as const

export type SettingName = keyof typeof SETTINGS
