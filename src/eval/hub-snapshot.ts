import { createWriteStream } from 'node:fs'
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import { BerthError, isBerthError } from '../core/errors.js'
import { writeFileAtomic } from '../workspace/atomic-write.js'
import { normalizeRelativePath } from '../workspace/containment.js'

export interface HubSnapshotOptions {
  /** `https://huggingface.co`, or a mirror (HF_ENDPOINT). */
  endpoint: string
  /** `owner/name` of a dataset repository. */
  repo: string
  revision: string
  token?: string | undefined
  /** Which files of the repository to fetch (`2023/validation/…`). */
  include(file: string): boolean
  /** Folder the files land in, under their repository paths. */
  target: string
  onFile?(file: string, index: number, total: number): void
}

export interface HubSnapshot {
  /** The commit the files come from. */
  sha: string
  files: string[]
  /** How many were fetched (the others were already there with the right size). */
  downloaded: number
}

interface Sibling {
  rfilename: string
  size?: number
  lfs?: { size?: number }
}

/** Written into the target once every file is there: the commit the folder holds. */
export const SNAPSHOT_NOTE = '.berth-hub-snapshot.json'

/**
 * Download part of a dataset repository from the Hugging Face hub the way
 * `huggingface_hub.snapshot_download` does: the revision's file list from
 * `/api/datasets/<repo>/revision/<rev>`, then each file from
 * `/datasets/<repo>/resolve/<sha>/<path>`, pinned to one commit. Files
 * already present with the right size are kept; each new file is written to
 * a temporary name and renamed, so an interrupted download never leaves a
 * half file under the real name. Hub file names pass the containment check.
 *
 * @example
 *   await downloadHubSnapshot({ endpoint: 'https://huggingface.co', repo: 'gaia-benchmark/GAIA', revision: 'main',
 *     token: process.env.HF_TOKEN, include: (f) => f.startsWith('2023/validation/'), target: '/var/data/eval/hub/GAIA' })
 */
export async function downloadHubSnapshot(options: HubSnapshotOptions): Promise<HubSnapshot> {
  const base = options.endpoint.replace(/\/+$/, '')
  const headers: Record<string, string> = { 'user-agent': 'berth-eval' }
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`
  const infoUrl = `${base}/api/datasets/${options.repo}/revision/${encodeURIComponent(options.revision)}?blobs=true`
  const info = await fetchOk(infoUrl, headers, options)
  const body = (await info.json()) as { sha?: unknown; siblings?: unknown }
  if (typeof body.sha !== 'string' || !Array.isArray(body.siblings)) {
    throw hubError(`The hub's answer for ${options.repo}@${options.revision} has no file list (${infoUrl}).`)
  }
  const sha = body.sha
  const wanted = (body.siblings as Sibling[]).filter(
    (sibling) => typeof sibling?.rfilename === 'string' && options.include(sibling.rfilename),
  )
  if (wanted.length === 0) throw hubError(`${options.repo}@${options.revision} has none of the files asked for.`)
  await mkdir(options.target, { recursive: true })
  let downloaded = 0
  for (const [index, sibling] of wanted.entries()) {
    const relative = contained(sibling.rfilename)
    const file = path.join(options.target, relative)
    options.onFile?.(relative, index, wanted.length)
    const size = sibling.lfs?.size ?? sibling.size
    const present = await stat(file).catch(() => null)
    if (present?.isFile() && size !== undefined && present.size === size) continue
    const url = `${base}/datasets/${options.repo}/resolve/${sha}/${relative.split('/').map(encodeURIComponent).join('/')}`
    await mkdir(path.dirname(file), { recursive: true })
    await fetchToFile(url, headers, file, options)
    downloaded++
  }
  const files = wanted.map((sibling) => sibling.rfilename)
  await writeFileAtomic(
    path.join(options.target, SNAPSHOT_NOTE),
    `${JSON.stringify({ repo: options.repo, revision: options.revision, sha, files, at: new Date().toISOString() }, null, 2)}\n`,
  )
  return { sha, files, downloaded }
}

async function fetchOk(url: string, headers: Record<string, string>, options: HubSnapshotOptions): Promise<Response> {
  let response: Response
  try {
    response = await fetch(url, { headers, redirect: 'follow' })
  } catch (error) {
    throw hubError(
      `Could not reach the Hugging Face hub at ${options.endpoint} (${error instanceof Error ? error.message : String(error)}). ` +
        'Is this machine online? Otherwise download the dataset elsewhere and pass its folder with --data.',
      error,
    )
  }
  if (response.ok) return response
  await response.body?.cancel()
  if (response.status === 401 || response.status === 403) {
    throw hubError(
      `The hub refused ${url} (${response.status}). ${options.repo} is gated: accept its terms on ` +
        `${options.endpoint}/datasets/${options.repo} with your account, then set HF_TOKEN to a token of that account.` +
        (options.token === undefined ? ' HF_TOKEN is not set.' : ''),
    )
  }
  if (response.status === 404) {
    throw hubError(`The hub has no ${url} (404): check BERTH_GAIA_DATASET and BERTH_GAIA_REVISION.`)
  }
  throw hubError(`The hub answered ${response.status} for ${url}.`)
}

async function fetchToFile(
  url: string,
  headers: Record<string, string>,
  file: string,
  options: HubSnapshotOptions,
): Promise<void> {
  const response = await fetchOk(url, headers, options)
  if (response.body === null) throw hubError(`The hub sent no content for ${url}.`)
  const temp = `${file}.berth-download`
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>), createWriteStream(temp))
    const handle = await open(temp, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
  } catch (error) {
    await unlink(temp).catch(() => {})
    if (isBerthError(error)) throw error
    throw hubError(`Downloading ${url} failed: ${error instanceof Error ? error.message : String(error)}`, error)
  }
}

function contained(name: string): string {
  try {
    return normalizeRelativePath(name)
  } catch (error) {
    throw hubError(`The hub listed a file name berth will not write: ${JSON.stringify(name)}.`, error)
  }
}

function hubError(message: string, cause?: unknown): BerthError {
  return new BerthError('EVAL_HUB_FAILED', message, { ...(cause === undefined ? {} : { cause }) })
}
