import { PROMPT_SECTIONS, type PromptContext, type PromptSection } from './prompt/sections.js'

/**
 * The system prompt of a run: who the agent is, the date, the workspace, then
 * the working rules of src/agent/prompt/sections.ts for the tools this run is
 * offered (a section only when one of its tools is, a line naming a tool only
 * when that tool is). Free of per-run noise beyond the date, the workspace and
 * the public URL, so a replay's prompt is predictable. About 2,500 tokens with
 * every tool (`npm run bench:agent` prints the sizes).
 *
 * @example
 *   buildSystemPrompt({ workspaceDir: '/var/data/workspace/abc', publicUrl: 'https://x.dev', toolNames: ['bash'] })
 */
export function buildSystemPrompt(input: {
  workspaceDir: string
  publicUrl: string
  toolNames: readonly string[]
  now?: Date
}): string {
  const date = (input.now ?? new Date()).toISOString().slice(0, 10)
  const offered = new Set(input.toolNames)
  const context: PromptContext = {
    publicUrl: input.publicUrl,
    has: (name) => offered.has(name),
    any: (...names) => names.some((name) => offered.has(name)),
    toolCount: offered.size,
  }
  const parts = [
    [
      'You are berth, an AI agent. You complete the task yourself, step by step, and check your work before you hand it over.',
      `Today is ${date} (UTC).`,
      `Your workspace is ${input.workspaceDir}: keep your files in it, and give tools paths relative to it.`,
      'Files the user uploads are in uploaded_files/. Older tool output may have been moved to agent_memory/ to save room; the note left in its place gives the file to read.',
    ].join('\n'),
  ]
  for (const section of PROMPT_SECTIONS) {
    const text = renderSection(section, context)
    if (text !== null) parts.push(text)
  }
  return parts.join('\n\n')
}

/** A section's heading and lines as a bulleted list; null when none of its tools is offered or no line is left. */
function renderSection(section: PromptSection, context: PromptContext): string | null {
  if (section.tools.length > 0 && !context.any(...section.tools)) return null
  const lines = section.lines(context).filter((line): line is string => typeof line === 'string' && line !== '')
  if (lines.length === 0) return null
  return [`## ${section.title}`, ...lines.map((line) => `- ${line}`)].join('\n')
}
