import { lstat, rm, stat } from 'node:fs/promises'
import { z } from 'zod'
import { BerthError } from '../core/errors.js'
import { resolveWriteTarget, writeFileThrough } from '../workspace/write-through.js'
import { EditHistory } from './editor/edit-history.js'
import {
  countLines,
  describeLimit,
  lineStart,
  numbered,
  numberedView,
  occurrences,
  readTextFile,
  SNIPPET_LINES,
  sliceLines,
  toolError,
} from './editor/file-text.js'
import { LineEndedText } from './editor/line-endings.js'
import { listTree } from './file-tree.js'
import { DEFAULT_MAX_OUTPUT_CHARS } from './output-cap.js'
import { intParam } from './params.js'
import { defineTool, type Tool, type ToolContext, type ToolResult } from './tool.js'
import { resolveToolPath } from './workspace-path.js'

/** Largest file `view` reads whole. */
const MAX_VIEW_BYTES = 20 * 1024 * 1024
/** Largest file the editor rewrites, before and after the edit (bench/tools.bench.ts times an edit at this size). */
export const MAX_EDIT_BYTES = 16 * 1024 * 1024
/**
 * Largest file a `file_edit` event carries. Each event is stored for good and
 * every viewer keeps each version for its diff, so a bigger file is edited
 * without one; the tool result still shows the edited lines.
 */
export const MAX_FILE_EDIT_EVENT_BYTES = 2 * 1024 * 1024
const MAX_DIR_ENTRIES = 1000
/**
 * Line text one `view` shows before it stops with a note naming the lines
 * left out (as the reference clips a long file). Below the output cap of
 * every tool (src/tools/output-cap.ts), so the note is what the model sees
 * rather than a cut in the middle.
 */
const VIEW_CHARS = DEFAULT_MAX_OUTPUT_CHARS - 4000

export const HISTORY_RESOURCE = 'str_replace_editor.history'

const DESCRIPTION = `Custom editing tool for viewing, creating and editing files
* State is persistent across command calls and discussions with the user
* If \`path\` is a file, \`view\` displays the result of applying \`cat -n\`. If \`path\` is a directory, \`view\` lists non-hidden files and directories up to 2 levels deep
* The \`create\` command cannot be used if the specified \`path\` already exists as a non-empty file
* If a \`command\` generates a long output, it will be truncated
* The \`undo_edit\` command will revert the last edit made to the file at \`path\`
* Paths are relative to the workspace folder (absolute paths inside the workspace work too)

Notes for using the \`str_replace\` command:
* The \`old_str\` parameter should match EXACTLY one or more consecutive lines from the original file. Be mindful of whitespaces!
* If the \`old_str\` parameter is not unique in the file, the replacement will not be performed. Make sure to include enough context in \`old_str\` to make it unique
* The \`new_str\` parameter should contain the edited lines that should replace the \`old_str\``

const parameters = z.object({
  command: z
    .enum(['view', 'create', 'str_replace', 'insert', 'undo_edit'])
    .describe('The commands to run. Allowed options are: `view`, `create`, `str_replace`, `insert`, `undo_edit`.'),
  path: z.string().describe('Path to file or directory, relative to the workspace.'),
  file_text: z
    .string()
    .optional()
    .describe('Required parameter of `create` command, with the content of the file to be created.'),
  old_str: z
    .string()
    .optional()
    .describe('Required parameter of `str_replace` command containing the string in `path` to replace.'),
  new_str: z
    .string()
    .optional()
    .describe(
      'Required parameter of `str_replace` command containing the new string. ' +
        'Required parameter of `insert` command containing the string to insert.',
    ),
  insert_line: intParam(
    'Required parameter of `insert` command. The `new_str` will be inserted AFTER the line `insert_line` of `path`.',
  ).optional(),
  view_range: z
    .array(intParam('A line number (1-based; -1 as the second element means the end of the file).'))
    .optional()
    .describe(
      'Optional parameter of `view` command when `path` points to a file. If none is given, the full file is shown. ' +
        'If provided, the file will be shown in the indicated line number range, e.g. [11, 12] will show lines 11 and 12. ' +
        'Indexing at 1 to start. Setting `[start_line, -1]` shows all lines from `start_line` to the end of the file.',
    ),
})

type EditorInput = z.output<typeof parameters>

/**
 * The `str_replace_editor` tool (the reference's view / create / str_replace
 * / insert / undo_edit), confined to the workspace through the containment
 * door. Every change is written atomically within the quota, through a
 * symlink that stays inside the workspace, keeping the file's line endings
 * and permission bits, and is emitted as `file_edit {path, content,
 * total_lines}` with the workspace-relative path and `\n` line breaks.
 *
 * @example
 *   await runTool(createStrReplaceEditorTool(), { command: 'create', path: 'site/index.html', file_text: '<h1>Hi</h1>' }, ctx)
 */
export function createStrReplaceEditorTool(): Tool<EditorInput> {
  return defineTool({
    name: 'str_replace_editor',
    description: DESCRIPTION,
    parameters,
    async execute(input, context) {
      const isView = input.command === 'view'
      const { absolute, relative } = await resolveToolPath(context, input.path, { allowRoot: isView })
      const shown = relative === '' ? '.' : relative
      const info = await stat(absolute).catch(() => null)
      if (info === null && (await isSymlink(absolute))) {
        // A dangling link: resolveWriteTarget throws the error that names where it points.
        await resolveWriteTarget(context.workspaces, context.sessionId, relative, { storedDir: context.workspaceDir })
      }
      if (info === null && input.command !== 'create') {
        throw toolError(`The path ${shown} does not exist. Please provide a valid path.`)
      }
      if (info?.isDirectory() && !isView) {
        throw toolError(`The path ${shown} is a directory and only the \`view\` command can be used on directories`)
      }
      const file: EditTarget = { absolute, relative, shown, context }
      // The reference shows the whole file for an empty `view_range` too.
      const viewRange = input.view_range?.length === 0 ? undefined : input.view_range
      switch (input.command) {
        case 'view':
          return info?.isDirectory() ? viewDirectory(file, viewRange) : viewFile(file, viewRange)
        case 'create':
          return create(file, input.file_text, info !== null)
        case 'str_replace':
          return strReplace(file, input.old_str, input.new_str ?? '')
        case 'insert':
          return insert(file, input.insert_line, input.new_str)
        case 'undo_edit':
          return undo(file)
      }
    },
  })
}

interface EditTarget {
  absolute: string
  relative: string
  shown: string
  context: ToolContext
}

async function viewDirectory(file: EditTarget, viewRange: number[] | undefined): Promise<ToolResult> {
  if (viewRange !== undefined) {
    throw toolError('The `view_range` parameter is not allowed when `path` points to a directory.')
  }
  const { entries, truncated } = await listTree(file.absolute, { depth: 2, maxEntries: MAX_DIR_ENTRIES })
  const prefix = file.relative === '' ? '' : `${file.relative}/`
  const lines = [file.relative === '' ? './' : `${file.relative}/`, ...entries.map((e) => `${prefix}${e.path}`)]
  if (truncated) lines.push(`[... listing stopped after ${MAX_DIR_ENTRIES} entries ...]`)
  return {
    output: `Here's the files and directories up to 2 levels deep in ${file.shown}, excluding hidden items:\n${lines.join('\n')}\n`,
  }
}

async function viewFile(file: EditTarget, viewRange: number[] | undefined): Promise<ToolResult> {
  const raw = await readTextFile(file.absolute, file.shown, { maxBytes: MAX_VIEW_BYTES, forEdit: false })
  const doc = LineEndedText.parse(raw)
  const content = doc.text
  const total = doc.lineCount
  if (viewRange === undefined) return { output: numberedView(content, file.shown, total, 1, total, VIEW_CHARS) }
  if (viewRange.length !== 2) throw toolError('Invalid `view_range`. It should be a list of two integers.')
  const [first, last] = viewRange as [number, number]
  if (first < 1 || first > total) {
    throw toolError(
      `Invalid \`view_range\`: [${first}, ${last}]. Its first element \`${first}\` should be within the range of lines of the file: [1, ${total}]`,
    )
  }
  if (last > total) {
    throw toolError(
      `Invalid \`view_range\`: [${first}, ${last}]. Its second element \`${last}\` should be smaller than the number of lines in the file: \`${total}\``,
    )
  }
  if (last !== -1 && last < first) {
    throw toolError(
      `Invalid \`view_range\`: [${first}, ${last}]. Its second element \`${last}\` should be larger or equal than its first \`${first}\``,
    )
  }
  return { output: numberedView(content, file.shown, total, first, last === -1 ? total : last, VIEW_CHARS) }
}

async function create(file: EditTarget, text: string | undefined, exists: boolean): Promise<ToolResult> {
  if (text === undefined) throw toolError('Parameter `file_text` is required for command: create')
  let previous: string | null = null
  if (exists) {
    previous = await readForEdit(file)
    if (previous.trim() !== '') {
      throw toolError(
        `File already exists and is not empty at: ${file.shown}. Cannot overwrite non empty files using command \`create\`. ` +
          'Use `str_replace` to change it.',
      )
    }
  }
  // Written as given: a new file has no line endings of its own to keep.
  await write(file, text, LineEndedText.parse(text).text, previous)
  return { output: `File created successfully at: ${file.shown}` }
}

async function strReplace(file: EditTarget, oldStrRaw: string | undefined, newStrRaw: string): Promise<ToolResult> {
  if (oldStrRaw === undefined) throw toolError('Parameter `old_str` is required for command: str_replace')
  const raw = await readForEdit(file)
  const doc = LineEndedText.parse(raw)
  const content = doc.text
  // Matched with \n breaks whatever the file uses on disk, as the reference's universal-newline read does.
  const oldStr = LineEndedText.parse(oldStrRaw).text
  const newStr = LineEndedText.parse(newStrRaw).text
  if (oldStr.trim() === '') {
    if (content.trim() !== '') {
      throw toolError(
        `No replacement was performed, old_str is empty which is only allowed when the file is empty. The file ${file.shown} is not empty.`,
      )
    }
    const whole = doc.replace(0, content.length, newStrRaw)
    await write(file, whole.serialize(), whole.text, raw)
    return {
      output: edited(file.shown, numberedView(whole.text, file.shown, whole.lineCount, 1, whole.lineCount, VIEW_CHARS)),
    }
  }
  const found = occurrences(content, oldStr)
  if (found.count === 0) {
    throw toolError(
      `No replacement was performed, old_str \n \`\`\`\n${oldStrRaw}\n\`\`\`\n did not appear verbatim in ${file.shown}.`,
    )
  }
  if (found.count > 1) {
    const more = found.more ? ', and more' : ''
    throw toolError(
      `No replacement was performed. Multiple occurrences (${found.count}) of old_str \n \`\`\`\n${oldStrRaw}\n\`\`\`\n ` +
        `in lines [${found.lines.join(', ')}${more}]. Please ensure it is unique`,
    )
  }
  const updated = doc.replace(content.indexOf(oldStr), oldStr.length, newStrRaw)
  await write(file, updated.serialize(), updated.text, raw)
  const replacementLine = (found.lines[0] as number) - 1
  const start = Math.max(0, replacementLine - SNIPPET_LINES)
  const end = replacementLine + SNIPPET_LINES + countChar(newStr, '\n')
  const snippet = sliceLines(updated.text, start, end + 1).join('\n')
  return {
    output: edited(file.shown, numbered(snippet, `a snippet of ${file.shown}`, updated.lineCount, start + 1)),
  }
}

async function insert(
  file: EditTarget,
  insertLine: number | undefined,
  newStrRaw: string | undefined,
): Promise<ToolResult> {
  if (insertLine === undefined) throw toolError('Parameter `insert_line` is required for command: insert')
  if (newStrRaw === undefined) throw toolError('Parameter `new_str` is required for command: insert')
  const raw = await readForEdit(file)
  const doc = LineEndedText.parse(raw)
  const content = doc.text
  const total = doc.lineCount
  if (insertLine < 0 || insertLine > total) {
    throw toolError(
      `Invalid \`insert_line\` parameter: ${insertLine}. It should be within the range of lines of the file: [0, ${total}]`,
    )
  }
  // After line n: before the start of line n+1, or, after the last line, at the end behind a new break.
  const updated =
    insertLine < total
      ? doc.replace(lineStart(content, insertLine), 0, `${newStrRaw}\n`)
      : doc.replace(content.length, 0, `\n${newStrRaw}`)
  await write(file, updated.serialize(), updated.text, raw)
  const snippet = [
    ...sliceLines(content, Math.max(0, insertLine - SNIPPET_LINES), insertLine),
    ...LineEndedText.parse(newStrRaw).text.split('\n'),
    ...sliceLines(content, insertLine, insertLine + SNIPPET_LINES),
  ].join('\n')
  const first = Math.max(1, insertLine - SNIPPET_LINES + 1)
  return {
    output:
      `The file ${file.shown} has been edited. ${numbered(snippet, 'a snippet of the edited file', updated.lineCount, first)}` +
      'Review the changes and make sure they are as expected (correct indentation, no duplicate lines, etc). Edit the file again if necessary.',
  }
}

async function undo(file: EditTarget): Promise<ToolResult> {
  const previous = history(file.context).pop(file.relative)
  if (previous === undefined) throw toolError(`No edit history found for ${file.shown}.`)
  if (previous === null) {
    // The undone edit created the file: undoing it removes the file again.
    await rm(file.absolute, { force: true })
    return { output: `Last edit to ${file.shown} undone successfully: the file it created was removed.` }
  }
  const { context } = file
  await writeFileThrough(context.workspaces, context.sessionId, file.relative, previous, {
    storedDir: context.workspaceDir,
  })
  const restored = LineEndedText.parse(previous)
  await emitFileEdit(file, restored.text)
  const total = restored.lineCount
  return {
    output: `Last edit to ${file.shown} undone successfully.\n${numberedView(restored.text, file.shown, total, 1, total, VIEW_CHARS)}`,
  }
}

function readForEdit(file: EditTarget): Promise<string> {
  return readTextFile(file.absolute, file.shown, { maxBytes: MAX_EDIT_BYTES, forEdit: true })
}

/** Write `content` (the bytes to store) and emit `text` (the same with \n breaks) as the `file_edit`. */
async function write(file: EditTarget, content: string, text: string, previous: string | null): Promise<void> {
  const bytes = Buffer.from(content, 'utf8')
  if (bytes.byteLength > MAX_EDIT_BYTES) {
    throw new BerthError(
      'FILE_TOO_LARGE',
      `The new content of ${file.shown} would be ${bytes.byteLength} bytes, more than the ${describeLimit(MAX_EDIT_BYTES)} ` +
        'this tool writes; nothing was changed. Write it with bash instead.',
      { details: { path: file.relative, bytes: bytes.byteLength, limitBytes: MAX_EDIT_BYTES } },
    )
  }
  const { context } = file
  await writeFileThrough(context.workspaces, context.sessionId, file.relative, bytes, {
    storedDir: context.workspaceDir,
  })
  history(context).push(file.relative, previous)
  await emitFileEdit(file, text)
}

async function emitFileEdit(file: EditTarget, text: string): Promise<void> {
  if (Buffer.byteLength(text, 'utf8') > MAX_FILE_EDIT_EVENT_BYTES) return
  await file.context.emit({
    type: 'file_edit',
    content: { path: file.relative, content: text, total_lines: countLines(text) },
  })
}

async function isSymlink(absolute: string): Promise<boolean> {
  return (await lstat(absolute).catch(() => null))?.isSymbolicLink() ?? false
}

function history(context: ToolContext): EditHistory {
  return context.resources.get(HISTORY_RESOURCE, () => new EditHistory())
}

function edited(shown: string, rendering: string): string {
  return `The file ${shown} has been edited. ${rendering}Review the changes and make sure they are as expected. Edit the file again if necessary.`
}

function countChar(text: string, char: string): number {
  let n = 0
  for (const c of text) if (c === char) n++
  return n
}
