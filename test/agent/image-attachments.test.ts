import { mkdir, rm, symlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HistoryBuilder } from '../../src/agent/history.js'
import { ImageAttachments, MAX_IMAGES_PER_REQUEST } from '../../src/agent/image-attachments.js'
import type { LlmMessage } from '../../src/llm/types.js'
import { MAX_IMAGE_BYTES } from '../../src/tools/image-check.js'
import { LocalWorkspaceStorage } from '../../src/workspace/local-storage.js'
import { PNG_1PX } from '../helpers/images.js'
import { tempDir } from '../helpers/temp-dir.js'

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0])
const GIF = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1')
const WEBP = Buffer.concat([Buffer.from('RIFF'), Buffer.from([26, 0, 0, 0]), Buffer.from('WEBPVP8L'), Buffer.alloc(14)])

async function workspace(files: Record<string, Buffer | string>): Promise<string> {
  const dir = await tempDir()
  await mkdir(join(dir, 'uploaded_files'))
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content)
  return dir
}

/** A history of user messages built the way a run builds it, from stored `user_message` contents. */
function historyOf(...contents: { text: string; files?: unknown }[]): HistoryBuilder {
  const history = new HistoryBuilder()
  for (const content of contents) history.add('user_message', content)
  return history
}

/** The loader of one workspace folder: local storage over its parent, keyed by its name. */
function imagesFor(dir: string): ImageAttachments {
  return new ImageAttachments(new LocalWorkspaceStorage({ root: dirname(dir), quotaBytes: null }), basename(dir))
}

async function attach(dir: string, history: HistoryBuilder, images = imagesFor(dir)) {
  return images.attach(history.messages(), (message) => history.attachedFiles(message))
}

const user = (message: LlmMessage | undefined) => message as Extract<LlmMessage, { role: 'user' }>

describe('ImageAttachments', () => {
  it('attaches the images among a message’s files, typed by their bytes, and leaves other files listed only', async () => {
    const dir = await workspace({
      'uploaded_files/dot.png': PNG_1PX,
      'uploaded_files/photo': JPEG, // no extension: the bytes say JPEG
      'uploaded_files/anim.gif': GIF,
      'uploaded_files/pic.webp': WEBP,
      'uploaded_files/notes.txt': 'plain text',
      'uploaded_files/fake.png': 'not really a png',
    })
    const files = [
      'uploaded_files/dot.png',
      '/uploaded_files/photo',
      'uploaded_files/anim.gif',
      'uploaded_files/pic.webp',
    ]
    const history = historyOf({
      text: 'Look',
      files: [...files, 'uploaded_files/notes.txt', 'uploaded_files/fake.png'],
    })
    const before = history.messages()
    const [message] = await attach(dir, history)

    expect(user(message).images).toEqual([
      { mediaType: 'image/png', base64: PNG_1PX.toString('base64') },
      { mediaType: 'image/jpeg', base64: JPEG.toString('base64') },
      { mediaType: 'image/gif', base64: GIF.toString('base64') },
      { mediaType: 'image/webp', base64: WEBP.toString('base64') },
    ])
    // The text still lists every file, as the reference agent does; nothing to note here.
    expect(user(message).content).toBe(
      `Look\n\nAttached files:\n${[...files, 'uploaded_files/notes.txt', 'uploaded_files/fake.png'].map((f) => ` - ${f}`).join('\n')}`,
    )
    // The history itself is not changed.
    expect(user(history.messages()[0]).images).toBeUndefined()
    expect(before[0]).toBe(history.messages()[0])
  })

  it('tells the model about an image it cannot see: too big, gone, or behind a symlink out of the workspace', async () => {
    const outside = await tempDir()
    await writeFile(join(outside, 'secret.png'), PNG_1PX)
    const big = Buffer.concat([PNG_1PX.subarray(0, 16), Buffer.alloc(MAX_IMAGE_BYTES + 1 - 16)])
    const dir = await workspace({ 'uploaded_files/big.png': big, 'uploaded_files/ok.png': PNG_1PX })
    await symlink(join(outside, 'secret.png'), join(dir, 'uploaded_files/link.png'))
    const history = historyOf({
      text: 'See these',
      files: [
        'uploaded_files/big.png',
        'uploaded_files/gone.png',
        'uploaded_files/gone.txt',
        'uploaded_files/link.png',
        '../escape.png',
        'uploaded_files/ok.png',
      ],
    })
    const [message] = await attach(dir, history)

    expect(user(message).images).toEqual([{ mediaType: 'image/png', base64: PNG_1PX.toString('base64') }])
    const notes = user(message)
      .content.split('\n')
      .filter((line) => line.startsWith('('))
    expect(notes).toHaveLength(4)
    expect(notes[0]).toBe(`(uploaded_files/big.png is not shown as an image: 3.8 MB, over the 3.75 MB a model accepts)`)
    expect(notes[1]).toBe('(uploaded_files/gone.png is no longer in the workspace)')
    expect(notes[2]).toMatch(/^\(uploaded_files\/link\.png is not shown: .*workspace/)
    expect(notes[3]).toMatch(/^\(\.\.\/escape\.png is not shown: /)
    expect(user(message).content).not.toContain(PNG_1PX.toString('base64'))
  })

  it(`sends the newest ${MAX_IMAGES_PER_REQUEST} images of the whole history and notes the older ones`, async () => {
    const count = MAX_IMAGES_PER_REQUEST + 2
    const files: Record<string, Buffer> = {}
    for (let i = 0; i < count; i++) files[`uploaded_files/${i}.png`] = PNG_1PX
    const dir = await workspace(files)
    const history = historyOf(
      ...Array.from({ length: count }, (_, i) => ({ text: `image ${i}`, files: [`uploaded_files/${i}.png`] })),
    )
    const messages = await attach(dir, history)

    const withImage = messages.map((message) => (user(message).images?.length ?? 0) === 1)
    expect(withImage).toEqual([false, false, ...Array(MAX_IMAGES_PER_REQUEST).fill(true)])
    expect(user(messages[0]).content).toContain(
      `(uploaded_files/0.png is not shown as an image: only the newest ${MAX_IMAGES_PER_REQUEST} images are sent)`,
    )
  })

  it('reads each file once per run: the image a user sent stays the one the model sees', async () => {
    const dir = await workspace({ 'uploaded_files/dot.png': PNG_1PX })
    const history = historyOf({ text: 'Keep this in mind', files: ['uploaded_files/dot.png'] })
    const images = imagesFor(dir)
    expect(user((await attach(dir, history, images))[0]).images).toHaveLength(1)
    await rm(join(dir, 'uploaded_files/dot.png'))
    expect(user((await attach(dir, history, images))[0]).images).toHaveLength(1)
    // A new run reads the workspace again.
    expect(user((await attach(dir, history))[0]).content).toContain('no longer in the workspace')
  })

  it('ignores file lists a client stored in another shape, and messages without files', async () => {
    const dir = await workspace({ 'uploaded_files/dot.png': PNG_1PX })
    const history = historyOf(
      { text: 'no files' },
      { text: 'odd', files: 'uploaded_files/dot.png' },
      {
        text: 'mixed',
        files: [42, null, 'uploaded_files/dot.png'],
      },
    )
    const messages = await attach(dir, history)
    expect(messages.map((message) => user(message).images?.length ?? 0)).toEqual([0, 0, 1])
    expect(messages[0]).toBe(history.messages()[0])
  })
})

describe('ImageAttachments: images tools returned', () => {
  /** A history in which each call shows one file, as display_image stores it (`tool_result.images`). */
  function toolHistory(...shown: { id: string; path: string }[]): HistoryBuilder {
    const history = new HistoryBuilder()
    history.add('user_message', { text: 'Look' })
    for (const { id, path } of shown) {
      history.add('tool_call', { tool_call_id: id, tool_name: 'display_image', tool_input: { image_path: path } })
      history.add('tool_result', {
        tool_call_id: id,
        tool_name: 'display_image',
        result: `Showing ${path}`,
        images: [{ path, media_type: 'image/png' }],
      })
    }
    return history
  }
  const tool = (message: LlmMessage | undefined) => message as Extract<LlmMessage, { role: 'tool' }>
  const tools = (messages: LlmMessage[]) => messages.filter((m) => m.role === 'tool').map(tool)

  it('attaches them to the tool message, read from the workspace by path', async () => {
    const dir = await workspace({ 'chart.png': PNG_1PX })
    const history = toolHistory({ id: 'c1', path: 'chart.png' })
    expect(history.attachedFiles(tools(history.messages())[0] as LlmMessage)).toEqual(['chart.png'])
    const [result] = tools(await attach(dir, history))
    expect(result?.images).toEqual([{ mediaType: 'image/png', base64: PNG_1PX.toString('base64') }])
    expect(result?.content).toBe('Showing chart.png')
  })

  it('shares the newest-ten budget with the user’s images, newest first', async () => {
    const files: Record<string, Buffer> = { 'uploaded_files/mine.png': PNG_1PX }
    for (let i = 0; i < MAX_IMAGES_PER_REQUEST; i++) files[`shot-${i}.png`] = PNG_1PX
    const dir = await workspace(files)
    const history = new HistoryBuilder()
    history.add('user_message', { text: 'Mine', files: ['uploaded_files/mine.png'] })
    for (let i = 0; i < MAX_IMAGES_PER_REQUEST; i++) {
      history.add('tool_call', { tool_call_id: `c${i}`, tool_name: 'display_image', tool_input: {} })
      history.add('tool_result', {
        tool_call_id: `c${i}`,
        tool_name: 'display_image',
        result: 'ok',
        images: [{ path: `shot-${i}.png`, media_type: 'image/png' }],
      })
    }
    const messages = await attach(dir, history)
    expect(tools(messages).every((m) => m.images?.length === 1)).toBe(true)
    expect(user(messages[0]).images).toBeUndefined()
    expect(user(messages[0]).content).toContain(
      `(uploaded_files/mine.png is not shown as an image: only the newest ${MAX_IMAGES_PER_REQUEST} images are sent)`,
    )
  })

  it('reads a path once per call: a later call showing the rewritten file sends the new bytes', async () => {
    const dir = await workspace({ 'chart.png': PNG_1PX })
    const images = imagesFor(dir)
    const first = toolHistory({ id: 'c1', path: 'chart.png' })
    expect(tools(await attach(dir, first, images))[0]?.images?.[0]?.mediaType).toBe('image/png')
    await writeFile(join(dir, 'chart.png'), JPEG)
    const both = toolHistory({ id: 'c1', path: 'chart.png' }, { id: 'c2', path: 'chart.png' })
    const [one, two] = tools(await attach(dir, both, images))
    expect(one?.images).toEqual([{ mediaType: 'image/png', base64: PNG_1PX.toString('base64') }])
    expect(two?.images).toEqual([{ mediaType: 'image/jpeg', base64: JPEG.toString('base64') }])
  })

  it('notes an image that is gone, is no image any more, or leads out of the workspace', async () => {
    const outside = await tempDir()
    await writeFile(join(outside, 'secret.png'), PNG_1PX)
    const dir = await workspace({ 'now-text.png': 'overwritten with text' })
    await symlink(join(outside, 'secret.png'), join(dir, 'link.png'))
    const history = toolHistory(
      { id: 'c1', path: 'gone.png' },
      { id: 'c2', path: 'now-text.png' },
      { id: 'c3', path: 'link.png' },
    )
    const results = tools(await attach(dir, history))
    expect(results.map((m) => m.images)).toEqual([undefined, undefined, undefined])
    expect(results[0]?.content).toBe('Showing gone.png\n(gone.png is no longer in the workspace)')
    expect(results[1]?.content).toBe('Showing now-text.png\n(now-text.png is not shown: it is no longer an image file)')
    expect(results[2]?.content).toMatch(/^Showing link\.png\n\(link\.png is not shown: .*workspace/)
    expect(JSON.stringify(results)).not.toContain(PNG_1PX.toString('base64'))
  })

  it('ignores image lists stored in another shape', async () => {
    const dir = await workspace({ 'chart.png': PNG_1PX })
    const history = new HistoryBuilder()
    history.add('user_message', { text: 'Look' })
    history.add('tool_call', { tool_call_id: 'c1', tool_name: 'display_image', tool_input: {} })
    history.add('tool_result', { tool_call_id: 'c1', tool_name: 'display_image', result: 'x', images: 'chart.png' })
    history.add('tool_call', { tool_call_id: 'c2', tool_name: 'display_image', tool_input: {} })
    history.add('tool_result', { tool_call_id: 'c2', tool_name: 'x', result: 'x', images: [null, 7, { path: 3 }] })
    const messages = await attach(dir, history)
    expect(tools(messages).map((m) => m.images)).toEqual([undefined, undefined])
  })
})
