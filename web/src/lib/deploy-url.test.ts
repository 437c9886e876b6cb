import { describe, expect, it } from 'vitest'
import { deployUrlOf, siteHref } from './deploy-url.js'
import { friendlyError } from './friendly-error.js'

describe('deployed site links', () => {
  it('takes the URL from a static_deploy result, absolute or relative', () => {
    expect(deployUrlOf('http://h:8000/workspace/s1/site/\nThis folder holds 2 files')).toBe(
      'http://h:8000/workspace/s1/site/',
    )
    expect(deployUrlOf('/workspace/s1/a.html\nNote: no public URL is configured')).toBe('/workspace/s1/a.html')
    expect(deployUrlOf('Path does not exist: x')).toBeNull()
  })

  it('loads /workspace/ paths from this server whatever host the tool saw, other origins as given', () => {
    expect(siteHref('http://old:8000/workspace/s1/site/?v=2', 'https://berth.example')).toBe(
      'https://berth.example/workspace/s1/site/?v=2',
    )
    expect(siteHref('/workspace/s1/site/', 'http://127.0.0.1:9')).toBe('http://127.0.0.1:9/workspace/s1/site/')
    expect(siteHref('https://sites.example/s1/site/', 'https://berth.example')).toBe('https://sites.example/s1/site/')
  })
})

describe('errors in plain words', () => {
  it('adds what to do, unless the server already said it', () => {
    const missingKey = friendlyError('LLM_NOT_CONFIGURED', 'Set CHUTES_API_KEY to use chutes')
    expect(missingKey.title).toBe('The model is not set up')
    expect(missingKey.detail).toContain('CHUTES_API_KEY')
    expect(missingKey.action).toMatch(/restart/)
    expect(friendlyError('ACCESS_DENIED', 'Belongs to another device, or use a share link.').action).toBeNull()
    expect(friendlyError('ACCESS_DENIED', 'Belongs to another device.').action).toMatch(/share link/)
    expect(friendlyError('SOMETHING_NEW', 'odd').title).toBe('Something went wrong')
  })
})
