import { argumentsText } from './openai-messages.js'
import type { LlmImage, LlmMessage, LlmToolSpec } from './types.js'

/**
 * The system prompt of JSON tool-call mode: the caller's prompt, then the
 * tools and the one format the parser expects.
 *
 * @example
 *   jsonToolSystemPrompt('You are berth.', [{ name: 'bash', description: 'Run a command', inputSchema: {} }])
 */
export function jsonToolSystemPrompt(system: string, tools: readonly LlmToolSpec[]): string {
  if (tools.length === 0) return system
  const specs = tools
    .map(
      (tool) => `### ${tool.name}\n${tool.description}\nArguments (JSON Schema): ${JSON.stringify(tool.inputSchema)}`,
    )
    .join('\n\n')
  const instructions = [
    '# Tools',
    'To call a tool, write a JSON object in a ```json fenced block, exactly in this format:',
    '```json',
    '{"tool_call": {"id": "call_1", "name": "<tool name>", "arguments": {<arguments that match the schema>}}}',
    '```',
    'Use a new id for every call. You may call several tools in one answer, one block each; then stop and wait.',
    'Each result comes back in the next user message, starting with "[Tool result for call <id> (<name>)]".',
    'When you need no tool, answer in plain text without any tool_call block.',
    '',
    '## Available tools',
    '',
    specs,
  ].join('\n')
  return system.length > 0 ? `${system}\n\n${instructions}` : instructions
}

/**
 * The history for a model without native tool calling: earlier calls are
 * written back as the JSON blocks the model produced, results (with the
 * images tools returned) as user messages; consecutive user messages are
 * merged so roles alternate.
 *
 * @example
 *   replayAsText([{ role: 'tool', toolCallId: 'c1', toolName: 'bash', content: 'ok' }])
 *   // [{ role: 'user', content: '[Tool result for call c1 (bash)]\nok' }]
 */
export function replayAsText(messages: readonly LlmMessage[]): LlmMessage[] {
  const out: LlmMessage[] = []
  const pushUser = (content: string, images: readonly LlmImage[] | undefined): void => {
    const last = out.at(-1)
    if (last?.role === 'user') {
      last.content = `${last.content}\n\n${content}`
      if (images && images.length > 0) last.images = [...(last.images ?? []), ...images]
    } else out.push({ role: 'user', content, ...(images && images.length > 0 ? { images: [...images] } : {}) })
  }
  for (const message of messages) {
    if (message.role === 'user') pushUser(message.content, message.images)
    else if (message.role === 'tool') {
      const label = message.isError ? 'Tool error' : 'Tool result'
      // The images a tool returned ride on the same user message; the text says whose they are.
      const count = message.images?.length ?? 0
      const attached = count === 0 ? '' : `\n(${count === 1 ? 'its image is' : `its ${count} images are`} attached)`
      pushUser(
        `[${label} for call ${message.toolCallId} (${message.toolName})]\n${message.content}${attached}`,
        message.images,
      )
    } else {
      const blocks = message.toolCalls.map((call) => {
        const args =
          call.inputError === undefined ? JSON.stringify(call.input ?? {}) : JSON.stringify(argumentsText(call))
        return `\`\`\`json\n{"tool_call": {"id": ${JSON.stringify(call.id)}, "name": ${JSON.stringify(call.name)}, "arguments": ${args}}}\n\`\`\``
      })
      const text = [message.text, ...blocks].filter((part) => part.length > 0).join('\n\n')
      out.push({ role: 'assistant', text: text.length > 0 ? text : '(no answer)', toolCalls: [] })
    }
  }
  return out
}
