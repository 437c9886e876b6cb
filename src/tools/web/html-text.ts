/** Small helpers for reading bits of HTML without a DOM (search result pages, titles, link lists). */

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

/**
 * Decode character references: the few named ones result pages use, and all numeric ones.
 *
 * @example
 *   decodeEntities('Tom &amp; Jerry &#x27;s') // "Tom & Jerry 's"
 */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1))
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole
    }
    return NAMED[name.toLowerCase()] ?? whole
  })
}

/** Tags removed, entities decoded, white space collapsed. */
export function htmlToPlainText(html: string): string {
  return decodeEntities(html.replace(/<[^>]*>/g, ''))
    .replace(/\s+/g, ' ')
    .trim()
}

/** The document's `<title>`, as text; '' without one. */
export function htmlTitle(html: string): string {
  const match = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(html)
  return match ? htmlToPlainText(match[1] as string) : ''
}

/** The value of one attribute in a tag's attribute text (double, single or no quotes), decoded. */
export function attribute(attributes: string, name: string): string | null {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s"'>]+))`, 'i').exec(attributes)
  if (match === null) return null
  return decodeEntities(match[1] ?? match[2] ?? match[3] ?? '')
}
