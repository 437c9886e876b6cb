import { describe, expect, it } from 'vitest'
import { estimateTokens } from '../../src/agent/context/token-estimator.js'
import { BROWSER_TOOLS } from '../../src/agent/prompt/sections.js'
import { buildSystemPrompt } from '../../src/agent/system-prompt.js'
import { MEDIA_TOOL_NAMES } from '../../src/tools/media/tool-names.js'
import { createToolset, GAIA_TOOL_NAMES, type ToolsetConfig } from '../../src/tools/toolset.js'

/** Tool names of a toolset, without the browser ones: whether those are offered depends on the machine's chromium. */
const namesOf = (config: Partial<ToolsetConfig>): string[] =>
  createToolset({ bashTimeout: 10, ...config })
    .map((tool) => tool.name)
    .filter((name) => !name.startsWith('browser_'))

const DEFAULT = namesOf({})
const WEB_KEYS = namesOf({ tavilyApiKey: 'k', jinaApiKey: 'k', serperApiKey: 'k' })
const WITH_BROWSER = [...WEB_KEYS, ...BROWSER_TOOLS]
/** Every tool berth can offer: the media tools come with their providers' keys. */
const ALL = [...WITH_BROWSER, ...MEDIA_TOOL_NAMES]

const TOOLSETS: Record<string, readonly string[]> = {
  minimal: [],
  default: DEFAULT,
  'web-keys': WEB_KEYS,
  browser: WITH_BROWSER,
  media: ALL,
  gaia: GAIA_TOOL_NAMES,
}

const prompt = (toolNames: readonly string[]): string =>
  buildSystemPrompt({
    workspaceDir: '/srv/berth/workspace/0b1c',
    publicUrl: 'https://berth.example',
    toolNames,
    now: new Date('2026-03-14T12:00:00Z'),
  })

/** The tools a prompt names: every backticked word (the prompt backticks tool names and nothing else). */
const backticked = (text: string): string[] => [...new Set([...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] ?? ''))]

/** Known tool names written anywhere, backticked or not (those with an underscore: "bash" or "complete" are words too). */
const knownNamesIn = (text: string): string[] =>
  ALL.filter((name) => name.includes('_') && new RegExp(`(^|[^a-z_])${name}([^a-z_]|$)`).test(text))

/** A small seeded generator (mulberry32), so the random tool sets are the same on every run. */
function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('the system prompt', () => {
  it('covers the toolsets this test names: the default has no image_search, the web keys add it', () => {
    expect(DEFAULT).not.toContain('image_search')
    expect(WEB_KEYS).toEqual(expect.arrayContaining([...DEFAULT, 'image_search']))
    // Browser tools the toolset offers on this machine are the ones the prompt knows.
    const browser = createToolset({ bashTimeout: 10 })
      .map((tool) => tool.name)
      .filter((name) => name.startsWith('browser_'))
    expect(browser.filter((name) => !(BROWSER_TOOLS as readonly string[]).includes(name))).toEqual([])
  })

  for (const [name, tools] of Object.entries(TOOLSETS)) {
    it(`for the ${name} toolset: names exactly the offered tools, and matches its snapshot`, async () => {
      const text = prompt(tools)
      expect(backticked(text).sort()).toEqual([...tools].sort())
      expect(knownNamesIn(text).filter((tool) => !tools.includes(tool))).toEqual([])
      expect(text).toContain('Today is 2026-03-14 (UTC).')
      expect(text).toContain('/srv/berth/workspace/0b1c')
      await expect(text).toMatchFileSnapshot(`./__snapshots__/system-prompt.${name}.md`)
    })
  }

  it('names exactly the offered tools for any subset of them (300 random sets)', () => {
    const random = seeded(15)
    for (let i = 0; i < 300; i++) {
      const tools = ALL.filter(() => random() < 0.3)
      const text = prompt(tools)
      expect(backticked(text).sort(), tools.join(',')).toEqual([...tools].sort())
      expect(
        knownNamesIn(text).filter((tool) => !tools.includes(tool)),
        tools.join(','),
      ).toEqual([])
    }
  })

  it('gives the public URL only with static_deploy, and ends with complete or with a plain answer', () => {
    expect(prompt(['static_deploy'])).toContain('served under https://berth.example')
    expect(prompt(['bash'])).not.toContain('https://berth.example')
    expect(prompt(['complete'])).toContain('call `complete` with the final answer')
    expect(prompt(['bash'])).toContain('reply with the final answer itself')
    expect(prompt(['bash'])).not.toContain('complete`')
  })

  it('stays small enough for small-context models: under 4,000 tokens with every tool', () => {
    const full = estimateTokens(prompt(ALL))
    const minimal = estimateTokens(prompt([]))
    expect(full).toBeLessThan(4000)
    expect(minimal).toBeLessThan(600)
    expect(full).toBeGreaterThan(minimal)
  })
})
