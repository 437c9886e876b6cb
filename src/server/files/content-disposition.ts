/**
 * A `Content-Disposition` value that keeps any file name intact: an ASCII
 * fallback in `filename=` for old clients and the exact UTF-8 name in
 * `filename*=` (RFC 6266 / RFC 5987).
 *
 * @example
 *   contentDisposition('résumé.pdf')
 *   // 'attachment; filename="r_sum_.pdf"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.pdf'
 */
export function contentDisposition(fileName: string, type: 'attachment' | 'inline' = 'attachment'): string {
  // Quotes, backslashes and anything outside printable ASCII would break or confuse the quoted form.
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const encoded = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
  return `${type}; filename="${fallback}"; filename*=UTF-8''${encoded}`
}
