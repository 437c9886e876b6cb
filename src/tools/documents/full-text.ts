import type { ToolContext } from '../tool.js'

/**
 * Hand back at most `maxChars` of `text`; when it is longer, the whole text
 * is saved under `agent_memory/` and the result ends with a pointer to it,
 * so nothing is lost to the cap.
 *
 * @example
 *   await capWithFullText(context, 'uploaded_files/big.pdf', text, 25_000)
 *   // '<first ~24 800 characters>\n\n[... cut at ... The full text (1,234,567 characters) is in agent_memory/uploaded_files__big.pdf.txt ...]'
 */
export async function capWithFullText(
  context: ToolContext,
  source: string,
  text: string,
  maxChars: number,
): Promise<string> {
  if (text.length <= maxChars) return text
  let saved: string | null = `agent_memory/${source.replaceAll('/', '__')}.txt`
  try {
    await context.workspaces.writeFile(context.sessionId, saved, text)
  } catch (error) {
    context.logger.warn({ err: error, file: saved }, 'could not save the full text of a document')
    saved = null
  }
  const total = text.length.toLocaleString('en-US')
  const pointer =
    saved === null
      ? `\n\n[... the text goes on: ${total} characters in all. Saving the full text to agent_memory/ failed (the workspace may be full).]`
      : `\n\n[... the text goes on: ${total} characters in all. The full text is in ${saved}: ` +
        'read it in parts (str_replace_editor view with a view_range) or search it with bash (grep).]'
  const head = text.slice(0, Math.max(0, maxChars - pointer.length))
  return head + pointer
}
