import { readFile, stat } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { isBerthError } from '../../src/core/errors.js'
import { downloadHubSnapshot } from '../../src/eval/hub-snapshot.js'
import { runBerth } from '../helpers/berth-process.js'
import { startScriptedOpenAi } from '../helpers/scripted-llm/scripted-openai.js'
import type { ScriptedLlm } from '../helpers/scripted-llm/scripted-server.js'
import { tempDir } from '../helpers/temp-dir.js'
import { evalEnv, readResults } from './fixtures.js'

const SHA = '0123456789abcdef0123456789abcdef01234567'
const TOKEN = 'hf_test_token'
const metadata = `${[
  { task_id: 'h1', Question: 'Two plus two?', Level: 1, 'Final answer': '4', file_name: '' },
  { task_id: 'h2', Question: 'Which bird?', Level: 2, 'Final answer': 'gull', file_name: 'my bird.txt' },
]
  .map((row) => JSON.stringify(row))
  .join('\n')}\n`

/** A stand-in for the Hugging Face hub: the two routes snapshot_download uses, gated by a token. */
interface FakeHub {
  url: string
  requests: { path: string; auth: string | undefined }[]
  siblings: { rfilename: string; size?: number }[]
  close(): Promise<void>
}

async function startHub(files: Record<string, string>): Promise<FakeHub> {
  const requests: FakeHub['requests'] = []
  const siblings = Object.entries(files).map(([name, text]) => ({ rfilename: name, size: Buffer.byteLength(text) }))
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub')
    requests.push({ path: decodeURIComponent(url.pathname), auth: req.headers.authorization })
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'Access to dataset gaia-benchmark/GAIA is restricted.' }))
      return
    }
    if (url.pathname === '/api/datasets/gaia-benchmark/GAIA/revision/main') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ id: 'gaia-benchmark/GAIA', sha: SHA, siblings }))
      return
    }
    const prefix = `/datasets/gaia-benchmark/GAIA/resolve/${SHA}/`
    // Large files are redirected to a CDN on the real hub; do the same for one path.
    if (url.pathname.startsWith('/cdn/')) {
      res.end(files[decodeURIComponent(url.pathname.slice('/cdn/'.length))])
      return
    }
    const name = decodeURIComponent(url.pathname.slice(prefix.length))
    if (url.pathname.startsWith(prefix) && name in files) {
      if (name.endsWith('.txt')) {
        res.writeHead(302, { location: `/cdn/${encodeURIComponent(name)}` })
        res.end()
        return
      }
      res.end(files[name])
      return
    }
    res.writeHead(404)
    res.end('not found')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    siblings,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

const FILES = {
  '2023/validation/metadata.jsonl': metadata,
  '2023/validation/my bird.txt': 'a gull\n',
  '2023/test/metadata.jsonl': '{}\n',
  'README.md': '# GAIA\n',
}

let hub: FakeHub | undefined
let llm: ScriptedLlm | undefined
afterEach(async () => {
  await hub?.close()
  await llm?.close()
  hub = undefined
  llm = undefined
})

describe('GAIA from the hub', () => {
  it('downloads only the split asked for, pinned to the commit, and skips files already there', async () => {
    hub = await startHub(FILES)
    const target = await tempDir()
    const options = {
      endpoint: `${hub.url}/`,
      repo: 'gaia-benchmark/GAIA',
      revision: 'main',
      token: TOKEN,
      include: (file: string) => file.startsWith('2023/validation/'),
      target,
    }
    const first = await downloadHubSnapshot(options)
    expect(first).toEqual({
      sha: SHA,
      files: ['2023/validation/metadata.jsonl', '2023/validation/my bird.txt'],
      downloaded: 2,
    })
    expect(await readFile(join(target, '2023', 'validation', 'my bird.txt'), 'utf8')).toBe('a gull\n')
    expect(await stat(join(target, '2023', 'test')).catch(() => null)).toBeNull()
    expect(hub.requests.map((r) => r.path)).toContain(
      `/datasets/gaia-benchmark/GAIA/resolve/${SHA}/2023/validation/my bird.txt`,
    )
    expect(hub.requests.every((r) => r.path.startsWith('/cdn/') || r.auth === `Bearer ${TOKEN}`)).toBe(true)

    expect((await downloadHubSnapshot(options)).downloaded).toBe(0)
  })

  it('explains a refusal (gated dataset, no token) and refuses file names that leave the folder', async () => {
    hub = await startHub(FILES)
    const target = await tempDir()
    const base = { endpoint: hub.url, repo: 'gaia-benchmark/GAIA', revision: 'main', include: () => true, target }
    const refused = await downloadHubSnapshot({ ...base, token: undefined }).catch((e: unknown) => e)
    expect(isBerthError(refused, 'EVAL_HUB_FAILED')).toBe(true)
    expect(String((refused as Error).message)).toMatch(/401.*gated.*HF_TOKEN is not set/)

    hub.siblings.push({ rfilename: '../escape.txt', size: 1 })
    const hostile = await downloadHubSnapshot({ ...base, token: TOKEN }).catch((e: unknown) => e)
    expect(String((hostile as Error).message)).toContain('"../escape.txt"')
    expect(await stat(join(target, '..', 'escape.txt')).catch(() => null)).toBeNull()

    const offline = await downloadHubSnapshot({ ...base, endpoint: 'http://127.0.0.1:1', token: TOKEN }).catch(
      (e: unknown) => e,
    )
    expect(String((offline as Error).message)).toContain('Could not reach the Hugging Face hub')
  })

  it('berth eval gaia --from-hub fetches the split into the data root and runs it', async () => {
    hub = await startHub(FILES)
    llm = await startScriptedOpenAi()
    llm.setFallback({ text: 'FINAL ANSWER: 4' })
    const root = await tempDir()
    const env = evalEnv(root, llm.url, { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN })
    const run = await runBerth(['eval', 'gaia', '--from-hub', '--run-name', 'hub'], { cwd: root, env })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toContain(`at commit ${SHA}`)
    const dir = join(root, 'eval', 'hub', 'gaia-benchmark', 'GAIA', '2023', 'validation')
    expect(await readFile(join(dir, 'metadata.jsonl'), 'utf8')).toBe(metadata)
    const results = await readResults(root, 'hub')
    expect(results.map((r) => [r.task_id, r.correct]).sort()).toEqual([
      ['h1', true],
      ['h2', false],
    ])
    const bird = results.find((r) => r.task_id === 'h2')
    expect(
      await readFile(join(root, 'workspace', bird?.session_id ?? '', 'uploaded_files', 'my bird.txt'), 'utf8'),
    ).toBe('a gull\n')
  })
})
