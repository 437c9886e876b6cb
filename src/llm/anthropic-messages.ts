import type { ContentBlockParam, ImageBlockParam, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages'
import type { LlmImage, LlmMessage, LlmToolSpec } from './types.js'

/**
 * Our history in the Messages API shape. Tool results become `tool_result`
 * blocks of a user turn (with the tool's images as image blocks inside), and consecutive turns of one role are merged, since
 * the API wants user and assistant to alternate.
 *
 * @example
 *   toAnthropicMessages([{ role: 'user', content: 'hi' }]) // [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }]
 */
export function toAnthropicMessages(messages: readonly LlmMessage[]): MessageParam[] {
  const out: { role: 'user' | 'assistant'; content: ContentBlockParam[] }[] = []
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void => {
    if (blocks.length === 0) return
    const last = out.at(-1)
    if (last && last.role === role) last.content.push(...blocks)
    else out.push({ role, content: blocks })
  }
  for (const message of messages) {
    switch (message.role) {
      case 'user':
        push('user', [
          ...(message.images ?? []).map(imageBlock),
          { type: 'text', text: message.content.length > 0 ? message.content : '(empty message)' },
        ])
        break
      case 'assistant':
        push('assistant', [
          ...(message.text.length > 0 ? [{ type: 'text' as const, text: message.text }] : []),
          ...message.toolCalls.map(
            (call): ContentBlockParam => ({
              type: 'tool_use',
              id: call.id,
              name: call.name,
              // The API wants an object; a call the model garbled is replayed with its raw text inside one.
              input: isObject(call.input) && call.inputError === undefined ? call.input : { invalid_json: call.input },
            }),
          ),
        ])
        break
      case 'tool':
        push('user', [
          {
            type: 'tool_result',
            tool_use_id: message.toolCallId,
            // Images a tool returned go inside its result, as the API allows.
            content:
              message.images && message.images.length > 0
                ? [
                    ...(message.content.length > 0 ? [{ type: 'text' as const, text: message.content }] : []),
                    ...message.images.map(imageBlock),
                  ]
                : message.content,
            ...(message.isError ? { is_error: true } : {}),
          },
        ])
        break
    }
  }
  return out
}

export function toAnthropicTools(tools: readonly LlmToolSpec[]): Tool[] {
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    input_schema: { type: 'object', ...tool.inputSchema },
  }))
}

function imageBlock(image: LlmImage): ImageBlockParam {
  // The SDK types the four formats berth sends (image-attachments.ts recognises no others).
  return { type: 'image', source: { type: 'base64', media_type: image.mediaType as 'image/png', data: image.base64 } }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
