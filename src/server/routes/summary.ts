import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { summarizeTask } from '../../agent/task-summary.js'
import { createLlm } from '../../llm/create-llm.js'
import type { ServerContext } from '../context.js'

const SUMMARY_TIMEOUT_MS = 30_000

const SummaryBody = z.object({
  message: z.string().trim().min(1, 'Message is required').max(20_000),
  /** Sent by the reference frontend; as in the reference, the summary always uses the configured model. */
  modelId: z.string().max(200).optional(),
})

/**
 * `POST /api/generate-summary` `{message, modelId}` → `{summary}`: the few
 * words the reference frontend titles a new session with (it then stores
 * them with `POST /api/sessions/:id/summary`). Unconfigured model: 503
 * `LLM_NOT_CONFIGURED`; a failing one: its `LlmError`; the frontend falls back
 * to "Task in progress" either way.
 */
export const summaryRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  app.post(
    '/api/generate-summary',
    { schema: { body: SummaryBody, tags: ['sessions'], summary: 'A 3–7 word title for a task' } },
    async (request, reply) => {
      const signal = AbortSignal.any([AbortSignal.timeout(SUMMARY_TIMEOUT_MS), closedSignal(reply.raw)])
      return { summary: await summarizeTask(createLlm(context.config), request.body.message, signal) }
    },
  )
}

/** Aborts when the connection closes before the answer (the response's `close`; the request's fires once its body is read). */
function closedSignal(raw: NodeJS.EventEmitter): AbortSignal {
  const controller = new AbortController()
  raw.once('close', () => controller.abort())
  return controller.signal
}
