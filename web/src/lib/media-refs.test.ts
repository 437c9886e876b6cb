import { describe, expect, it } from 'vitest'
import { mediaKind } from './file-kind.js'
import { mediaRefsOf } from './media-refs.js'

describe('media named by a tool call', () => {
  it('takes the output file and workspace URLs of images, audio and video, each once', () => {
    expect(
      mediaRefsOf(
        { prompt: 'a cat', output_filename: './pics/cat.png' },
        'Generated pics/cat.png: http://h:8000/workspace/s1/pics/cat.png and http://h/workspace/s1/clips/My%20Clip.mp4.',
      ),
    ).toEqual([
      { path: 'pics/cat.png', kind: 'image', origin: 'output' },
      { path: 'clips/My Clip.mp4', kind: 'video', origin: 'url' },
    ])
  })

  it('skips what is shown already, files that are not media, escapes and malformed escapes', () => {
    expect(mediaRefsOf({ output_filename: 'a.png' }, '/workspace/s1/b.wav', ['a.png'])).toEqual([
      { path: 'b.wav', kind: 'audio', origin: 'url' },
    ])
    expect(mediaRefsOf({ output_filename: 'notes.txt' }, '/workspace/s1/site/index.html')).toEqual([])
    expect(mediaRefsOf({}, '/workspace/s1/../x.mp3 /workspace/s1/%E0%A4%A.mp3')).toEqual([])
  })

  it('knows audio and video by extension, whatever the case', () => {
    expect(['x.MP3', 'x.wav', 'x.webm', 'x.mov', 'x.svg', 'x.mp3.txt'].map(mediaKind)).toEqual([
      'audio',
      'audio',
      'video',
      'video',
      'image',
      null,
    ])
  })
})
