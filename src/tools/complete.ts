import { z } from 'zod'
import { defineTool, type Tool } from './tool.js'

const parameters = z.object({
  answer: z
    .string()
    .min(1)
    .describe('The answer to the question, or final summary of actions taken to accomplish the task.'),
})

/**
 * The `complete` tool: ends the run with `finalAnswer`, which the loop stores
 * as the run's `agent_response`.
 *
 * @example
 *   const result = await runTool(createCompleteTool(), { answer: 'Deployed at https://…' }, ctx)
 *   result.finalAnswer // 'Deployed at https://…'
 */
export function createCompleteTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'complete',
    description: 'Call this tool when you are done with the task, and supply your answer or summary.',
    parameters,
    async execute(input) {
      return { output: 'Task completed', finalAnswer: input.answer }
    },
  })
}
