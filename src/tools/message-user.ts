import { z } from 'zod'
import { defineTool, type Tool } from './tool.js'

const parameters = z.object({
  text: z.string().min(1).describe('The message to send to the user'),
})

/**
 * The `message_user` tool. The message reaches the user through the stored
 * `tool_call` event itself (`tool_input.text`), which is how ii-agent
 * frontends render it; the tool only acknowledges.
 *
 * @example
 *   await runTool(createMessageUserTool(), { text: 'Working on it: 2 of 5 pages done.' }, ctx) // 'Sent message to user'
 */
export function createMessageUserTool(): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'message_user',
    description:
      'Send a message to the user. Use this tool to communicate effectively in a variety of scenarios, including:\n' +
      '* Sharing your current thoughts or reasoning process\n' +
      '* Asking clarifying or follow-up questions\n' +
      '* Acknowledging receipt of messages\n' +
      '* Providing real-time progress updates\n' +
      '* Reporting completion of tasks or milestones\n' +
      '* Explaining changes in strategy, unexpected behavior, or encountered issues',
    parameters,
    async execute() {
      return { output: 'Sent message to user' }
    },
  })
}
