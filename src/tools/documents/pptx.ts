import { XMLParser } from 'fast-xml-parser'
import { BerthError } from '../../core/errors.js'
import type { DocumentLimits } from './limits.js'
import { readEntry, unpackBudget, walkZip } from './zip.js'

const SLIDE_PART = /^ppt\/slides\/slide(\d+)\.xml$/

/**
 * The text of a presentation, slide by slide (`--- Slide N ---`), one line
 * per paragraph, in the order the deck shows them: the slide list of
 * `ppt/presentation.xml` through its relationships; without one, by the
 * number in the part name (`ppt/slides/slideN.xml`). Caller has checked the
 * zip with `listZip`.
 *
 * @example
 *   await pptxToText('/ws/deck.pptx', 'deck.pptx', limits) // '--- Slide 1 ---\nTitle\n...'
 */
export async function pptxToText(file: string, shownName: string, limits: DocumentLimits): Promise<string> {
  const budget = unpackBudget(shownName, limits)
  const slides = new Map<string, string>()
  let presentation = ''
  let relationships = ''
  await walkZip(file, shownName, async (entry, open) => {
    const isSlide = SLIDE_PART.test(entry.name)
    if (!isSlide && entry.name !== PRESENTATION && entry.name !== PRESENTATION_RELS) return
    const xml = (await readEntry(await open(), budget)).toString('utf8')
    if (isSlide) slides.set(entry.name, slideText(xml))
    else if (entry.name === PRESENTATION) presentation = xml
    else relationships = xml
  })
  if (slides.size === 0) {
    throw new BerthError('DOCUMENT_UNREADABLE', `${shownName} has no slides (no ppt/slides/slideN.xml parts).`, {
      details: { file: shownName },
    })
  }
  const order = slideOrder(presentation, relationships, [...slides.keys()])
  return [
    `Presentation: ${shownName}, ${order.length} slide${order.length === 1 ? '' : 's'}`,
    ...order.map((part, i) => `--- Slide ${i + 1} ---\n${slides.get(part) ?? ''}`),
  ].join('\n\n')
}

const PRESENTATION = 'ppt/presentation.xml'
const PRESENTATION_RELS = 'ppt/_rels/presentation.xml.rels'

const attributeParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  isArray: (name) => name === 'p:sldId' || name === 'Relationship',
})

/** Slide part names in the deck's order; parts the list does not name (or every part, without a list) by number. */
function slideOrder(presentation: string, relationships: string, parts: string[]): string[] {
  const byNumber = (a: string, b: string) => partNumber(a) - partNumber(b)
  try {
    const rels = attributeParser.parse(relationships)?.Relationships?.Relationship ?? []
    const targets = new Map<string, string>()
    for (const rel of rels as Record<string, string>[]) {
      if (rel['@Id'] && rel['@Target'])
        targets.set(rel['@Id'], `ppt/${rel['@Target'].replace(/^\/?ppt\//, '').replace(/^\.\//, '')}`)
    }
    const ids = attributeParser.parse(presentation)?.['p:presentation']?.['p:sldIdLst']?.['p:sldId'] ?? []
    const listed = (ids as Record<string, string>[])
      .map((id) => targets.get(id['@r:id'] ?? ''))
      .filter((part): part is string => part !== undefined && parts.includes(part))
    const rest = parts.filter((part) => !listed.includes(part)).sort(byNumber)
    return [...new Set(listed), ...rest]
  } catch {
    return [...parts].sort(byNumber)
  }
}

function partNumber(part: string): number {
  return Number(SLIDE_PART.exec(part)?.[1] ?? 0)
}

type OrderedNode = Record<string, unknown>

const parser = new XMLParser({ preserveOrder: true, ignoreAttributes: true, trimValues: false, parseTagValue: false })

/** Paragraph texts (`a:p`) of a slide in document order; runs (`a:t`) joined, `a:br` a line break. */
function slideText(xml: string): string {
  const paragraphs: string[] = []
  let current: string[] | null = null
  const walk = (nodes: unknown, insideText: boolean) => {
    if (!Array.isArray(nodes)) return
    for (const node of nodes as OrderedNode[]) {
      for (const [tag, children] of Object.entries(node)) {
        if (tag === ':@') continue
        if (tag === '#text') {
          if (insideText && current !== null) current.push(String(children))
        } else if (tag === 'a:p') {
          const outer = current
          current = []
          walk(children, false)
          paragraphs.push(current.join(''))
          current = outer
        } else if (tag === 'a:br') {
          current?.push('\n')
        } else {
          walk(children, tag === 'a:t')
        }
      }
    }
  }
  walk(parser.parse(xml), false)
  return paragraphs
    .map((p) => p.trim())
    .filter((p) => p !== '')
    .join('\n')
}
