import { readFile, stat } from 'node:fs/promises'
import type { Download, Response } from 'playwright-core'
import { isBerthError } from '../../core/errors.js'
import { formatBytes } from '../../core/format-bytes.js'
import { sanitizeFileName } from '../../workspace/file-names.js'
import { readDocument } from '../documents/read-document.js'
import type { ToolContext } from '../tool.js'
import type { RequestGuard } from './request-guard.js'

export interface DownloadLimits {
  /** Largest file kept in the workspace. */
  maxBytes: number
  /** A PDF's text shown in the step's result. */
  textChars: number
  /** For fetching a PDF shown as a page once more. */
  timeoutMs: number
}

/**
 * A file the browser downloaded (a link to an attachment, an address that
 * is one): kept under downloads/ through the workspace's one door, with a
 * note for the step's result. Playwright's temporary copy is removed.
 */
export async function keepDownload(download: Download, context: ToolContext, limits: DownloadLimits): Promise<string> {
  try {
    const file = await download.path()
    const size = (await stat(file)).size
    if (size > limits.maxBytes) {
      return `Downloaded ${download.url()} is ${formatBytes(size)}, over the ${formatBytes(limits.maxBytes)} kept; not saved.`
    }
    return await keep(download.url(), download.suggestedFilename(), await readFile(file), context, limits)
  } catch (error) {
    return `The download of ${download.url()} failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`
  } finally {
    await download.delete().catch(() => {})
  }
}

/**
 * A PDF opened as a page (chromium shows it in its viewer, as the
 * reference does): keep its bytes under downloads/ and read its text as
 * get_text_from_local_file does. The page's own body is the viewer, so the
 * file is fetched once more, with the context's cookies, from the final
 * address (checked by the guard again; no redirects followed). Null when
 * the response is not a PDF.
 */
export async function keepPdfResponse(
  response: Response,
  context: ToolContext,
  guard: RequestGuard | null,
  limits: DownloadLimits,
): Promise<string | null> {
  const type = (response.headers()['content-type'] ?? '').toLowerCase()
  if (!type.includes('application/pdf')) return null
  const url = response.url()
  const declared = Number(response.headers()['content-length'] ?? 0)
  if (declared > limits.maxBytes) {
    return `The PDF at ${url} is ${formatBytes(declared)}, over the ${formatBytes(limits.maxBytes)} kept; only shown.`
  }
  const verdict = await guard?.check(url)
  if (verdict) return verdict
  const fetched = await response
    .frame()
    .page()
    .context()
    .request.get(url, { maxRedirects: 0, timeout: limits.timeoutMs })
    .catch(() => null)
  const bytes = fetched?.ok() ? await fetched.body().catch(() => null) : null
  await fetched?.dispose().catch(() => {})
  if (bytes === null || bytes.byteLength > limits.maxBytes) {
    return `The PDF at ${url} is shown, but its file could not be kept.`
  }
  return keep(url, nameFromUrl(url, '.pdf'), bytes, context, limits)
}

/** Save into downloads/ through the workspace's one door, and read a PDF's text (capped). */
async function keep(
  url: string,
  suggested: string,
  bytes: Buffer,
  context: ToolContext,
  limits: DownloadLimits,
): Promise<string> {
  let name = sanitizeFileName(suggested)
  if (name === 'file') name = 'download'
  const relative = `downloads/${name}`
  await context.workspaces.writeFile(context.sessionId, relative, bytes)
  const saved = `Downloaded ${url} (${formatBytes(bytes.byteLength)}) to ${relative}.`
  if (bytes.subarray(0, 5).toString('latin1') !== '%PDF-') {
    return `${saved} Read it with get_text_from_local_file, or work on it with bash.`
  }
  try {
    const text = await readDocument(context, relative)
    const max = limits.textChars
    const shown =
      text.length > max
        ? `${text.slice(0, max)}\n[... cut at ${max} of ${text.length} characters; read the rest with pdf_text_extract]`
        : text
    return `${saved} Its text:\n${shown}`
  } catch (error) {
    if (!isBerthError(error)) throw error
    return `${saved} Its text could not be read: ${error.message}`
  }
}

function nameFromUrl(url: string, extension: string): string {
  let name = ''
  try {
    name = decodeURIComponent(new URL(url).pathname.split('/').at(-1) ?? '')
  } catch {}
  if (name === '') name = 'download'
  return name.toLowerCase().endsWith(extension) ? name : `${name}${extension}`
}
