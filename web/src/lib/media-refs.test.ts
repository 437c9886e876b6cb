import { describe, expect, it } from 'vitest'
import { mediaKind } from './file-kind.js'
import { mediaRefsOf } from './media-refs.js'

describe('media named by a tool call', () => {
  it('takes the saved file from the result URL, which wins over the name asked for', () => {
    expect(
      mediaRefsOf(
        { text: 'hi', output_filename: 'speech.mp3' },
        'Saved to speech.wav (audio/wav, 7 KB). The service made audio/wav, so it was saved as speech.wav ' +
          'instead of speech.mp3. URL: http://h:8000/workspace/s1/speech.wav',
      ),
    ).toEqual([{ path: 'speech.wav', kind: 'audio', origin: 'output' }])
    expect(mediaRefsOf({ prompt: 'a cat', output_filename: './pics/cat.png' }, 'Generated pics/cat.png')).toEqual([
      { path: 'pics/cat.png', kind: 'image', origin: 'output' },
    ])
  })

  it('takes workspace URLs from any tool, each once, escapes decoded, closing punctuation dropped', () => {
    expect(
      mediaRefsOf(
        { command: 'python plot.py' },
        'See /workspace/s1/pics/cat.png and http://h/workspace/s1/clips/My%20Clip.mp4. Again: /workspace/s1/pics/cat.png',
      ),
    ).toEqual([
      { path: 'pics/cat.png', kind: 'image', origin: 'url' },
      { path: 'clips/My Clip.mp4', kind: 'video', origin: 'url' },
    ])
  })

  it('skips what is shown already, files that are not media, escapes and malformed escapes', () => {
    expect(mediaRefsOf({ output_filename: 'a.png' }, 'Saved. URL: /workspace/s1/a.png', ['a.png'])).toEqual([])
    expect(mediaRefsOf({}, '/workspace/s1/a.png /workspace/s1/b.wav', ['a.png'])).toEqual([
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
