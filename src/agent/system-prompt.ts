/**
 * The system prompt of a run. Kept short and free of per-run noise beyond the
 * date, the workspace and the public URL, so a replay's prompt is predictable.
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
  const has = (name: string) => input.toolNames.includes(name)
  const lines = [
    'You are berth, an AI agent that completes tasks by planning and using tools.',
    `Today is ${date} (UTC).`,
    `Your workspace is ${input.workspaceDir}: work inside it, with paths relative to it where tools accept them.`,
    'Files the user uploads are in uploaded_files/. Earlier tool output may have been saved to agent_memory/.',
    'Use tools step by step; read each result before the next step. If a tool fails, fix the call and try again.',
  ]
  if (has('static_deploy')) {
    lines.push(`To share a web page or file, deploy it with static_deploy; it is served under ${input.publicUrl}.`)
  }
  if (has('complete')) {
    lines.push('When the task is done, call complete with your final answer.')
  } else {
    lines.push('When the task is done, answer with your final answer and no tool call.')
  }
  lines.push('Answer in the language the user writes in.')
  return lines.join('\n')
}
