import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'

/**
 * The `--import` argument that lets a child `node` run TypeScript sources, as
 * an absolute URL so it works from any working directory (a test's temp root).
 */
export const TSX_IMPORT = pathToFileURL(
  join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs'),
).href
