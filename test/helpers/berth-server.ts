import { type BerthProcess, startServer } from './berth-process.js'
import { startScriptedOpenAi } from './scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from './scripted-llm/scripted-server.js'

export interface TestServer {
  server: BerthProcess & { url: string; port: number }
  llm: ScriptedLlm
  root: string
  wsUrl(query: Record<string, string | number>): string
  restart(env?: Record<string, string>): Promise<void>
  stop(): Promise<void>
}

/**
 * `berth serve` as a child process on `root`, its model a scripted
 * OpenAI-compatible server (Chutes preset pointed at it).
 */
export async function startTestServer(
  root: string,
  options: { env?: Record<string, string | undefined>; llm?: ScriptedLlm } = {},
): Promise<TestServer> {
  const llm = options.llm ?? (await startScriptedOpenAi())
  const env = {
    CHUTES_API_KEY: 'test-key',
    CHUTES_BASE_URL: llm.url,
    BERTH_LLM_RETRY_DELAY_MS: '1',
    BERTH_LLM_MAX_RETRIES: '1',
    BERTH_DATA_DIR: undefined,
    ...options.env,
  }
  const boot = () => startServer({ cwd: root, env, args: ['--data-dir', root] })
  const handle: TestServer = {
    server: await boot(),
    llm,
    root,
    wsUrl(query) {
      const params = new URLSearchParams(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, String(v)])))
      return `ws://127.0.0.1:${handle.server.port}/ws?${params}`
    },
    async restart(extraEnv) {
      await handle.server.stop()
      Object.assign(env, extraEnv)
      handle.server = await boot()
    },
    async stop() {
      await handle.server.stop()
      if (!options.llm) await llm.close()
    },
  }
  return handle
}
