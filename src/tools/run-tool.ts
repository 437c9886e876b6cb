import type { z } from 'zod'
import { isBerthError } from '../core/errors.js'
import type { LlmToolCall } from '../llm/types.js'
import { normalizeRelativePath } from '../workspace/containment.js'
import { describeParameters } from './json-schema.js'
import { capOutput, DEFAULT_MAX_OUTPUT_CHARS } from './output-cap.js'
import type { Tool, ToolContext, ToolImage, ToolResult } from './tool.js'

// Tools are stored in arrays of mixed input types; execute() is only ever
// called with what the tool's own schema produced.
// biome-ignore lint/suspicious/noExplicitAny: heterogeneous tool list
export type AnyTool = Tool<any>

export interface RunToolOptions {
  /** Longest output handed back, in characters; default 30 000. */
  maxOutputChars?: number
}

/**
 * Run one tool call the way the agent loop needs it: never throws for
 * anything the model did. Bad input becomes an error result that says what
 * to fix; a tool's exception becomes an error result (BerthError messages
 * are written for the model, e.g. PATH_OUTSIDE_WORKSPACE); the output is
 * capped, keeping head and tail; images keep only workspace-relative paths.
 *
 * @example
 *   const result = await runTool(bashTool, { command: 'ls' }, context)
 *   if (result.isError) ... // still fed back to the model
 */
export async function runTool(
  tool: AnyTool,
  rawInput: unknown,
  context: ToolContext,
  options: RunToolOptions = {},
): Promise<ToolResult> {
  const max = options.maxOutputChars ?? DEFAULT_MAX_OUTPUT_CHARS
  if (context.signal.aborted) return { output: `Tool ${tool.name} was not run: the run was cancelled.`, isError: true }

  const parsed = tool.parameters.safeParse(unwrapInput(rawInput))
  if (!parsed.success) return invalidInputResult(tool, rawInput, parsed.error)

  let result: ToolResult
  try {
    result = await tool.execute(parsed.data, context)
  } catch (error) {
    result = failureResult(tool, error, context)
  }
  const output = typeof result.output === 'string' ? result.output : String(result.output)
  const { images, ...rest } = result
  const kept = keptImages(images)
  return { ...rest, output: capOutput(output, max), ...(kept.length > 0 ? { images: kept } : {}) }
}

/**
 * Run a model's tool call against a tool list: an unknown name, or arguments
 * the LLM layer could not parse (`inputError`), come back as error results
 * the model can act on; anything else goes through `runTool`.
 *
 * @example
 *   for (const call of toolCalls) results.push(await runToolCall(tools, call, context))
 */
export async function runToolCall(
  tools: readonly AnyTool[],
  call: Pick<LlmToolCall, 'name' | 'input' | 'inputError'>,
  context: ToolContext,
  options: RunToolOptions = {},
): Promise<ToolResult> {
  const tool = findTool(tools, call.name)
  if (tool === undefined) return unknownToolResult(call.name, tools)
  if (call.inputError !== undefined) {
    return {
      output:
        `The arguments for tool \`${tool.name}\` could not be read (${call.inputError}). ` +
        `Call it again with one JSON object as arguments. Parameters:\n${describeParameters(tool.parameters)}`,
      isError: true,
    }
  }
  return runTool(tool, call.input, context, options)
}

/** @example findTool(tools, 'bash')?.description */
export function findTool(tools: readonly AnyTool[], name: string): AnyTool | undefined {
  return tools.find((tool) => tool.name === name)
}

/**
 * The result for a call to a tool that does not exist, listing those that do.
 *
 * @example
 *   unknownToolResult('python', tools).output // 'Unknown tool `python`. Available tools: bash, ...'
 */
export function unknownToolResult(name: string, tools: readonly AnyTool[]): ToolResult {
  const shown = String(name).slice(0, 100)
  return {
    output: `Unknown tool \`${shown}\`. Available tools: ${tools.map((t) => t.name).join(', ')}. Call one of these by its exact name.`,
    isError: true,
  }
}

/**
 * The images a result may store: workspace-relative paths with a media type.
 * Anything else is dropped, so the event never names a file outside the
 * workspace; the history reads them through the one door again anyway.
 */
function keptImages(images: ToolResult['images']): ToolImage[] {
  if (!Array.isArray(images)) return []
  const kept: ToolImage[] = []
  for (const image of images) {
    if (typeof image?.path !== 'string' || typeof image.mediaType !== 'string') continue
    try {
      kept.push({ path: normalizeRelativePath(image.path), mediaType: image.mediaType })
    } catch {
      // An absolute or `..` path: not a workspace file.
    }
  }
  return kept
}

/** Some models send the arguments object as a JSON string, sometimes twice encoded. */
function unwrapInput(raw: unknown): unknown {
  let value = raw
  for (let i = 0; i < 2 && typeof value === 'string'; i++) {
    const text = value.trim()
    if (!text.startsWith('{')) break
    try {
      value = JSON.parse(text)
    } catch {
      break
    }
  }
  return value ?? {}
}

function invalidInputResult(tool: AnyTool, rawInput: unknown, error: z.ZodError): ToolResult {
  const input = unwrapInput(rawInput)
  const problems = error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.join('.') : '(arguments)'
    const missing = issue.path.length > 0 && valueAt(input, issue.path) === undefined
    return `- ${where}: ${missing ? 'missing (required)' : issue.message}`
  })
  return {
    output:
      `Invalid arguments for tool \`${tool.name}\`; it was not run. Fix these and call it again:\n${problems.join('\n')}\n` +
      `Parameters:\n${describeParameters(tool.parameters)}`,
    isError: true,
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined
    current = (current as Record<PropertyKey, unknown>)[key]
  }
  return current
}

function failureResult(tool: AnyTool, error: unknown, context: ToolContext): ToolResult {
  if (context.signal.aborted) return { output: `Tool ${tool.name} was cancelled.`, isError: true }
  if (isBerthError(error)) return { output: `Error: ${error.message}`, isError: true }
  context.logger.error({ err: error, tool: tool.name, toolCallId: context.toolCallId }, 'tool failed')
  const message = error instanceof Error ? error.message : String(error)
  return { output: `Error: tool ${tool.name} failed: ${message}`, isError: true }
}
