import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { BerthConfig } from '../config/config.js'
import { BerthError, isBerthError } from '../core/errors.js'
import type { AgentEvent, TransientEvent } from '../core/events.js'
import type { LlmProvider, LlmToolSpec } from '../llm/types.js'
import type { Logger } from '../logging/logger.js'
import type { Store } from '../store/store.js'
import type { RunLease, SessionRecord } from '../store/types.js'
import type { AnyTool } from '../tools/run-tool.js'
import type { DisposableSessionResources } from '../tools/session-resources.js'
import type { ToolContext } from '../tools/tool.js'
import { type ToolsetName, toolSpecs } from '../tools/toolset.js'
import type { WorkspaceKey, WorkspaceStorage } from '../workspace/workspace-storage.js'
import { Workspaces } from '../workspace/workspaces.js'
import { type ContextPreparer, describeError, type LoopEnd, type RunProgress, runAgentLoop } from './agent-loop.js'
import { feedStored, HistoryBuilder, readAllEvents } from './history.js'
import { ImageAttachments } from './image-attachments.js'
import { LiveRelay } from './live-relay.js'
import { resolvePublicUrl } from './public-url.js'
import { closingEvents, newRunOwner, recoverInterruptedRuns, type StopReason, toOutcome } from './run-endings.js'
import { RunEventSink, unstoredEnd } from './run-events.js'
import { closeCutOffRun, keepLease, RUN_LEASE_TIMING, type RunLeaseTiming } from './run-leases.js'
import { openRunWorkspace, type RunWorkspace, syncingTools } from './run-workspace.js'
import type { RunManager, RunOutcome, StartRunInput } from './runs.js'
import { SessionSlots, TransientFanOut } from './session-slots.js'
import { buildSystemPrompt } from './system-prompt.js'

/** Which model a run uses: the client's `model_id` and provider flag, resolved by the LLM layer. */
export interface ModelChoice {
  modelId?: string
  providerHint?: string
}

export interface AgentRunManagerOptions {
  store: Store
  workspaces: Workspaces
  /** Where workspace files live; the local storage of `workspaces` when not given. */
  workspaceStorage?: WorkspaceStorage
  logger: Logger
  /** Reads maxTurns, maxRunTokens, publicUrl and port. */
  config: Pick<BerthConfig, 'maxTurns' | 'maxRunTokens' | 'publicUrl' | 'port'>
  /** The model of one run (e.g. `createLlm(config, choice)`); may throw `LLM_NOT_CONFIGURED`. */
  createProvider(choice: ModelChoice): LlmProvider | Promise<LlmProvider>
  /** The tools of one run (e.g. `createToolset(config)`), of the set its start asked for. */
  createTools(session: { sessionId: string; workspaceDir: string; toolset: ToolsetName }): readonly AnyTool[]
  /** The context manager of one run, which shrinks the history before each model call. */
  createContext?(session: { sessionId: string; workspaceDir: string }): ContextPreparer | undefined
  /** How long a session's resources (its shell) live after its last run; default 15 minutes. */
  idleDisposeMs?: number
  /** How long `cancel` waits for the run to stop by itself before recording the interrupt anyway; default 500 ms. */
  cancelGraceMs?: number
  /** Run lease expiry, renewal and lapse-check intervals; RUN_LEASE_TIMING by default (tests shorten them). */
  leaseTiming?: RunLeaseTiming
  /** Filled with the lease epoch of each workspace this manager's runs hold, for the storage's write fence. */
  runEpochs?: Map<WorkspaceKey, number>
}

interface ActiveRun {
  sessionId: string
  /** Set once claimed: every event of the run is stored under its epoch. */
  lease: RunLease | null
  keeper: { stop(): void } | null
  controller: AbortController
  progress: RunProgress
  reason: StopReason | null
  /** Resolves once the run's last events are stored. */
  outcome: Promise<RunOutcome>
  resolve(outcome: RunOutcome): void
  finishing: Promise<RunOutcome> | null
}

const DEFAULT_IDLE_DISPOSE_MS = 15 * 60_000
const DEFAULT_CANCEL_GRACE_MS = 500
/** How long a shutdown waits for stopped runs to hand their workspace folders back. */
const SHUTDOWN_RELEASE_WAIT_MS = 5_000
/** How long a cancel waits for another instance's run to stop: its grace period plus a round trip. */
const REMOTE_CANCEL_WAIT_MS = 3_000

/**
 * Runs the agent for every session of this process, one run per session at
 * a time. A run belongs to no client: it goes on when the client that
 * started it disconnects, and everything it produces is stored before anyone
 * sees it. The history of each run is rebuilt from the session's event log.
 *
 * @example
 *   const runs = new AgentRunManager({ store, workspaces, logger, config,
 *     createProvider: (choice) => createLlm(config, choice), createTools: () => createToolset(config) })
 *   await runs.recoverInterrupted()
 *   await runs.start({ sessionId, text: 'Build a site' })
 *   const outcome = await runs.wait(sessionId)
 */
export class AgentRunManager implements RunManager {
  private readonly runs = new Map<string, ActiveRun>()
  private readonly slots: SessionSlots
  private readonly live: TransientFanOut
  private readonly specs = new WeakMap<readonly AnyTool[], LlmToolSpec[]>()
  private closed = false
  private readonly timing: RunLeaseTiming
  /** This manager's name on the leases it holds (`host/pid/suffix`). */
  readonly owner = newRunOwner()
  private lapseWatch: NodeJS.Timeout | null = null

  constructor(private readonly options: AgentRunManagerOptions) {
    this.slots = new SessionSlots(options.logger, options.idleDisposeMs ?? DEFAULT_IDLE_DISPOSE_MS)
    this.live = new TransientFanOut(options.logger)
    this.timing = options.leaseTiming ?? RUN_LEASE_TIMING
    // A cancel asked on another instance (or through the store) for a run of this manager.
    const stopCancels = options.store.onCancelRequest((sessionId) => {
      const run = this.runs.get(sessionId)
      if (run !== undefined) void this.stop(run, 'cancelled')
    })
    // Streamed tokens of runs on other instances, for this instance's viewers.
    const stopLive = options.store.onLive((sessionId, events) => {
      if (this.runs.has(sessionId)) return
      for (const event of events) this.live.publish(sessionId, event)
    })
    this.relay = new LiveRelay((sessionId, events) => options.store.broadcastLive(sessionId, events))
    this.stopListening = () => {
      stopCancels()
      stopLive()
    }
  }

  private readonly stopListening: () => void
  /** This manager's runs' streamed tokens, batched for the other instances. */
  private readonly relay: LiveRelay
  /** Runs until their last step (the workspace folder's release) is done. */
  private readonly executing = new Set<Promise<void>>()

  async start(input: StartRunInput): Promise<void> {
    if (this.closed) {
      throw new BerthError('RUNS_SHUT_DOWN', 'The server is shutting down; no new runs start.')
    }
    const { sessionId } = input
    if (this.runs.has(sessionId)) {
      throw new BerthError('QUERY_IN_PROGRESS', `Session ${sessionId} is already running a query; wait or cancel it.`, {
        details: { sessionId },
      })
    }
    // Reserved before the first await, so two simultaneous starts cannot both pass.
    const run = newRun(sessionId)
    this.runs.set(sessionId, run)
    const { store } = this.options
    let workspace: RunWorkspace | null = null
    try {
      const session = await this.ensureSession(input)
      // The lease first: should the process die right after, another instance (or the next start) sees it lapse;
      // and only the owner copies a remote workspace into a local folder.
      // A lease of this manager's is free to take: no run of this session is active here (checked above).
      run.lease = await store.claimRun(sessionId, this.owner, this.timing.ttlMs, { replacing: this.owner })
      if (run.lease === null) {
        throw new BerthError(
          'QUERY_IN_PROGRESS',
          `Session ${sessionId} is running a query on another berth instance; wait or cancel it.`,
          { details: { sessionId } },
        )
      }
      const epoch = run.lease.epoch
      // A run of another process, cut off (its owner died) and not closed yet: close it before this one starts.
      if (session.status === 'running' && session.runOwner !== this.owner) await closeCutOffRun(store, run.lease)
      workspace = await openRunWorkspace(this.options.workspaceStorage ?? this.options.workspaces.storage, session)
      this.options.runEpochs?.set(workspace.key, epoch)
      await store.append(
        sessionId,
        { type: 'user_message', content: { text: input.text, files: input.files ?? [] } },
        { epoch },
      )
    } catch (error) {
      this.runs.delete(sessionId)
      if (workspace !== null) await this.releaseWorkspace(workspace, this.options.logger)
      if (run.lease !== null) await store.endRun(run.lease, 'idle').catch(() => {})
      throw error
    }
    const lease = run.lease
    run.keeper = keepLease(store, lease, this.timing, () => void this.loseLease(run), this.options.logger)
    this.slots.acquire(sessionId)
    const executing = this.execute(run, input, workspace)
    this.executing.add(executing)
    void executing.finally(() => this.executing.delete(executing))
  }

  async wait(sessionId: string): Promise<RunOutcome | null> {
    const run = this.runs.get(sessionId)
    return run === undefined ? null : run.outcome
  }

  /**
   * Stop the session's run, here or on the instance that owns it (asked
   * through the store); resolves once the run is no longer running, or after
   * a few seconds when its owner does not answer.
   */
  async cancel(sessionId: string): Promise<boolean> {
    const run = this.runs.get(sessionId)
    if (run !== undefined) {
      await this.stop(run, 'cancelled')
      return true
    }
    const { store } = this.options
    if ((await store.getSession(sessionId))?.status !== 'running') return false
    await store.requestCancel(sessionId)
    const deadline = Date.now() + REMOTE_CANCEL_WAIT_MS
    while (Date.now() < deadline && (await store.getSession(sessionId))?.status === 'running') {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    return true
  }

  isRunning(sessionId: string): boolean {
    return this.runs.has(sessionId)
  }

  onTransient(sessionId: string, listener: (event: TransientEvent) => void): () => void {
    return this.live.listen(sessionId, listener)
  }

  async recoverInterrupted(): Promise<number> {
    return recoverInterruptedRuns(this.options.store, (id) => this.runs.has(id), this.options.logger, {
      timing: this.timing,
      owner: this.owner,
    })
  }

  /**
   * Every few seconds, close the runs whose owner stopped renewing its lease
   * (another instance killed, or a process on this machine): the server runs
   * this, so a run never stays `running` for a dead owner.
   */
  watchLapsedRuns(): void {
    if (this.lapseWatch !== null) return
    let checking = false
    this.lapseWatch = setInterval(() => {
      if (checking || this.closed) return
      checking = true
      this.recoverInterrupted()
        .catch((error: unknown) => this.options.logger.warn({ err: error }, 'checking for lapsed runs failed'))
        .finally(() => {
          checking = false
        })
    }, this.timing.checkMs)
    this.lapseWatch.unref()
  }

  async shutdown(): Promise<void> {
    this.closed = true
    this.stopListening()
    if (this.lapseWatch !== null) clearInterval(this.lapseWatch)
    await Promise.all([...this.runs.values()].map((run) => this.stop(run, 'shutdown')))
    // The stopped runs' last tokens, before the store closes.
    this.relay.flush()
    // Their folders go back to the storage; a tool that ignores the abort does not hold the shutdown.
    await Promise.race([
      Promise.allSettled([...this.executing]),
      sleep(SHUTDOWN_RELEASE_WAIT_MS, undefined, { ref: false }),
    ])
    await this.slots.releaseAll()
  }

  /**
   * The session's resources (its persistent shell), e.g. for the WebSocket
   * `terminal_command`, which runs in the agent's shell.
   *
   * @example
   *   const resources = runs.resources(sessionId)
   */
  resources(sessionId: string): DisposableSessionResources {
    return this.slots.acquire(sessionId)
  }

  private async execute(run: ActiveRun, input: StartRunInput, workspace: RunWorkspace): Promise<void> {
    const { store, logger } = this.options
    // The tools' real folder (the workspace itself on local disk); synced after every tool call, released at the end.
    const workspaceDir = workspace.folder.dir
    const runLogger = logger.child({ session: run.sessionId })
    const signal = run.controller.signal
    let end: LoopEnd
    try {
      const provider = await this.options.createProvider({
        ...(input.modelId === undefined ? {} : { modelId: input.modelId }),
        ...(input.providerHint === undefined ? {} : { providerHint: input.providerHint }),
      })
      runLogger.info({ provider: provider.provider, model: provider.model }, 'run started')
      const history = new HistoryBuilder()
      for (const event of await readAllEvents(store, run.sessionId)) feedStored(history, event)
      const session = { sessionId: run.sessionId, workspaceDir }
      const tools = this.options.createTools({ ...session, toolset: input.toolset ?? 'default' })
      const publicUrl = resolvePublicUrl(input.publicUrl, this.options.config)
      const sink = new RunEventSink(store, run.sessionId, history, signal, runLogger, run.lease?.epoch)
      const resources = this.slots.acquire(run.sessionId)
      const context: Omit<ToolContext, 'toolCallId' | 'emitTransient'> = {
        sessionId: run.sessionId,
        workspaceDir,
        workspaces: this.toolWorkspaces(workspaceDir),
        signal,
        emit: async (event: AgentEvent) => {
          await sink.append(event)
        },
        publicUrl,
        resources,
        logger: runLogger,
      }
      const shrink = this.options.createContext?.(session)
      const images = new ImageAttachments(
        this.options.workspaceStorage ?? this.options.workspaces.storage,
        workspace.key,
      )
      // Images first, so the context manager counts what they cost.
      const prepareContext: ContextPreparer = async (messages, contextSignal) => {
        const withImages = await images.attach(messages, (message) => history.attachedFiles(message))
        return shrink === undefined ? withImages : shrink(withImages, contextSignal)
      }
      end = await runAgentLoop({
        provider,
        system: buildSystemPrompt({ workspaceDir, publicUrl, toolNames: tools.map((tool) => tool.name) }),
        tools: syncingTools(tools, workspace.folder),
        toolSpecs: this.toolSpecs(tools),
        history,
        sink,
        signal,
        limits: {
          maxTurns: input.maxTurns ?? this.options.config.maxTurns,
          maxTokens: this.options.config.maxRunTokens,
        },
        prepareContext,
        toolContext: (toolCallId) => ({
          ...context,
          toolCallId,
          emitTransient: (text) =>
            this.publishLive(run.sessionId, {
              type: 'tool_output_delta',
              content: { tool_call_id: toolCallId, text },
            }),
        }),
        onTransient: (event) => this.publishLive(run.sessionId, event),
        progress: run.progress,
      })
    } catch (error) {
      end = signal.aborted ? { status: 'interrupted' } : { status: 'failed', error: describeError(error) }
    }
    if (signal.aborted) end = { status: 'interrupted' }
    // The files go back under the lease, before the run gives it up.
    await workspace.folder
      .sync()
      .catch((error: unknown) => runLogger.error({ err: error }, "could not sync the run's workspace folder"))
    const outcome = await this.finish(run, end)
    await this.releaseWorkspace(workspace, runLogger)
    runLogger.info({ status: outcome.status, turns: outcome.turns, error: outcome.error }, 'run ended')
  }

  /** A live-only event of a run here: to this instance's viewers now, to the other instances' batched. */
  private publishLive(sessionId: string, event: TransientEvent): void {
    this.live.publish(sessionId, event)
    this.relay.push(sessionId, event)
  }

  /**
   * The door the tools resolve paths through: the local workspaces, or for a
   * remote workspace the scratch folder it was copied into, which bears the
   * workspace's name (src/workspace/s3/scratch-folder.ts) under its parent.
   */
  private toolWorkspaces(workspaceDir: string): Workspaces {
    const { workspaces } = this.options
    if (path.dirname(path.resolve(workspaceDir)) === workspaces.root) return workspaces
    return new Workspaces({ root: path.dirname(workspaceDir), quotaBytes: workspaces.quotaBytes })
  }

  private async releaseWorkspace(workspace: RunWorkspace, logger: Logger): Promise<void> {
    await workspace.folder
      .release()
      .catch((error: unknown) => logger.error({ err: error }, "could not release the run's workspace folder"))
    this.options.runEpochs?.delete(workspace.key)
  }

  /** Abort the run; record the interrupt at once if it has not stopped within the grace period. */
  private async stop(run: ActiveRun, reason: StopReason): Promise<void> {
    run.reason ??= reason
    run.controller.abort(
      new BerthError('LLM_ABORTED', `The run was ${reason === 'shutdown' ? 'stopped by a shutdown' : 'cancelled'}.`),
    )
    let timer: NodeJS.Timeout | undefined
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS)
    })
    await Promise.race([run.outcome, grace])
    clearTimeout(timer)
    // A tool that ignores the signal does not hold the session: its later events are dropped by the sink.
    await this.finish(run, { status: 'interrupted' })
  }

  /** Store how the run ended (once, whoever gets here first), update the status, free the session. */
  private finish(run: ActiveRun, end: LoopEnd): Promise<RunOutcome> {
    if (run.finishing !== null) return run.finishing
    run.finishing = (async () => {
      const { store, logger } = this.options
      const outcome = toOutcome(end, run.progress)
      run.keeper?.stop()
      const lease = run.lease as RunLease
      let endStored = false
      try {
        await store.appendMany(run.sessionId, closingEvents(end, run.progress, run.reason), { epoch: lease.epoch })
        endStored = true
        await store.endRun(lease, end.status === 'interrupted' ? 'interrupted' : 'idle')
      } catch (error) {
        if (isBerthError(error, 'RUN_LEASE_LOST')) {
          // The instance that took the session over stores how the run ended; viewers get it from the log.
          logger.warn({ session: run.sessionId }, 'the run lost its lease; its new owner records how it ended')
        } else {
          // Followers of the log get nothing of this end, so live viewers are told, marked as not stored;
          // before logging, which can fail as well when the log file is on the same full disk.
          if (!endStored) {
            for (const event of unstoredEnd(end, run.progress, error)) this.publishLive(run.sessionId, event)
          }
          // The session stays `running` in the store; its lease lapses and the run is closed then.
          logger.error({ err: error, session: run.sessionId }, 'could not store the end of a run')
        }
      }
      if (this.runs.get(run.sessionId) === run) this.runs.delete(run.sessionId)
      this.slots.idle(run.sessionId, () => this.runs.has(run.sessionId))
      run.resolve(outcome)
      return outcome
    })()
    return run.finishing
  }

  /** The lease was taken by another instance: stop the run and its shell at once; nothing more of it is stored. */
  private async loseLease(run: ActiveRun): Promise<void> {
    await this.stop(run, 'lease_lost')
    await this.slots.release(run.sessionId)
  }

  private async ensureSession(input: StartRunInput): Promise<SessionRecord> {
    const { store, workspaces } = this.options
    const existing = await store.getSession(input.sessionId)
    if (existing !== null) return existing
    return store.createSession({
      id: input.sessionId,
      workspaceDir: workspaces.dirFor(input.sessionId),
      deviceId: input.deviceId ?? null,
    })
  }

  /** Tool schemas are built once per tool list, not once per run. */
  private toolSpecs(tools: readonly AnyTool[]): LlmToolSpec[] {
    let specs = this.specs.get(tools)
    if (specs === undefined) {
      specs = toolSpecs(tools)
      this.specs.set(tools, specs)
    }
    return specs
  }
}

function newRun(sessionId: string): ActiveRun {
  let resolve: (outcome: RunOutcome) => void = () => {}
  const outcome = new Promise<RunOutcome>((r) => {
    resolve = r
  })
  return {
    sessionId,
    lease: null,
    keeper: null,
    controller: new AbortController(),
    progress: { turns: 0, usage: { inputTokens: 0, outputTokens: 0 }, answer: null, step: { text: '' } },
    reason: null,
    outcome,
    resolve,
    finishing: null,
  }
}
