import { fetchTranscript, type TranscriptResponse, YoutubeTranscriptError } from 'youtube-transcript'
import { z } from 'zod'
import { BerthError } from '../core/errors.js'
import { defineTool, type Tool } from './tool.js'
import { trimBase } from './web/json-shape.js'
import { safeFetchFunction } from './web/safe-fetch.js'
import { keylessFetchOptions, type WebConfig } from './web/web-provider.js'

const parameters = z.object({
  url: z.string().min(1).describe('Youtube Video URL'),
})

/**
 * The `youtube_video_transcript` tool: the captions of a YouTube video as
 * plain text, English when there are English ones, else the first language
 * offered (named in the output). youtube-transcript does the talking to
 * YouTube; it takes a `fetch`, and ours is `safeFetch` (timeout, size cap,
 * the run's signal) with www.youtube.com pointed at BERTH_YOUTUBE_BASE_URL
 * when set (a local server in tests). Only youtube.com hosts are fetched.
 *
 * @example
 *   await runTool(createYoutubeTranscriptTool(config), { url: 'https://youtu.be/dQw4w9WgXcQ' }, ctx)
 */
export function createYoutubeTranscriptTool(config: WebConfig): Tool<z.output<typeof parameters>> {
  return defineTool({
    name: 'youtube_video_transcript',
    description:
      'Retrieves the transcript of a YouTube video (its subtitles, or the automatic captions when there are no ' +
      'manual ones) as text.',
    parameters,
    async execute(input, context) {
      const { timeoutMs, maxBytes } = keylessFetchOptions(config)
      // The hosts are fixed (youtube.com, or the operator's base URL), never the model's choice: no address guard.
      const fetch = safeFetchFunction({ signal: context.signal, timeoutMs, maxBytes, allowPrivate: true }, (url) =>
        toYoutubeBase(url, config.youtubeBaseUrl),
      )
      let lines: TranscriptResponse[]
      let note = ''
      try {
        try {
          lines = await fetchTranscript(input.url, { lang: 'en', fetch })
        } catch (error) {
          // No English track: the library then also tries the watch page, which may fail for other reasons
          // (a consent page, a bot check). Asked without a language, it takes the first track the player lists.
          if (!(error instanceof YoutubeTranscriptError)) throw error
          lines = await fetchTranscript(input.url, { fetch })
          const lang = lines[0]?.lang
          if (lang !== undefined && lang !== 'en' && !lang.startsWith('en-')) {
            note = `(No English transcript; this one is in ${lang}.)\n\n`
          }
        }
      } catch (error) {
        if (error instanceof BerthError) throw error
        if (error instanceof YoutubeTranscriptError) {
          const message = error.message.replace(/^\[YoutubeTranscript\]\s*\S*\s*/u, '')
          return { output: `Could not get a transcript for ${input.url}: ${message}`, isError: true }
        }
        throw error
      }
      const text = lines
        .map((line) => line.text.replace(/\s+/g, ' ').trim())
        .filter((line) => line !== '')
        .join(' ')
      if (text === '') return { output: `The transcript of ${input.url} is empty.`, isError: true }
      return { output: note + text }
    },
  })
}

function toYoutubeBase(url: URL, base: string | undefined): string {
  if (url.hostname !== 'youtube.com' && !url.hostname.endsWith('.youtube.com')) {
    throw new BerthError('WEB_REQUEST_FAILED', `Refused to fetch ${url.hostname}: transcripts come from youtube.com.`)
  }
  return base === undefined ? url.toString() : `${trimBase(base)}${url.pathname}${url.search}`
}
