import { execFileSync } from 'node:child_process'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LocalWorkspaceStorage } from '../../src/workspace/local-storage.js'
import type { WorkspaceStorage } from '../../src/workspace/workspace-storage.js'
import { tempDir } from '../helpers/temp-dir.js'
import { json, postJson, startFileServer } from './file-routes-harness.js'

const SESSION = '5b0c2d1e-7a4f-4e3b-8c9d-1f2e3a4b5c6d'

/**
 * The file routes reach workspace files only through `context.workspaceStorage`:
 * here it is a storage on a root of its own, so the session folders of
 * `context.workspaces` stay empty, and anything still opening those paths
 * would find nothing.
 */
describe('file routes go through the workspace storage', () => {
  async function setup(env: Record<string, string> = {}) {
    const elsewhere = await tempDir('berth-elsewhere-')
    let storage: WorkspaceStorage | undefined
    const server = await startFileServer(env, {
      storage: async (quotaBytes) => {
        storage = new LocalWorkspaceStorage({ root: elsewhere, quotaBytes })
        return storage
      },
    })
    const dir = await server.session(SESSION, 'dev-a') // the (empty) folder under context.workspaces
    const seam = storage as WorkspaceStorage
    await seam.create(SESSION)
    await seam.write(SESSION, 'site/index.html', '<h1>from the storage</h1>')
    await seam.write(SESSION, 'notes/a.md', '# a\n')
    return { server, storage: seam, dir, elsewhere }
  }

  it('lists, reads, downloads (with a range), zips, serves sites and exports bundles from the storage', async () => {
    const { server, elsewhere } = await setup()
    const list = await json(await postJson(server, '/api/files/list', { workspace_id: SESSION }, { device: 'dev-a' }))
    expect(list.files.map((f: { path: string }) => f.path)).toEqual(['agent_memory', 'notes', 'site', 'uploaded_files'])
    const content = await json(
      await postJson(server, '/api/files/content', { workspace_id: SESSION, path: 'notes/a.md' }, { device: 'dev-a' }),
    )
    expect(content).toEqual({ content: '# a\n', encoding: 'utf-8' })
    const ranged = await fetch(`${server.url}/api/files/download?workspace_id=${SESSION}&path=site/index.html`, {
      headers: { 'x-device-id': 'dev-a', range: 'bytes=4-7' },
    })
    expect(ranged.status).toBe(206)
    expect(await ranged.text()).toBe('from')
    const zip = await fetch(`${server.url}/api/files/download-zip?workspace_id=${SESSION}&path=notes`, {
      headers: { 'x-device-id': 'dev-a' },
    })
    expect(zip.status).toBe(200)
    const zipFile = join(elsewhere, 'notes.zip')
    await writeFile(zipFile, Buffer.from(await zip.arrayBuffer()))
    const names = execFileSync('python3', [
      '-c',
      'import sys,zipfile;print(zipfile.ZipFile(sys.argv[1]).namelist())',
      zipFile,
    ])
    expect(names.toString().trim()).toBe("['a.md']")
    const site = await fetch(`${server.url}/workspace/${SESSION}/site/`)
    expect(site.status).toBe(200)
    expect(await site.text()).toBe('<h1>from the storage</h1>')
    const bundle = await fetch(`${server.url}/api/sessions/${SESSION}/export`, { headers: { 'x-device-id': 'dev-a' } })
    expect(bundle.status).toBe(200)
    const bundleFile = join(elsewhere, 'bundle.tar.gz')
    await writeFile(bundleFile, Buffer.from(await bundle.arrayBuffer()))
    const members = execFileSync('python3', [
      '-c',
      'import sys,tarfile;print(sorted(m.name for m in tarfile.open(sys.argv[1]) if m.isfile()))',
      bundleFile,
    ])
    expect(members.toString()).toContain("'workspace/site/index.html'")
    expect(members.toString()).toContain("'workspace/notes/a.md'")
  })

  it('puts uploads into the storage, under free names, within its quota', async () => {
    const { server, storage, dir } = await setup({ BERTH_WORKSPACE_QUOTA: '1KB' })
    const send = (path: string, content: string) =>
      postJson(server, '/api/upload', { session_id: SESSION, file: { path, content } }, { device: 'dev-a' })
    expect((await json(await send('a.txt', 'one'))).file.path).toBe('/uploaded_files/a.txt')
    expect((await json(await send('a.txt', 'two'))).file.path).toBe('/uploaded_files/a_1.txt')
    const full = await send('big.bin', 'x'.repeat(2000))
    expect(full.status).toBe(413)
    expect((await json(full)).code).toBe('WORKSPACE_QUOTA_EXCEEDED')
    expect((await storage.stat(SESSION, 'uploaded_files/a_1.txt'))?.size).toBe(3)
    expect(await storage.stat(SESSION, 'uploaded_files/big.bin')).toBeNull()
    await mkdir(join(dir, 'uploaded_files'), { recursive: true })
    expect(await readdir(join(dir, 'uploaded_files'))).toEqual([])
  })
})
