import type {
  ChatCompletionContentPart,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions'
import type { LlmImage, LlmMessage, LlmToolCall, LlmToolSpec } from './types.js'

/**
 * Our history in the chat-completions shape: the system prompt first, tool
 * calls on assistant messages, each result as a `tool` message. A `tool`
 * message holds text only, so images a tool returned follow the step's
 * results in one user message that says which call they came from.
 *
 * @example
 *   toOpenAiMessages('Be brief', [{ role: 'user', content: 'hi' }])
 *   // [{ role: 'system', content: 'Be brief' }, { role: 'user', content: 'hi' }]
 */
export function toOpenAiMessages(system: string, messages: readonly LlmMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = []
  if (system.length > 0) out.push({ role: 'system', content: system })
  // Tool images wait until the step's last result: nothing may come between an assistant's calls and their results.
  let toolImages: ChatCompletionContentPart[] = []
  const flushToolImages = (): void => {
    if (toolImages.length > 0) out.push({ role: 'user', content: toolImages })
    toolImages = []
  }
  for (const message of messages) {
    if (message.role !== 'tool') flushToolImages()
    switch (message.role) {
      case 'user':
        out.push({ role: 'user', content: userContent(message.content, message.images) })
        break
      case 'assistant':
        out.push(assistantMessage(message.text, message.toolCalls))
        break
      case 'tool':
        out.push({ role: 'tool', tool_call_id: message.toolCallId, content: message.content })
        if (message.images && message.images.length > 0) {
          const label = message.images.length === 1 ? 'The image' : `The ${message.images.length} images`
          toolImages.push(
            { type: 'text', text: `${label} returned by tool call ${message.toolCallId} (${message.toolName}):` },
            ...message.images.map(imagePart),
          )
        }
        break
    }
  }
  flushToolImages()
  return out
}

export function toOpenAiTools(tools: readonly LlmToolSpec[]): ChatCompletionTool[] {
  return tools.map((tool) => ({
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  }))
}

function userContent(text: string, images: readonly LlmImage[] | undefined): string | ChatCompletionContentPart[] {
  if (!images || images.length === 0) return text
  return [{ type: 'text', text }, ...images.map(imagePart)]
}

function imagePart(image: LlmImage): ChatCompletionContentPart {
  return { type: 'image_url', image_url: { url: `data:${image.mediaType};base64,${image.base64}` } }
}

function assistantMessage(text: string, calls: readonly LlmToolCall[]): ChatCompletionMessageParam {
  if (calls.length === 0) return { role: 'assistant', content: text }
  return {
    role: 'assistant',
    content: text.length > 0 ? text : null,
    tool_calls: calls.map((call) => ({
      id: call.id,
      type: 'function',
      // A call whose JSON did not parse is sent back as the model wrote it, so it sees its own mistake.
      function: { name: call.name, arguments: argumentsText(call) },
    })),
  }
}

export function argumentsText(call: LlmToolCall): string {
  if (call.inputError !== undefined && typeof call.input === 'string') return call.input
  return JSON.stringify(call.input ?? {})
}
