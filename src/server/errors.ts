import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { isBerthError } from '../core/errors.js'
import type { Logger } from '../logging/logger.js'

/**
 * One error shape for every route: `{ code, message, detail }`. `detail`
 * repeats the message because the reference (FastAPI) answered `{detail}`
 * and its frontend shows that field.
 */
export function createErrorHandler(logger: Logger) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): void => {
    if (isBerthError(error)) {
      void reply.code(error.status).send({ code: error.code, message: error.message, detail: error.message })
      return
    }
    const fastifyError = error as FastifyError
    if (fastifyError.validation) {
      const message = `Invalid request: ${fastifyError.message}`
      void reply.code(400).send({ code: 'INVALID_REQUEST', message, detail: message })
      return
    }
    if (fastifyError.statusCode && fastifyError.statusCode < 500) {
      const code = fastifyError.statusCode === 413 ? 'PAYLOAD_TOO_LARGE' : 'INVALID_REQUEST'
      void reply.code(fastifyError.statusCode).send({ code, message: error.message, detail: error.message })
      return
    }
    logger.error({ err: error, url: request.url, method: request.method }, 'request failed')
    void reply
      .code(500)
      .send({ code: 'INTERNAL_ERROR', message: 'Internal server error', detail: 'Internal server error' })
  }
}
