/**
 * The parse thread's entry (started by `parse-thread.ts`): parses one
 * document and posts the text, or the BerthError, back.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { BerthError } from '../../core/errors.js'
import { type ParseJob, parseDocument } from './parse.js'
import type { ParseMessage } from './parse-thread.js'

const port = parentPort
if (!port) throw new Error('parse-worker.ts runs as a worker thread')
const send = (message: ParseMessage) => port.postMessage(message)

parseDocument(workerData as ParseJob).then(
  (text) => send({ ok: true, text }),
  (error: unknown) =>
    send({
      ok: false,
      error:
        error instanceof BerthError
          ? { code: error.code, message: error.message, details: error.details }
          : { message: error instanceof Error ? error.message : String(error) },
    }),
)
