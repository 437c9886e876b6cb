import { XMLParser } from 'fast-xml-parser'
import { BerthError } from '../../core/errors.js'
import type { DocumentLimits } from './limits.js'
import { readEntry, unpackBudget, walkZip } from './zip.js'

const SLIDE_PART = /^ppt\/slides\/slide(\d+)\.xml$/

/**
 * The text of a presentation, slide by slide (`--- Slide N ---`), one line
 * per paragraph. Slides are ordered by the number in their part name
 * (`ppt/slides/slideN.xml`), which is their order unless slides were moved
 * around after they were made. Caller has checked the zip with `listZip`.
 *
 * @example
 *   await pptxToText('/ws/deck.pptx', 'deck.pptx', limits) // '--- Slide 1 ---\nTitle\n...'
 */
export async function pptxToText(file: string, shownName: string, limits: DocumentLimits): Promise<string> {
  const budget = unpackBudget(shownName, limits)
  const slides: { number: number; text: string }[] = []
  await walkZip(file, shownName, async (entry, open) => {
    const match = SLIDE_PART.exec(entry.name)
    if (match === null) return
    const xml = (await readEntry(await open(), budget)).toString('utf8')
    slides.push({ number: Number(match[1]), text: slideText(xml) })
  })
  if (slides.length === 0) {
    throw new BerthError('DOCUMENT_UNREADABLE', `${shownName} has no slides (no ppt/slides/slideN.xml parts).`, {
      details: { file: shownName },
    })
  }
  slides.sort((a, b) => a.number - b.number)
  return [
    `Presentation: ${shownName}, ${slides.length} slide${slides.length === 1 ? '' : 's'}`,
    ...slides.map((slide) => `--- Slide ${slide.number} ---\n${slide.text}`),
  ].join('\n\n')
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
