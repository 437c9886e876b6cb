import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { ERROR_CATALOGUE, type ErrorCode, isBerthError } from '../core/errors.js'
import type { Logger } from '../logging/logger.js'

declare module 'fastify' {
  interface FastifyReply {
    /** The catalogue code a failed request was answered with, for the request log. */
    errorCode: ErrorCode | null
  }
}

/** The body of every error answer (see `sendError`). */
export interface ErrorBody {
  code: ErrorCode
  message: string
  /** The reference (FastAPI) answered `{detail}` and its frontend shows that field. */
  detail: string
  /** The reference's own routes answered `{error}`. */
  error: string
}

/**
 * Answer with a catalogue code: its bound status, and one body shape,
 * `{ code, message, detail, error }`, for every route.
 *
 * @example
 *   return sendError(reply, 'SESSION_NOT_FOUND', `No session ${id}`)
 */
export function sendError(reply: FastifyReply, code: ErrorCode, message?: string): FastifyReply {
  const text = message ?? ERROR_CATALOGUE[code].title
  reply.errorCode = code
  const body: ErrorBody = { code, message: text, detail: text, error: text }
  return reply.code(ERROR_CATALOGUE[code].status).send(body)
}

/** fastify's own failures (body parsing, limits, unknown content types) in catalogue codes. */
function codeForFastifyStatus(status: number): ErrorCode {
  if (status === 413) return 'PAYLOAD_TOO_LARGE'
  if (status === 415) return 'UNSUPPORTED_MEDIA_TYPE'
  if (status === 404) return 'NOT_FOUND'
  return 'INVALID_REQUEST'
}

/**
 * One error handler and one not-found handler for the whole app: a
 * `BerthError` is answered with its catalogue status; a failed schema is
 * `INVALID_REQUEST`; anything unexpected is logged and answered
 * `INTERNAL_ERROR` without its details.
 */
export function registerErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.decorateReply('errorCode', null)
  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (isBerthError(error)) return sendError(reply, error.code, error.message)
    const fastifyError = error as FastifyError
    if (fastifyError.validation) return sendError(reply, 'INVALID_REQUEST', `Invalid request: ${fastifyError.message}`)
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      return sendError(reply, codeForFastifyStatus(fastifyError.statusCode), error.message)
    }
    logger.error({ err: error, method: request.method, route: request.routeOptions.url }, 'request failed')
    return sendError(reply, 'INTERNAL_ERROR')
  })
  app.setNotFoundHandler((request, reply) =>
    sendError(reply, 'NOT_FOUND', `No route ${request.method} ${pathOf(request)}`),
  )
}

/** The path of a request without its query string, which may carry `?token=`. */
export function pathOf(request: FastifyRequest): string {
  const url = request.url
  const end = url.indexOf('?')
  return (end === -1 ? url : url.slice(0, end)).slice(0, 200)
}
