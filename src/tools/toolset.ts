import type { LlmToolSpec } from '../llm/types.js'
import type { ShellSandbox } from './bash/sandbox.js'
import { createBashTool } from './bash.js'
import { createCompleteTool } from './complete.js'
import { createDisplayImageTool } from './display-image.js'
import { createGetTextFromLocalFileTool } from './get-text-from-local-file.js'
import { createImageSearchTool } from './image-search.js'
import { parametersJsonSchema } from './json-schema.js'
import { createListFilesTool } from './list-files.js'
import { createListHtmlLinksTool } from './list-html-links.js'
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
export interface ToolsetConfig extends WebConfig {
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
 * and list_html_links; image_search only with SERPER_API_KEY. Tools keep per-session state in
 * `ToolContext.resources`, so one toolset serves every session. The shell
 * runs in `options.sandbox` (the host when none is given).
 *
 * @example
 *   const tools = createToolset(config, { sandbox })
 *   const request = { ..., tools: toolSpecs(tools) }
 */
export function createToolset(config: ToolsetConfig, options: { sandbox?: ShellSandbox } = {}): AnyTool[] {
  const secretValues = configuredSecrets(config)
  const web = createWebService(config)
  return [
    createSequentialThinkingTool(),
    createWebSearchTool(web),
    createVisitWebpageTool(web, { arxivBaseUrl: config.arxivBaseUrl }),
    createYoutubeTranscriptTool(config),
    createStaticDeployTool(),
    createStrReplaceEditorTool(),
    createGetTextFromLocalFileTool(),
    createPdfTextExtractTool(),
    createBashTool({
      timeoutSeconds: config.bashTimeout,
      secretValues,
      ...(options.sandbox === undefined ? {} : { sandbox: options.sandbox }),
    }),
    createListFilesTool(),
    createListHtmlLinksTool(),
    ...(config.serperApiKey ? [createImageSearchTool(config.serperApiKey, { baseUrl: config.serperBaseUrl })] : []),
    createDisplayImageTool(),
    createMessageUserTool(),
    createCompleteTool(),
  ]
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
