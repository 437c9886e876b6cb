import { z } from 'zod'

/**
 * Client → server messages of the reference protocol (ii-agent-interfaces.md
 * §3), plus upstream's aliases. Each is `{ type, content }`; unknown extra
 * fields are ignored, as the reference does.
 */
const QueryContent = z.object({
  text: z.string().max(200_000),
  resume: z.boolean().optional(),
  files: z.array(z.string().max(1024)).max(100).optional(),
  tool_args: z.record(z.string(), z.unknown()).optional(),
})

export const ClientMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('init_agent'),
    content: z
      .object({ tool_args: z.record(z.string(), z.unknown()).optional(), model_name: z.string().max(200).optional() })
      .default({}),
  }),
  z.object({ type: z.literal('query'), content: QueryContent }),
  z.object({ type: z.literal('user_message'), content: QueryContent }),
  z.object({ type: z.literal('edit_query'), content: QueryContent }),
  z.object({ type: z.literal('workspace_info_request'), content: z.unknown().optional() }),
  z.object({ type: z.literal('workspace_info'), content: z.unknown().optional() }),
  z.object({ type: z.literal('cancel_processing'), content: z.unknown().optional() }),
  z.object({ type: z.literal('cancel'), content: z.unknown().optional() }),
  z.object({ type: z.literal('ping'), content: z.unknown().optional() }),
  z.object({ type: z.literal('terminal_command'), content: z.object({ command: z.string().max(10_000) }) }),
])

export type ClientMessage = z.infer<typeof ClientMessage>

export const CLIENT_MESSAGE_TYPES: readonly string[] = ClientMessage.options.map((option) => option.shape.type.value)

/** Query parameters of `/ws`. */
export const SocketQuery = z.object({
  device_id: z.string().max(128).optional(),
  session_uuid: z.string().max(128).optional(),
  /** Last `seq` the client saw: it gets exactly what came after, then the live stream. */
  after: z.coerce.number().int().min(0).optional(),
  /** Read-only follow through a share link. */
  share: z.string().max(64).optional(),
  model_id: z.string().max(200).optional(),
  use_chutes: z.string().optional(),
  use_openrouter: z.string().optional(),
  use_moonshot: z.string().optional(),
  use_anthropic: z.string().optional(),
  use_openai: z.string().optional(),
  token: z.string().optional(),
})

export type SocketQuery = z.infer<typeof SocketQuery>

/** The reference's provider flags, as the LLM layer's provider hint. */
export function providerHintOf(query: SocketQuery): string | undefined {
  for (const flag of ['use_chutes', 'use_openrouter', 'use_moonshot', 'use_anthropic', 'use_openai'] as const) {
    if (query[flag] === 'true') return flag
  }
  return undefined
}

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'INVALID_JSON' | 'UNKNOWN_MESSAGE_TYPE' | 'INVALID_MESSAGE'; message: string }

/** Validate one incoming frame: bad JSON, an unknown type and wrong fields each get their own error. */
export function parseClientMessage(raw: string): ParseResult {
  let data: unknown
  try {
    data = JSON.parse(raw)
  } catch {
    return { ok: false, code: 'INVALID_JSON', message: 'The message is not valid JSON.' }
  }
  const type = (data as { type?: unknown } | null)?.type
  if (typeof type !== 'string' || !CLIENT_MESSAGE_TYPES.includes(type)) {
    return {
      ok: false,
      code: 'UNKNOWN_MESSAGE_TYPE',
      message: `Unknown message type: ${typeof type === 'string' ? type.slice(0, 64) : String(type)}`,
    }
  }
  const parsed = ClientMessage.safeParse(data)
  if (!parsed.success) {
    const detail = parsed.error.issues
      .slice(0, 3)
      .map((issue) => `${issue.path.join('.') || 'message'}: ${issue.message}`)
      .join('; ')
    return { ok: false, code: 'INVALID_MESSAGE', message: `Invalid ${type} message: ${detail}` }
  }
  return { ok: true, message: parsed.data }
}
