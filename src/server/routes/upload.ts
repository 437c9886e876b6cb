import { pipeline, Readable } from 'node:stream'
import multipart from '@fastify/multipart'
import type { FastifyError, FastifyPluginAsync, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BerthError, isBerthError } from '../../core/errors.js'
import { byteCounter } from '../../workspace/atomic-write.js'
import { sanitizeFileName } from '../../workspace/file-names.js'
import { type WorkspaceKey, workspaceKey } from '../../workspace/workspace-storage.js'
import { sessionForWrite } from '../access.js'
import type { ServerContext } from '../context.js'
import { checkedSessionId } from '../files/workspace-access.js'

const UploadJsonBody = z.object({
  session_id: z.string().min(1).max(128),
  file: z.object({
    path: z.string().min(1).max(4096).describe('The file name; folders and absolute paths are cut to the basename.'),
    content: z.string().describe('A `data:<type>;base64,` URL (decoded to bytes) or plain UTF-8 text.'),
  }),
})
const SavedFile = z.object({
  path: z.string().describe('`/uploaded_files/<name>`, the name the file was saved under.'),
  saved_path: z.string().describe('Relative to the workspace: `uploaded_files/<name>`.'),
})
const UploadJsonReply = z.object({ message: z.string(), file: SavedFile })
const UploadMultipartReply = z.object({
  message: z.string(),
  files: z.array(SavedFile.extend({ size: z.number().int() })),
})

const UPLOAD_DIR = 'uploaded_files'
const MESSAGE = 'File uploaded successfully'
/** The JSON form holds the whole body in memory, so it has a ceiling even with no upload limit set. */
const JSON_FORM_CEILING = 512 * 1024 * 1024

/**
 * `POST /api/upload` in two forms. The reference's JSON form,
 * `{session_id, file: {path, content}}`, for the ii-agent frontend; and a
 * streaming multipart form (`session_id` field first, then `file` parts),
 * written to the workspace storage as it arrives. Files land in `uploaded_files/` under a
 * sanitised, free name. A session id that does not exist yet is created for
 * the requester's device; an existing one must belong to it (or the token).
 */
export const uploadRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { config } = context
  const limit = config.uploadLimit
  await app.register(multipart, {
    limits: {
      fileSize: limit === null ? Number.POSITIVE_INFINITY : limit + 1,
      files: 100,
      fields: 10,
      fieldSize: 4096,
    },
  })
  // Turn fastify's and multipart's terse limit errors into berth's own, then let the app's handler answer.
  app.setErrorHandler((error: FastifyError) => {
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || error.code === 'FST_REQ_FILE_TOO_LARGE') {
      throw tooLarge(limit, null)
    }
    throw error
  })

  app.post(
    '/api/upload',
    {
      bodyLimit: base64Length(Math.min(limit ?? JSON_FORM_CEILING, JSON_FORM_CEILING)) + 64 * 1024,
      schema: {
        tags: ['files'],
        summary: 'Upload files into a session workspace (JSON/base64 or streaming multipart)',
        description:
          'JSON: `{session_id, file:{path, content}}` answers `{message, file}`. Multipart: a `session_id` field, then ' +
          'one or more `file` parts, answers `{message, files}`. Limits: BERTH_UPLOAD_LIMIT per file, the workspace quota.',
        // The JSON form; a multipart body is streamed (request.body stays unset) and checked part by part.
        body: UploadJsonBody.nullish(),
        response: { 200: z.union([UploadJsonReply, UploadMultipartReply]) },
      },
    },
    async (request) => {
      if (request.isMultipart()) return { message: MESSAGE, files: await saveMultipart(context, request) }
      if (request.body == null) throw new BerthError('INVALID_REQUEST', 'Send a JSON body or a multipart form.')
      const { session_id: sessionId, file } = request.body
      const target = await uploadTarget(context, request, sessionId)
      const bytes = decodeContent(file.content)
      const saved = await saveInto(context, target, file.path, bytes)
      return { message: MESSAGE, file: { path: saved.path, saved_path: saved.saved_path } }
    },
  )
}

interface UploadTarget {
  sessionId: string
  key: WorkspaceKey
}

/** Check access (creating the session for this device when new) and make sure its workspace exists. */
async function uploadTarget(context: ServerContext, request: FastifyRequest, rawId: string): Promise<UploadTarget> {
  const { store, workspaces, workspaceStorage: storage } = context
  const sessionId = checkedSessionId(rawId)
  const { requester } = request
  if ((await store.getSession(sessionId)) === null) {
    // The reference frontend names no device: under compat, the device that opened a live socket for this id.
    const deviceId =
      requester.deviceId ?? (context.config.iiAgentCompat ? request.server.openSessions.deviceOf(sessionId) : null)
    if (deviceId == null) {
      throw new BerthError(
        'INVALID_REQUEST',
        'A new session needs a device id: send the device_id cookie or an X-Device-Id header.',
      )
    }
    try {
      await store.createSession({ id: sessionId, workspaceDir: workspaces.dirFor(sessionId), deviceId })
    } catch (error) {
      if (!isBerthError(error, 'SESSION_EXISTS')) throw error // created by a request racing this one: check it below
    }
  }
  const session = await sessionForWrite(context, requester, sessionId)
  const key = await workspaceKey(storage, session)
  if (!(await storage.exists(key))) await storage.create(key)
  return { sessionId, key }
}

/**
 * Stream one file into `uploaded_files/` under a free version of its
 * sanitised name, within the upload limit; the storage refuses it once it
 * passes the room left in the workspace (`WORKSPACE_QUOTA_EXCEEDED`).
 */
async function saveInto(
  context: ServerContext,
  target: UploadTarget,
  wantedName: string,
  source: Readable | Buffer,
): Promise<{ path: string; saved_path: string; size: number }> {
  const limit = context.config.uploadLimit
  const input = Buffer.isBuffer(source) ? Readable.from([source]) : source
  const counter = byteCounter({ maxBytes: limit, tooLarge: () => tooLarge(limit, wantedName) })
  const limited = pipeline(input, counter, () => {}) // an error destroys `counter`, and so fails the write
  const entry = await context.workspaceStorage.write(
    target.key,
    `${UPLOAD_DIR}/${sanitizeFileName(wantedName)}`,
    limited,
    { freeName: true },
  )
  return { path: `/${entry.path}`, saved_path: entry.path, size: entry.size }
}

/** Multipart: the `session_id` field must come before the files, so each file streams straight to its place. */
async function saveMultipart(context: ServerContext, request: FastifyRequest) {
  let target: UploadTarget | null = null
  const files: { path: string; saved_path: string; size: number }[] = []
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.fieldname === 'session_id' && target === null) {
        target = await uploadTarget(context, request, String(part.value))
      }
      continue
    }
    if (target === null) {
      part.file.resume() // drain it so the request can finish
      throw new BerthError('INVALID_REQUEST', 'Send the session_id field before the files in a multipart upload.')
    }
    files.push(await saveInto(context, target, part.filename || 'file', part.file))
  }
  if (target === null) throw new BerthError('INVALID_REQUEST', 'A multipart upload needs a session_id field.')
  if (files.length === 0) throw new BerthError('INVALID_REQUEST', 'A multipart upload needs at least one file part.')
  return files
}

const DATA_URL = /^data:([^,]*?);base64,/i

/** The reference frontend sends `readAsDataURL` output; anything else is taken as UTF-8 text. */
function decodeContent(content: string): Buffer {
  const match = DATA_URL.exec(content.slice(0, 256))
  if (match === null) return Buffer.from(content, 'utf8')
  return Buffer.from(content.slice(match[0].length), 'base64')
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4
}

function tooLarge(limit: number | null, name: string | null): BerthError {
  const what = name === null ? 'The upload' : `The file ${JSON.stringify(name)}`
  const message =
    limit === null
      ? `${what} is too large for the JSON upload form; send it as multipart/form-data instead.`
      : `${what} is larger than the upload limit of ${limit} bytes. Raise it with BERTH_UPLOAD_LIMIT (or --upload-limit).`
  return new BerthError('PAYLOAD_TOO_LARGE', message, { details: { limitBytes: limit } })
}
