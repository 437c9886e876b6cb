import { randomUUID } from 'node:crypto'
import type { Socket } from 'node:net'
import type { WebSocket } from 'ws'
import { openRunWorkspace } from '../../agent/run-workspace.js'
import { BerthError, isBerthError } from '../../core/errors.js'
import type { TransientEvent } from '../../core/events.js'
import type { Logger } from '../../logging/logger.js'
import type { StoredEvent, Subscription } from '../../store/types.js'
import { shellEnv } from '../../tools/bash/shell-env.js'
import { configuredSecrets } from '../../tools/toolset.js'
import { isValidSessionId } from '../../workspace/containment.js'
import { canWrite, type Requester } from '../access.js'
import type { ServerContext } from '../context.js'
import { eventFrame } from '../presenters.js'
import type { ClientMessage, SocketQuery } from './messages.js'
import { parseClientMessage, providerHintOf } from './messages.js'
import { runTerminalCommand } from './terminal.js'

const HEARTBEAT_MS = 30_000
/** A client this far behind is disconnected; it reconnects with its cursor and misses nothing. */
const MAX_BUFFERED_BYTES = 16 * 1024 * 1024

export interface ConnectionOptions {
  sessionId: string
  requester: Requester
  query: SocketQuery
  /** Following through a share link: never writes. */
  readOnly: boolean
  publicUrl: string
  activeConnections: () => number
}

/**
 * One WebSocket client attached to one session. Stored events reach it
 * through `store.follow` (backlog after its cursor, then live, after commit);
 * streamed tokens through the run manager's transient channel. The run never
 * depends on this connection: closing it only stops the delivery.
 */
export class SessionConnection {
  private readonly connectionId = randomUUID()
  private readonly logger: Logger
  private subscription: Subscription | null = null
  private stopTransient: (() => void) | null = null
  private readonly heartbeat: NodeJS.Timeout
  private closed = false
  private corked = false
  /** The text of a query this client just sent: its own user_message is not echoed back (the reference never did). */
  private ownQueryText: string | null = null

  constructor(
    private readonly socket: WebSocket,
    private readonly context: ServerContext,
    private readonly options: ConnectionOptions,
  ) {
    this.logger = context.logger.child({ session: options.sessionId, connection: this.connectionId })
    this.heartbeat = setInterval(() => this.send({ type: 'heartbeat', content: {} }), HEARTBEAT_MS)
    this.heartbeat.unref()
    socket.on('message', (data, isBinary) => {
      void this.receive(isBinary ? '' : data.toString())
    })
    socket.on('close', () => this.dispose())
    socket.on('error', (error) => this.logger.debug({ err: error }, 'socket error'))
  }

  /** Greet the client and start following the session if it exists. */
  async open(): Promise<void> {
    const { sessionId } = this.options
    const session = await this.context.store.getSession(sessionId)
    const count = session ? await this.context.store.countEvents(sessionId) : 0
    this.send({
      type: 'connection_established',
      content: {
        message: 'Connected to Agent WebSocket Server',
        workspace_path: this.workspacePath(session?.workspaceDir),
        connection_id: this.connectionId,
        session_uuid: sessionId,
        active_connections: this.options.activeConnections(),
        server_ready: true,
        device_id: this.options.requester.deviceId,
        read_only: this.options.readOnly,
        last_seq: count,
        // Running here, or on another instance (its events reach this one through the store).
        running: this.context.runs.isRunning(sessionId) || session?.status === 'running',
      },
    })
    // Without a cursor the client is new to this session: send only what happens from now on.
    this.follow(this.options.query.after ?? count)
  }

  private follow(after: number): void {
    if (this.subscription || this.closed) return
    const { sessionId } = this.options
    this.subscription = this.context.store.follow(
      sessionId,
      after,
      (event) => this.sendStored(event),
      (error) => {
        this.logger.error({ err: error }, 'following the session failed')
        this.socket.close(1011, 'event stream failed')
      },
    )
    this.stopTransient = this.context.runs.onTransient(sessionId, (event) => this.sendTransient(event))
  }

  /** Handle one client frame; never throws (a bad frame gets a typed error frame). */
  async receive(raw: string): Promise<void> {
    const parsed = parseClientMessage(raw)
    if (!parsed.ok) {
      this.sendError(parsed.message, parsed.code)
      return
    }
    try {
      await this.handle(parsed.message)
    } catch (error) {
      if (isBerthError(error)) {
        this.sendError(error.message, error.code)
      } else {
        this.logger.error({ err: error, type: parsed.message.type }, 'message handling failed')
        this.sendError('The server could not process this message.', 'MESSAGE_PROCESSING_ERROR')
      }
    }
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong' })
        return
      case 'workspace_info_request':
      case 'workspace_info':
        return this.onWorkspaceInfo()
      case 'init_agent':
        await this.ensureSession()
        this.send({
          type: 'agent_initialized',
          content: { message: 'Agent initialized', session_uuid: this.options.sessionId },
        })
        return
      case 'query':
      case 'user_message':
        return this.onQuery(message.content)
      case 'edit_query':
        return this.onEditQuery(message.content)
      case 'cancel_processing':
      case 'cancel':
        return this.onCancel()
      case 'terminal_command':
        return this.onTerminal(message.content.command)
    }
  }

  private async onQuery(content: { text: string; files?: string[] | undefined }): Promise<void> {
    await this.ensureSession()
    const { query } = this.options
    this.ownQueryText = content.text
    try {
      await this.context.runs.start({
        sessionId: this.options.sessionId,
        text: content.text,
        ...(content.files ? { files: content.files.map((file) => file.replace(/^\/+/, '')) } : {}),
        ...(query.model_id ? { modelId: query.model_id } : {}),
        ...(providerHintOf(query) ? { providerHint: providerHintOf(query) } : {}),
        publicUrl: this.options.publicUrl,
      })
    } catch (error) {
      this.ownQueryText = null
      throw error
    }
    this.send({ type: 'processing', content: { message: 'Processing your request...' } })
  }

  /** Upstream's edit: stop the run, take the last exchange out of the history (the log keeps it), ask again. */
  private async onEditQuery(content: { text: string; files?: string[] | undefined }): Promise<void> {
    await this.ensureSession()
    const { sessionId } = this.options
    if (this.context.runs.isRunning(sessionId)) {
      await this.context.runs.cancel(sessionId)
      await this.context.runs.wait(sessionId)
    }
    await this.context.store.append(sessionId, { type: 'query_edited', content: { text: content.text } })
    return this.onQuery(content)
  }

  private async onCancel(): Promise<void> {
    this.assertWritable()
    const cancelled = await this.context.runs.cancel(this.options.sessionId)
    if (!cancelled) throw new BerthError('NO_ACTIVE_QUERY', 'No active query to cancel.')
    this.send({ type: 'system', content: { message: 'Processing was canceled by the user.' } })
  }

  private async onWorkspaceInfo(): Promise<void> {
    const session = await this.context.store.getSession(this.options.sessionId)
    const path = this.workspacePath(session?.workspaceDir)
    this.send({
      type: 'workspace_info',
      content: {
        workspace_path: path,
        path,
        session_uuid: this.options.sessionId,
        server_ready: true,
        connection_ready: true,
      },
    })
  }

  private async onTerminal(command: string): Promise<void> {
    if (!this.context.config.enableTerminal) {
      throw new BerthError('BASH_TOOL_UNAVAILABLE', 'The terminal is disabled on this server (BERTH_ENABLE_TERMINAL).')
    }
    if (!command.trim()) throw new BerthError('MISSING_COMMAND', 'terminal_command needs a command.')
    const session = await this.ensureSession()
    // The workspace's real folder: the folder itself on local disk; on S3 a scratch copy, synced back after
    // the command (what it wrote reaches the bucket, where every instance reads it) and then removed.
    const workspace = await openRunWorkspace(this.context.workspaceStorage, session)
    let result: { output: string; success: boolean }
    try {
      result = await runTerminalCommand(
        command,
        workspace.folder.dir,
        shellEnv(process.env, configuredSecrets(this.context.config)),
        this.context.sandbox,
      )
    } finally {
      await workspace.folder.release()
    }
    this.send({ type: 'terminal_output', content: { command, output: result.output, success: result.success } })
  }

  /** The session row and folder appear on the first action that needs them, not on every connect. */
  private async ensureSession() {
    this.assertWritable()
    const { store, workspaces } = this.context
    const { sessionId, requester } = this.options
    let session = await store.getSession(sessionId)
    if (!session) {
      if (!isValidSessionId(sessionId)) throw new BerthError('INVALID_REQUEST', 'Invalid session id.')
      try {
        session = await store.createSession({
          id: sessionId,
          workspaceDir: workspaces.dirFor(sessionId),
          deviceId: requester.deviceId,
        })
      } catch (error) {
        // Another connection created it a moment ago.
        if (!isBerthError(error, 'SESSION_EXISTS')) throw error
        session = await store.getSession(sessionId)
        if (!session) throw error
      }
    }
    if (!canWrite(this.context, requester, session)) {
      throw new BerthError('ACCESS_DENIED', 'This session belongs to another device.')
    }
    await this.context.workspaceStorage.create(sessionId)
    return session
  }

  private assertWritable(): void {
    if (this.options.readOnly) {
      throw new BerthError('ACCESS_DENIED', 'This is a read-only view of a shared session.')
    }
  }

  private workspacePath(storedDir: string | undefined): string {
    return this.context.workspaces.dirFor(this.options.sessionId, storedDir ?? null)
  }

  private sendStored(event: StoredEvent): void {
    if (event.type === 'user_message' && this.ownQueryText !== null) {
      const text = (JSON.parse(event.payload) as { content?: { text?: unknown } }).content?.text
      if (text === this.ownQueryText) {
        this.ownQueryText = null
        return
      }
    }
    this.sendRaw(eventFrame(event))
  }

  private sendTransient(event: TransientEvent): void {
    this.send(event)
  }

  private sendError(message: string, code: string): void {
    this.send({ type: 'error', content: { message, error_code: code } })
  }

  private send(frame: object): void {
    this.sendRaw(JSON.stringify(frame))
  }

  private sendRaw(text: string | Buffer): void {
    if (this.closed || this.socket.readyState !== this.socket.OPEN) return
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      this.logger.warn('client too slow; closing so it reconnects with its cursor')
      this.socket.close(1013, 'client too slow; reconnect with your cursor')
      return
    }
    this.corkUntilNextTick()
    this.socket.send(text, { binary: false })
  }

  /**
   * A commit publishes its events in one synchronous loop; holding the TCP
   * socket corked until that loop is over sends them to this viewer in one
   * write instead of one system call per event.
   */
  private corkUntilNextTick(): void {
    if (this.corked) return
    // ws keeps its net.Socket on `_socket`; it corks around each frame itself, and corks nest.
    const tcp = (this.socket as unknown as { _socket?: Socket })._socket
    if (!tcp || tcp.destroyed) return
    tcp.cork()
    this.corked = true
    process.nextTick(() => {
      this.corked = false
      tcp.uncork()
    })
  }

  private dispose(): void {
    if (this.closed) return
    this.closed = true
    clearInterval(this.heartbeat)
    this.subscription?.close()
    this.stopTransient?.()
  }
}
