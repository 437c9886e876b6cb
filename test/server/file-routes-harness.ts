import { mkdir, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterEach } from 'vitest'
import type { RunManager } from '../../src/agent/runs.js'
import { loadConfig } from '../../src/config/config.js'
import { createLogger, type Logger } from '../../src/logging/logger.js'
import { prepareDataRoot } from '../../src/runtime/storage-report.js'
import type { ServerContext } from '../../src/server/context.js'
import { createServer } from '../../src/server/create-server.js'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { hostShell } from '../../src/tools/bash/sandbox.js'
import type { WorkspaceStorage } from '../../src/workspace/workspace-storage.js'
import { Workspaces } from '../../src/workspace/workspaces.js'
import { tempDir } from '../helpers/temp-dir.js'

export interface FileServer {
  url: string
  port: number
  root: string
  context: ServerContext
  app: FastifyInstance
  /** Create a session owned by `deviceId` with files (relative path -> content) in its workspace. */
  session(id: string, deviceId: string, files?: Record<string, string | Buffer>): Promise<string>
}

const open: FastifyInstance[] = []
const stores: SqliteStore[] = []

afterEach(async () => {
  for (const app of open.splice(0)) await app.close()
  for (const store of stores.splice(0)) await store.close()
})

/**
 * berth's real HTTP app on a temp data root, listening on a loopback port:
 * a real SqliteStore, Workspaces and their local WorkspaceStorage; `runs` is a stub (the file routes never use it).
 */
export async function startFileServer(
  env: Record<string, string> = {},
  options: {
    logger?: Logger
    /** Give the routes a workspace storage of their own (another root), so a route that still reached for `workspaces` would miss. */
    storage?: (quotaBytes: number | null) => Promise<WorkspaceStorage>
  } = {},
): Promise<FileServer> {
  const root = await tempDir('berth-files-')
  const config = loadConfig({ flags: { dataDir: root }, env, envFile: false })
  const storage = await prepareDataRoot({ dataDir: root, env: {} })
  const store = await SqliteStore.open({ file: storage.paths.database })
  stores.push(store)
  await mkdir(storage.paths.workspaces, { recursive: true })
  const workspaces = new Workspaces({ root: storage.paths.workspaces, quotaBytes: config.workspaceQuota })
  const runs = { isRunning: () => false } as unknown as RunManager
  const logger = options.logger ?? createLogger({ level: 'silent', terminal: false })
  const sandbox = hostShell('file route tests run no shell')
  const workspaceStorage = (await options.storage?.(config.workspaceQuota)) ?? workspaces.storage
  const context: ServerContext = { config, store, workspaces, workspaceStorage, storage, logger, runs, sandbox }
  const app = await createServer(context)
  open.push(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    root,
    context,
    app,
    async session(id, deviceId, files = {}) {
      await store.createSession({ id, workspaceDir: workspaces.dirFor(id), deviceId })
      const dir = await workspaces.create(id)
      for (const [relative, content] of Object.entries(files)) {
        await mkdir(join(dir, relative, '..'), { recursive: true })
        await writeFile(join(dir, relative), content)
      }
      return dir
    },
  }
}

export interface RawResponse {
  status: number
  headers: http.IncomingHttpHeaders
  body: Buffer
}

/** A request with the path sent byte for byte (fetch would normalise `..` and `%2e`). */
export function rawRequest(
  port: number,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: '127.0.0.1', port, method: options.method ?? 'GET', path: options.path, headers: options.headers },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
        )
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/** POST JSON with a device id (and optionally the server token). */
export async function postJson(
  server: FileServer,
  path: string,
  body: unknown,
  options: { device?: string; token?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (options.device) headers['x-device-id'] = options.device
  if (options.token) headers.authorization = `Bearer ${options.token}`
  return fetch(`${server.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) })
}

/** A response body as loosely typed JSON: the tests check it field by field. */
export const json = (response: Response): Promise<any> => response.json()
