import { mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createDisplayImageTool } from '../../src/tools/display-image.js'
import { MAX_IMAGE_BYTES } from '../../src/tools/image-check.js'
import { runTool } from '../../src/tools/run-tool.js'
import { defineTool } from '../../src/tools/tool.js'
import { saveToolImage } from '../../src/tools/tool-images.js'
import { PNG_1PX } from '../helpers/images.js'
import { type FakeToolContext, makeToolContext } from './helpers.js'

const JPEG = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0])

let context: FakeToolContext
afterEach(async () => {
  await context?.resources.dispose()
})

async function put(relative: string, bytes: Buffer | string): Promise<void> {
  const file = path.join(context.workspaceDir, relative)
  await mkdir(path.dirname(file), { recursive: true })
  await writeFile(file, bytes)
}

const display = (image_path: unknown) => runTool(createDisplayImageTool(), { image_path }, context)

describe('display_image', () => {
  it('returns the image as a part that names its workspace path and type, never its bytes', async () => {
    context = await makeToolContext()
    await put('uploaded_files/dot.png', PNG_1PX)
    const result = await display('uploaded_files/dot.png')
    expect(result.isError).toBeUndefined()
    expect(result.images).toEqual([{ path: 'uploaded_files/dot.png', mediaType: 'image/png' }])
    expect(result.output).toBe(`Showing uploaded_files/dot.png (image/png, ${PNG_1PX.length} B).`)
    expect(JSON.stringify(result)).not.toContain(PNG_1PX.toString('base64'))
  })

  it('types the image by its first bytes, and takes the reference’s /workspace/… and absolute paths', async () => {
    context = await makeToolContext()
    await put('photos/snapshot', JPEG) // no extension
    expect((await display('/workspace/photos/snapshot')).images).toEqual([
      { path: 'photos/snapshot', mediaType: 'image/jpeg' },
    ])
    expect((await display(path.join(context.workspaceDir, 'photos/snapshot'))).images).toEqual([
      { path: 'photos/snapshot', mediaType: 'image/jpeg' },
    ])
  })

  it('refuses a symlink that leads out of the workspace, and never reads the file behind it', async () => {
    context = await makeToolContext()
    await mkdir(context.outside, { recursive: true })
    await writeFile(path.join(context.outside, 'secret.png'), PNG_1PX)
    await symlink(path.join(context.outside, 'secret.png'), path.join(context.workspaceDir, 'link.png'))
    const result = await display('link.png')
    expect(result.isError).toBe(true)
    expect(result.images).toBeUndefined()
    expect(result.output).toMatch(/^Error: .*outside the workspace/i)
    const dotted = await display('../outside/secret.png')
    expect(dotted.isError).toBe(true)
    expect(dotted.images).toBeUndefined()
  })

  it('refuses a file that only claims to be an image, a folder, a missing file and one too big to send', async () => {
    context = await makeToolContext()
    await put('fake.png', 'just text, named like a picture')
    await mkdir(path.join(context.workspaceDir, 'pictures.png'))
    await put('huge.png', Buffer.concat([PNG_1PX.subarray(0, 16), Buffer.alloc(MAX_IMAGE_BYTES + 1 - 16)]))

    const fake = await display('fake.png')
    expect(fake).toMatchObject({ isError: true })
    expect(fake.output).toBe(
      'Error: fake.png is not an image: its contents are not PNG, JPEG, GIF or WebP, whatever its name says.',
    )
    const folder = await display('pictures.png')
    expect(folder).toMatchObject({ isError: true, output: expect.stringContaining('is not a file') })
    const missing = await display('nowhere.png')
    expect(missing).toMatchObject({ isError: true, output: 'Error: No such file in the workspace: nowhere.png' })
    const huge = await display('huge.png')
    expect(huge).toMatchObject({ isError: true, output: expect.stringContaining('over the 3.75 MB a model accepts') })
    for (const result of [fake, folder, missing, huge]) expect(result.images).toBeUndefined()
  })

  it('asks for image_path when it is missing', async () => {
    context = await makeToolContext()
    const result = await runTool(createDisplayImageTool(), { path: 'dot.png' }, context)
    expect(result).toMatchObject({ isError: true, output: expect.stringContaining('image_path: missing (required)') })
  })
})

describe('runTool and a tool’s images', () => {
  it('keeps workspace-relative paths only, so the event never names a file outside the workspace', async () => {
    context = await makeToolContext()
    const tool = defineTool({
      name: 'shows_many',
      description: 'Returns images with paths of every kind.',
      parameters: z.object({}),
      execute: async () => ({
        output: 'done',
        images: [
          { path: 'shots/./one.png', mediaType: 'image/png' },
          { path: '/etc/passwd', mediaType: 'image/png' },
          { path: '../other-session/two.png', mediaType: 'image/png' },
          { path: 'three.png' } as never,
        ],
      }),
    })
    expect((await runTool(tool, {}, context)).images).toEqual([{ path: 'shots/one.png', mediaType: 'image/png' }])
    const none = defineTool({ ...tool, execute: async () => ({ output: 'x', images: [] }) })
    expect(await runTool(none, {}, context)).toEqual({ output: 'x' })
  })
})

describe('saveToolImage (for tools that make images, e.g. screenshots)', () => {
  it('writes the image through the workspace once, and names it by path and type', async () => {
    context = await makeToolContext()
    const image = await saveToolImage(context, 'screenshots/step-1.png', PNG_1PX)
    expect(image).toEqual({ path: 'screenshots/step-1.png', mediaType: 'image/png' })
    const file = path.join(context.workspaceDir, 'screenshots/step-1.png')
    expect(await readFile(file)).toEqual(PNG_1PX)
    // The same bytes again: the file is left as it is (same inode, not rewritten).
    const before = await stat(file)
    await saveToolImage(context, 'screenshots/step-1.png', PNG_1PX)
    expect((await stat(file)).ino).toBe(before.ino)
    // New bytes replace it atomically (a new inode), and the history would attach them.
    await saveToolImage(context, 'screenshots/step-1.png', JPEG)
    expect(await readFile(file)).toEqual(JPEG)
    expect((await stat(file)).ino).not.toBe(before.ino)
  })

  it('refuses bytes that are no image, a path out of the workspace, and a write over the quota', async () => {
    context = await makeToolContext({ quotaBytes: 40 })
    await expect(saveToolImage(context, 'a.png', Buffer.from('text'))).rejects.toMatchObject({
      code: 'FILE_TYPE_MISMATCH',
    })
    await expect(saveToolImage(context, '../escape.png', JPEG)).rejects.toMatchObject({ code: 'PATH_INVALID' })
    await expect(saveToolImage(context, 'big.png', PNG_1PX)).rejects.toMatchObject({
      code: 'WORKSPACE_QUOTA_EXCEEDED',
    })
    expect(await readdir(context.workspaceDir)).toEqual(['agent_memory', 'uploaded_files'])
  })
})
