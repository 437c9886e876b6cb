import { describe, expect, it } from 'vitest'
import { parseRoute } from './routes.js'

describe('UI addresses', () => {
  it('maps the new-session, continue and share addresses, including the reference UI’s ?id=', () => {
    expect(parseRoute('/', '')).toEqual({ page: 'chat', sessionId: null })
    expect(parseRoute('/session/0b5a1c9e-1111-4222-8333-444455556666', '')).toEqual({
      page: 'chat',
      sessionId: '0b5a1c9e-1111-4222-8333-444455556666',
    })
    expect(parseRoute('/', '?session=abc-1')).toEqual({ page: 'chat', sessionId: 'abc-1' })
    expect(parseRoute('/', '?id=abc-2')).toEqual({ page: 'chat', sessionId: 'abc-2' })
    expect(parseRoute('/share/tok_EN-123', '')).toEqual({ page: 'share', token: 'tok_EN-123' })
  })

  it('ignores ids that could not be a session', () => {
    expect(parseRoute('/', '?session=../etc')).toEqual({ page: 'chat', sessionId: null })
    expect(parseRoute('/session/a%2Fb', '')).toEqual({ page: 'chat', sessionId: null })
  })
})
