import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BerthError, ERROR_CATALOGUE, type ErrorCode, isErrorCode } from '../../src/core/errors.js'

const codes = Object.keys(ERROR_CATALOGUE) as ErrorCode[]

describe('the error catalogue', () => {
  it('gives every error the status bound to its code', () => {
    expect(new BerthError('SESSION_NOT_FOUND', 'No session x').status).toBe(404)
    expect(new BerthError('WEB_REQUEST_FAILED', 'down').status).toBe(502)
    expect(new BerthError('DISK_FULL', 'full').toJSON()).toEqual({ code: 'DISK_FULL', message: 'full' })
    for (const code of codes) {
      const { status } = ERROR_CATALOGUE[code]
      expect(status >= 400 && status <= 599, `${code} has status ${status}`).toBe(true)
      expect(new BerthError(code, 'x').status).toBe(status)
    }
  })

  it('knows its codes and nothing else', () => {
    expect(isErrorCode('ACCESS_DENIED')).toBe(true)
    expect(isErrorCode('toString')).toBe(false)
    expect(isErrorCode('NOT_A_CODE')).toBe(false)
  })

  it('is documented code by code in docs/errors.md (regenerate with scripts/error-table.ts)', async () => {
    const doc = await readFile(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8')
    for (const code of codes) {
      const { status, title } = ERROR_CATALOGUE[code]
      expect(doc, `docs/errors.md lacks ${code}`).toContain(`| \`${code}\` | ${status} | ${title} |`)
    }
  })
})
