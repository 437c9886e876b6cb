import type { TransientEvent } from '../core/events.js'
import type { LlmProvider, LlmRequest, LlmToolCall, LlmUsage } from '../llm/types.js'

/** What one model call produced, once its stream has ended. */
export interface StepOutput {
  text: string
  reasoning: string
  toolCalls: LlmToolCall[]
  usage: LlmUsage
  finishReason: 'stop' | 'tool-calls' | 'length' | 'content-filter' | 'other'
}

/** Text streamed so far by the step in flight, so an interrupt can record it. */
export interface StepProgress {
  text: string
}

/**
 * Call the model once: stream text and reasoning to live viewers as
 * transient deltas while collecting the whole step.
 *
 * @example
 *   const step = await runModelStep(provider, request, (event) => fanOut(event), progress)
 */
export async function runModelStep(
  provider: LlmProvider,
  request: LlmRequest,
  onTransient: (event: TransientEvent) => void,
  progress: StepProgress,
): Promise<StepOutput> {
  let text = ''
  let reasoning = ''
  const toolCalls: LlmToolCall[] = []
  let finish: Pick<StepOutput, 'usage' | 'finishReason'> = {
    usage: { inputTokens: 0, outputTokens: 0 },
    finishReason: 'other',
  }
  progress.text = ''
  for await (const part of provider.stream(request)) {
    switch (part.type) {
      case 'text-delta':
        text += part.text
        progress.text = text
        onTransient({ type: 'agent_response_delta', content: { text: part.text } })
        break
      case 'reasoning-delta':
        reasoning += part.text
        onTransient({ type: 'agent_thinking_delta', content: { text: part.text } })
        break
      case 'tool-call':
        toolCalls.push(part.call)
        break
      case 'finish':
        finish = { usage: part.usage, finishReason: part.finishReason }
        break
    }
  }
  return { text, reasoning, toolCalls, ...finish }
}
