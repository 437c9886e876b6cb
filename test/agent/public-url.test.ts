import { describe, expect, it } from 'vitest'
import { resolvePublicUrl } from '../../src/agent/public-url.js'

describe('resolvePublicUrl', () => {
  const config = { publicUrl: undefined, port: 8123 }

  it('prefers the run, then the setting, then localhost with the port', () => {
    expect(resolvePublicUrl('https://a.example/', { publicUrl: 'https://b.example', port: 1 })).toBe(
      'https://a.example',
    )
    expect(resolvePublicUrl(undefined, { publicUrl: 'https://b.example/base/', port: 1 })).toBe(
      'https://b.example/base',
    )
    expect(resolvePublicUrl(undefined, config)).toBe('http://localhost:8123')
  })

  it('never hands out a listen-all address or garbage', () => {
    expect(resolvePublicUrl('http://0.0.0.0:8000', config)).toBe('http://localhost:8000')
    expect(resolvePublicUrl('http://[::]:8000/', config)).toBe('http://localhost:8000')
    expect(resolvePublicUrl('not a url', config)).toBe('http://localhost:8123')
  })
})
