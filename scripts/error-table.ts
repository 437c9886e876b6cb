/**
 * Print docs/errors.md from the error catalogue, so the list of codes is
 * regenerated rather than retyped: `npx tsx scripts/error-table.ts > docs/errors.md`.
 */
import { ERROR_CATALOGUE } from '../src/core/errors.js'

const rows = Object.entries(ERROR_CATALOGUE).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.title} |`)
console.log(
  [
    '# Error codes',
    '',
    'Every failure berth reports on purpose carries one of these codes. HTTP answers are',
    '`{code, message, detail, error}` with the status below; WebSocket `error` frames carry the code as',
    '`error_code`; CLI commands print the message. The status is bound to the code once, in',
    '`src/core/errors.ts`; this page is generated from it (`npx tsx scripts/error-table.ts > docs/errors.md`).',
    '',
    '| Code | HTTP status | Meaning |',
    '|---|---|---|',
    ...rows,
  ].join('\n'),
)
