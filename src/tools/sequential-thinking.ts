import { z } from 'zod'
import { boolParam, intParam } from './params.js'
import { defineTool, type Tool, type ToolContext } from './tool.js'

const DESCRIPTION = `A detailed tool for dynamic and reflective problem-solving through thoughts.
This tool helps analyze problems through a flexible thinking process that can adapt and evolve.
Each thought can build on, question, or revise previous insights as understanding deepens.

When to use this tool:
- Breaking down complex problems into steps
- Planning and design with room for revision
- Analysis that might need course correction
- Problems where the full scope might not be clear initially
- Problems that require a multi-step solution
- Tasks that need to maintain context over multiple steps

Key features:
- You can adjust totalThoughts up or down as you progress
- You can question or revise previous thoughts (isRevision, revisesThought)
- You can branch from an earlier thought (branchFromThought, branchId)
- You can add more thoughts even after reaching what seemed like the end (needsMoreThoughts)
- Only set nextThoughtNeeded to false when truly done and a satisfactory answer is reached`

const parameters = z.object({
  thought: z.string().min(1).describe('Your current thinking step'),
  nextThoughtNeeded: boolParam('Whether another thought step is needed'),
  thoughtNumber: intParam('Current thought number', { min: 1 }),
  totalThoughts: intParam('Estimated total thoughts needed', { min: 1 }),
  isRevision: boolParam('Whether this revises previous thinking').optional(),
  revisesThought: intParam('Which thought is being reconsidered', { min: 1 }).optional(),
  branchFromThought: intParam('Branching point thought number', { min: 1 }).optional(),
  branchId: z.string().optional().describe('Branch identifier'),
  needsMoreThoughts: boolParam('If more thoughts are needed').optional(),
})

type ThoughtInput = z.output<typeof parameters>

interface ThinkingState {
  historyLength: number
  branches: Set<string>
}

/**
 * The reference's `sequential_thinking` tool: records the thought and answers
 * with a short status JSON (thought number, total, branches, history length).
 * The thought itself is in the stored `tool_call` event.
 *
 * @example
 *   await runTool(createSequentialThinkingTool(), { thought: 'First...', nextThoughtNeeded: true, thoughtNumber: 1, totalThoughts: 3 }, ctx)
 */
export function createSequentialThinkingTool(): Tool<ThoughtInput> {
  return defineTool({
    name: 'sequential_thinking',
    description: DESCRIPTION,
    parameters,
    async execute(input, context) {
      if (input.isRevision === true && !(input.revisesThought !== undefined && input.revisesThought > 0)) {
        return failed('revisesThought must be provided and > 0 when isRevision is True')
      }
      const branching = input.branchFromThought !== undefined && input.branchFromThought > 0
      if (branching && !input.branchId) return failed('branchId must be provided when branchFromThought is specified')
      const state = thinkingState(context)
      state.historyLength++
      if (branching && input.branchId) state.branches.add(input.branchId)
      const response = {
        thoughtNumber: input.thoughtNumber,
        totalThoughts: Math.max(input.totalThoughts, input.thoughtNumber),
        nextThoughtNeeded: input.nextThoughtNeeded,
        branches: [...state.branches],
        thoughtHistoryLength: state.historyLength,
      }
      return { output: JSON.stringify(response, null, 2) }
    },
  })
}

function thinkingState(context: ToolContext): ThinkingState {
  return context.resources.get('sequential_thinking.state', () => ({ historyLength: 0, branches: new Set<string>() }))
}

function failed(message: string) {
  return { output: JSON.stringify({ error: message, status: 'failed' }, null, 2), isError: true }
}
