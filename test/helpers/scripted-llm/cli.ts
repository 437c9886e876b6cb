/**
 * A scripted LLM server as its own process, for tests that run berth as a
 * separate process (browser, redeploy). Prints its base URL as the first line
 * on stdout and serves until SIGTERM or SIGINT.
 *
 *   node --import tsx test/helpers/scripted-llm/cli.ts --script script.json [--protocol anthropic] [--port 0]
 *
 * The script is a JSON array of steps, or
 * `{ "protocol": "openai" | "anthropic", "steps": [...], "fallback": {...} }`.
 * More steps can be queued later with `POST <url>/__scripted/enqueue`
 * (origin, without `/v1`), and `GET /__scripted/requests` lists what arrived.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { startScriptedAnthropic } from './scripted-anthropic.js'
import { startScriptedOpenAi } from './scripted-openai.js'
import type { ScriptedStep } from './steps.js'

interface ScriptFile {
  protocol?: 'openai' | 'anthropic'
  steps?: ScriptedStep[]
  fallback?: ScriptedStep
}

const { values } = parseArgs({
  options: {
    script: { type: 'string' },
    protocol: { type: 'string' },
    port: { type: 'string', default: '0' },
  },
})

const parsed: ScriptFile | ScriptedStep[] = values.script ? JSON.parse(readFileSync(values.script, 'utf8')) : []
const script: ScriptFile = Array.isArray(parsed) ? { steps: parsed } : parsed
const protocol = values.protocol ?? script.protocol ?? 'openai'
if (protocol !== 'openai' && protocol !== 'anthropic') {
  process.stderr.write(`Unknown protocol ${protocol}: use openai or anthropic\n`)
  process.exit(2)
}
const start = protocol === 'anthropic' ? startScriptedAnthropic : startScriptedOpenAi
const llm = await start({ port: Number(values.port) })
llm.enqueue(...(script.steps ?? []))
if (script.fallback) llm.setFallback(script.fallback)
process.stdout.write(`${llm.url}\n`)

const stop = async (): Promise<void> => {
  await llm.close()
  process.exit(0)
}
process.on('SIGTERM', () => void stop())
process.on('SIGINT', () => void stop())
