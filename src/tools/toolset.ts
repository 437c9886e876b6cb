import type { LlmToolSpec } from '../llm/types.js'
import type { Logger } from '../logging/logger.js'
import { createMediaProviders, type MediaConfig, mediaSecrets } from '../media/media-config.js'
import type { MediaProviders } from '../media/types.js'
import type { ShellSandbox } from './bash/sandbox.js'
import { createBashTool } from './bash.js'
import { type BrowserConfig, browserToolsFor } from './browser/index.js'
import { createCompleteTool } from './complete.js'
import { createDisplayImageTool } from './display-image.js'
import { createGetTextFromLocalFileTool } from './get-text-from-local-file.js'
import { createImageSearchTool } from './image-search.js'
import { parametersJsonSchema } from './json-schema.js'
import { createListFilesTool } from './list-files.js'
import { createListHtmlLinksTool } from './list-html-links.js'
import { mediaToolsFor } from './media/index.js'
import { createMessageUserTool } from './message-user.js'
import { createPdfTextExtractTool } from './pdf-text-extract.js'
import type { AnyTool } from './run-tool.js'
import { createSequentialThinkingTool } from './sequential-thinking.js'
import { createStaticDeployTool } from './static-deploy.js'
import { createStrReplaceEditorTool } from './str-replace-editor.js'
import { createVisitWebpageTool } from './visit-webpage.js'
import { createWebService, type WebConfig } from './web/web-provider.js'
import { createWebSearchTool } from './web-search.js'
import { createYoutubeTranscriptTool } from './youtube-transcript.js'

/** The settings the toolset reads; `BerthConfig` satisfies it. */
export interface ToolsetConfig extends WebConfig, Partial<BrowserConfig>, Partial<MediaConfig> {
  /** BERTH_BASH_TIMEOUT, seconds. */
  bashTimeout: number
  /** Configured LLM keys: kept out of the shell's environment even when set under other names. */
  chutesApiKey?: string | undefined
  openrouterApiKey?: string | undefined
  openaiApiKey?: string | undefined
  anthropicApiKey?: string | undefined
}

/**
 * The agent's tools, with the reference's names and input schemas: always
 * sequential_thinking, static_deploy, str_replace_editor, bash, list_files,
 * message_user and complete; web_search and visit_webpage (a keyed provider
 * when configured, DuckDuckGo and a plain fetch otherwise), youtube_video_transcript
 * and list_html_links; image_search only with SERPER_API_KEY; the 13 browser_*
 * tools when chromium is installed at BERTH_BROWSER_PATH; the media tools (media/) whose
 * provider is configured (`options.media`, else from the settings). Tools keep per-session state in
 * `ToolContext.resources`, so one toolset serves every session. The shell
 * runs in `options.sandbox` (the host when none is given); `options.logger`
 * hears from the shared chromium (exits, its sandbox).
 *
 * @example
 *   const tools = createToolset(config, { sandbox })
 *   const request = { ..., tools: toolSpecs(tools) }
 */
export function createToolset(
  config: ToolsetConfig,
  options: { sandbox?: ShellSandbox; logger?: Logger; media?: MediaProviders } = {},
): AnyTool[] {
  const secretValues = configuredSecrets(config)
  const web = createWebService(config)
  const media =
    options.media ??
    createMediaProviders(
      config,
      options.logger === undefined ? {} : { logger: options.logger.child({ part: 'media' }) },
    )
  return [
    createSequentialThinkingTool(),
    createWebSearchTool(web),
    createVisitWebpageTool(web, { arxivBaseUrl: config.arxivBaseUrl }),
    createYoutubeTranscriptTool(config),
    createStaticDeployTool(),
    createStrReplaceEditorTool(),
    createGetTextFromLocalFileTool(media.transcription ? { transcription: media.transcription } : {}),
    createPdfTextExtractTool(),
    createBashTool({
      timeoutSeconds: config.bashTimeout,
      secretValues,
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
    }),
    createListFilesTool(),
    createListHtmlLinksTool(),
    ...browserToolsFor(config, options.logger === undefined ? {} : { logger: options.logger }),
    ...(config.serperApiKey ? [createImageSearchTool(config.serperApiKey, { baseUrl: config.serperBaseUrl })] : []),
    createDisplayImageTool(),
    ...mediaToolsFor(media),
    createMessageUserTool(),
    createCompleteTool(),
  ]
}

/** Which tools a run gets: berth's full set, or the set of the reference's GAIA runner. */
export type ToolsetName = 'default' | 'gaia'

/**
 * The tools the reference's GAIA runner gives its agent (run_gaia.py):
 * thinking, search and page reading, the editor and the shell, the browser
 * without its tab tools, the file reader, display_image and YouTube
 * transcripts, plus complete, which its agent always has. Nothing to deploy,
 * no message_user: a GAIA task is one question and one answer.
 */
export const GAIA_TOOL_NAMES: readonly string[] = [
  'sequential_thinking',
  'web_search',
  'visit_webpage',
  'str_replace_editor',
  'bash',
  'browser_navigation',
  'browser_restart',
  'browser_scroll_down',
  'browser_scroll_up',
  'browser_view_interactive_elements',
  'browser_wait',
  'browser_click',
  'browser_enter_text',
  'browser_press_key',
  'browser_get_select_options',
  'browser_select_dropdown_option',
  'get_text_from_local_file',
  'display_image',
  'youtube_video_transcript',
  'complete',
]

/**
 * The tools of the named set out of a `createToolset` list: all of them, or
 * those in `GAIA_TOOL_NAMES` (the browser ones only where the list has them).
 * The same tool objects, so both sets share one web service and one browser.
 *
 * @example
 *   const gaia = selectToolset(createToolset(config, { sandbox }), 'gaia') // [sequential_thinking, web_search, ..., complete]
 */
export function selectToolset(tools: readonly AnyTool[], name: ToolsetName): AnyTool[] {
  return name === 'gaia' ? tools.filter((tool) => GAIA_TOOL_NAMES.includes(tool.name)) : [...tools]
}

/** The configured keys: kept out of every shell's environment, whatever variable holds them. */
export function configuredSecrets(config: ToolsetConfig): (string | undefined)[] {
  return [
    config.chutesApiKey,
    config.openrouterApiKey,
    config.openaiApiKey,
    config.anthropicApiKey,
    config.tavilyApiKey,
    config.jinaApiKey,
    config.serperApiKey,
    ...mediaSecrets(config),
  ]
}

/**
 * What the model is told about the tools: name, description and the JSON
 * Schema of the input (no `$schema` key, as OpenAI function parameters need).
 *
 * @example
 *   toolSpecs(tools).map((spec) => spec.name) // ['sequential_thinking', 'static_deploy', ...]
 */
export function toolSpecs(tools: readonly AnyTool[]): LlmToolSpec[] {
  return tools.map((tool) => ({
    name: tool.name,
    description: tool.description,
    inputSchema: parametersJsonSchema(tool.parameters),
  }))
}
