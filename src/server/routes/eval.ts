import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { BerthError, ERROR_CATALOGUE, isBerthError, isErrorCode } from '../../core/errors.js'
import { runLabel } from '../../eval/eval-run-files.js'
import { EvalService } from '../../eval/eval-service.js'
import { referenceSummary } from '../../eval/eval-views.js'
import { EVAL_DEVICE_ID } from '../../eval/gaia-runner.js'
import { publicBaseUrl } from '../base-url.js'
import type { ServerContext } from '../context.js'
import { isShareActive, presentShare } from '../presenters.js'
import { newShareToken } from './shares.js'

/** As src/eval/eval-run-files.ts allows run names; the reference's prefix leaves room for its suffix. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const Split = z.enum(['validation', 'test'])
const ModelId = z.string().trim().min(1).max(200)

/** The reference's body, plus `wait` (false: answer at once with the run name) and `concurrency`. */
const GaiaRunBody = z.object({
  set_to_run: Split.default('validation'),
  /** A prefix: the run is named `<run_name>-<8 hex>`, a new run each time, as in the reference. */
  run_name: z.string().regex(NAME).max(90).default('api-run'),
  max_tasks: z.number().int().min(1).max(10_000).default(5),
  model_id: ModelId.nullish(),
  model_provider: z.string().trim().min(1).max(40).nullish(),
  wait: z.boolean().default(true),
  concurrency: z.number().int().min(1).max(16).default(2),
})
const StartBody = z.object({
  /** The exact name: starting a run that exists resumes it (finished tasks are skipped). */
  run_name: z.string().regex(NAME).max(100),
  split: Split.default('validation'),
  max_tasks: z.number().int().min(1).max(10_000).optional(),
  task_ids: z.array(z.string().min(1).max(200)).min(1).max(10_000).optional(),
  model_id: ModelId.optional(),
  concurrency: z.number().int().min(1).max(16).default(2),
  max_turns: z.number().int().min(1).max(1000).optional(),
  retry_errors: z.boolean().optional(),
})
const RunParams = z.object({ name: z.string().regex(NAME).max(100) })
const SessionParams = RunParams.extend({ session_id: z.string().min(1).max(128) })

/**
 * GAIA from the server: the reference's `POST /api/gaia/run` and berth's
 * `/api/eval/runs` (start, list, detail, stop, replay link). Runs execute
 * in this process (src/eval/eval-service.ts). These routes spend model
 * credit and run code: with BERTH_AUTH_TOKEN set the auth hook asks for the
 * token as on every /api route; without one the server is single-user.
 */
export const evalRoutes: FastifyPluginAsync<{ context: ServerContext }> = async (plugin, { context }) => {
  const app = plugin.withTypeProvider<ZodTypeProvider>()
  const { store, config } = context
  const service = new EvalService({
    config,
    root: context.storage.paths.root,
    store,
    workspaces: context.workspaces,
    workspaceStorage: context.workspaceStorage,
    runs: context.runs,
    logger: context.logger.child({ part: 'eval' }),
  })
  // On shutdown no task starts any more; running ones are recorded as interrupted and run again on the next start.
  app.addHook('onClose', async () => service.close())

  app.post('/api/gaia/run', { schema: { body: GaiaRunBody, tags: ['eval'] } }, async (request, reply) => {
    const { body } = request
    const runName = `${body.run_name}-${randomUUID().slice(0, 8)}`
    const modelId = referenceModel(body.model_id, body.model_provider)
    try {
      const run = await service.start({
        runName,
        split: body.set_to_run,
        maxTasks: body.max_tasks,
        modelId,
        concurrency: body.concurrency,
      })
      if (!body.wait) {
        void reply.code(202)
        return { status: 'started', run_name: runName, planned: run.planned }
      }
      // The run continues if this client goes away; its results stay in <root>/eval/<run>/.
      await run.done
      const failure = service.failureOf(runName)
      if (failure !== null) {
        void reply.code(isErrorCode(failure.code) ? ERROR_CATALOGUE[failure.code].status : 500)
        return { status: 'error', code: failure.code, message: failure.message, run_name: runName }
      }
      const { paths, state, summary } = await service.state(runName)
      const results = [...state.latest.values()]
      return {
        status: 'success',
        results,
        summary: {
          ...referenceSummary(summary, results, paths, context.storage.paths.root),
          stopped: summary.interrupted > 0,
        },
      }
    } catch (error) {
      if (!isBerthError(error)) throw error
      void reply.code(error.status)
      return { status: 'error', code: error.code, message: error.message }
    }
  })

  app.get('/api/eval/runs', { schema: { tags: ['eval'] } }, async () => ({
    runs: await service.list(),
    dataset: await service.datasetStatus(),
  }))

  app.post('/api/eval/runs', { schema: { body: StartBody, tags: ['eval'] } }, async (request, reply) => {
    const { body } = request
    const run = await service.start({
      runName: body.run_name,
      split: body.split,
      maxTasks: body.max_tasks,
      taskIds: body.task_ids,
      modelId: body.model_id,
      concurrency: body.concurrency,
      maxTurns: body.max_turns,
      retryErrors: body.retry_errors,
    })
    void reply.code(202)
    return { run_name: run.runName, planned: run.planned, ...(await service.get(run.runName)) }
  })

  app.get('/api/eval/runs/:name', { schema: { params: RunParams, tags: ['eval'] } }, async (request) => {
    const { name } = request.params
    return service.get(name)
  })

  app.post('/api/eval/runs/:name/stop', { schema: { params: RunParams, tags: ['eval'] } }, async (request) => {
    const { name } = request.params
    const { wasRunning, detail } = await service.stop(name)
    return { was_running: wasRunning, ...detail }
  })

  /**
   * A read-only share link to one task's session, for its replay in the UI.
   * Eval sessions belong to the device `gaia-eval`, which no browser is; a
   * share link opens them without widening who may write to them. An active
   * link without expiry is reused.
   */
  app.post(
    '/api/eval/runs/:name/sessions/:session_id/share',
    { schema: { params: SessionParams, tags: ['eval'] } },
    async (request) => {
      const { name, session_id: sessionId } = request.params
      const session = await store.getSession(sessionId)
      if (!session || session.deviceId !== EVAL_DEVICE_ID || session.label !== runLabel(name)) {
        throw new BerthError('SESSION_NOT_FOUND', `Eval run ${name} has no session ${sessionId}.`)
      }
      const base = publicBaseUrl(request, config)
      const reusable = (await store.listShares(sessionId)).find((s) => isShareActive(s) && s.expiresAt === null)
      const share =
        reusable ??
        (await store.createShare({
          token: newShareToken(),
          sessionId,
          expiresAt: null,
          createdBy: request.requester.deviceId,
        }))
      return { share: presentShare(share, base), path: `/share/${share.token}`, reused: reusable !== undefined }
    },
  )
}

/** The reference passed `--model-id` and `--model-provider` together; berth's `provider:model` says both. */
function referenceModel(modelId: string | null | undefined, provider: string | null | undefined): string | undefined {
  if (modelId == null) return provider == null ? undefined : `${provider}:`
  if (provider == null || modelId.includes(':')) return modelId
  return `${provider}:${modelId}`
}
