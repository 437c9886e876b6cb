import { describe, expect, it } from 'vitest'
import { connect } from '../helpers/ws-client.js'
import { apiClient, runQuery, serverForFile } from './harness.js'

const server = serverForFile()
const api = apiClient(() => server().server.url)

describe('sessions API', () => {
  it('lists a device’s sessions newest first with first_message and UTC offsets, paged by cursor', async () => {
    const t = server()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) ids.push(await runQuery(t, 'lister', `task number ${i} é`, `done ${i}`))
    const first = await api('/api/sessions/lister?limit=2', { device: 'lister' })
    expect(first.status).toBe(200)
    expect(first.body.sessions.map((s: any) => s.id)).toEqual([ids[2], ids[1]])
    const session = first.body.sessions[0]
    expect(session).toMatchObject({
      device_id: 'lister',
      first_message: 'task number 2 é',
      status: 'idle',
      summary: null,
    })
    expect(session.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/)
    expect(session.workspace_dir.endsWith(ids[2])).toBe(true)
    const second = await api(`/api/sessions/lister?limit=2&cursor=${first.body.next_cursor}`, { device: 'lister' })
    expect(second.body.sessions.map((s: any) => s.id)).toEqual([ids[0]])
    expect(second.body.next_cursor).toBeNull()
    // A device lists only its own sessions.
    expect((await api('/api/sessions/lister', { device: 'someone-else' })).status).toBe(403)
    expect((await api('/api/sessions/someone-else', { device: 'someone-else' })).body.sessions).toEqual([])
  })

  it('pages events with after and limit, with totals, and no cap', async () => {
    const t = server()
    const id = await runQuery(t, 'pager', 'page me', 'paged answer')
    const all = await api(`/api/sessions/${id}/events`, { device: 'pager' })
    const total = all.body.total_count as number
    expect(total).toBeGreaterThanOrEqual(3)
    expect(all.body.returned_count).toBe(total)
    expect(all.body.events[0]).toMatchObject({ session_id: id, seq: 1, event_type: 'user_message' })
    expect(all.body.events[0].timestamp).toMatch(/\+00:00$/)
    const page = await api(`/api/sessions/${id}/events?after=1&limit=1`, { device: 'pager' })
    expect(page.body.events.map((e: any) => e.seq)).toEqual([2])
    expect(page.body.next_after).toBe(2)
    expect((await api(`/api/sessions/${id}/events`, { device: 'stranger' })).status).toBe(403)
    expect((await api(`/api/sessions/${id}/events?after=-1`, { device: 'pager' })).status).toBe(400)
    expect((await api('/api/sessions/does-not-exist/events', { device: 'pager' })).status).toBe(404)
  })

  it('sets the summary, renames and deletes a session with its events and workspace', async () => {
    const t = server()
    const id = await runQuery(t, 'editor', 'edit me', 'ok')
    expect(
      (
        await api(`/api/sessions/${id}/summary`, {
          method: 'POST',
          device: 'editor',
          body: JSON.stringify({ summary: 'A short title' }),
        })
      ).body,
    ).toEqual({ message: 'Summary updated successfully' })
    expect(
      (await api(`/api/sessions/${id}/summary`, { method: 'POST', device: 'editor', body: JSON.stringify({}) })).status,
    ).toBe(400)
    expect(
      (
        await api(`/api/sessions/${id}/summary`, {
          method: 'POST',
          device: 'other',
          body: JSON.stringify({ summary: 'x' }),
        })
      ).status,
    ).toBe(403)
    const renamed = await api(`/api/sessions/${id}`, {
      method: 'PATCH',
      device: 'editor',
      body: JSON.stringify({ name: 'Renamed ✓' }),
    })
    expect(renamed.body.session).toMatchObject({ name: 'Renamed ✓', summary: 'A short title', title: 'Renamed ✓' })

    expect((await api(`/api/sessions/${id}`, { method: 'DELETE', device: 'other' })).status).toBe(403)
    const deleted = await api(`/api/sessions/${id}`, { method: 'DELETE', device: 'editor' })
    expect(deleted.body.deleted).toBe(true)
    expect(deleted.body.events_deleted).toBeGreaterThan(0)
    expect((await api(`/api/sessions/${id}/events`, { device: 'editor' })).status).toBe(404)
    const { existsSync } = await import('node:fs')
    const { join } = await import('node:path')
    expect(existsSync(join(t.root, 'workspace', id))).toBe(false)
  })

  it('creates, reuses, lists, serves, expires and revokes share links', async () => {
    const t = server()
    const id = await runQuery(t, 'sharer', 'share me', 'shared answer')
    const created = await api(`/api/sessions/${id}/share`, { method: 'POST', device: 'sharer', body: '{}' })
    const token = created.body.share.token as string
    expect(Buffer.from(token, 'base64url').length).toBeGreaterThanOrEqual(16)
    expect(created.body.share.url).toBe(`${t.server.url}/share/${token}`)
    expect(token).not.toContain(id)
    const reused = await api(`/api/sessions/${id}/share`, { method: 'POST', device: 'sharer', body: '{}' })
    expect(reused.body).toMatchObject({ reused: true, share: { token } })
    expect((await api(`/api/sessions/${id}/share`, { method: 'POST', device: 'stranger', body: '{}' })).status).toBe(
      403,
    )

    // Anyone with the token reads the session, with no device at all.
    const view = await api(`/api/share/${token}`)
    expect(view.body.session).toMatchObject({ id, status: 'idle', running: false })
    const events = await api(`/api/share/${token}/events`)
    expect(events.body.events.map((e: any) => e.event_type)).toContain('agent_response')

    // Read-only live follow over the socket: writes are refused.
    const viewer = await connect(t.wsUrl({ share: token, after: 0 }))
    const hello = await viewer.next('connection_established')
    expect(hello.content).toMatchObject({ read_only: true, session_uuid: id })
    await viewer.next('agent_response')
    viewer.send({ type: 'query', content: { text: 'let me in' } })
    expect((await viewer.next('error')).content.error_code).toBe('ACCESS_DENIED')
    await viewer.close()

    const shortLived = await api(`/api/sessions/${id}/share`, {
      method: 'POST',
      device: 'sharer',
      body: JSON.stringify({ expires_in: 1 }),
    })
    const shortToken = shortLived.body.share.token as string
    expect(shortToken).not.toBe(token)
    expect((await api(`/api/share/${shortToken}`)).status).toBe(200)
    await new Promise((r) => setTimeout(r, 1200))
    expect((await api(`/api/share/${shortToken}`)).status).toBe(404)

    const list = await api(`/api/sessions/${id}/shares`, { device: 'sharer' })
    expect(list.body.shares.map((s: any) => s.token).sort()).toEqual([token, shortToken].sort())
    const revoked = await api(`/api/sessions/${id}/shares/${token}`, { method: 'DELETE', device: 'sharer' })
    expect(revoked.body.share.active).toBe(false)
    expect((await api(`/api/share/${token}`)).status).toBe(404)
    expect((await api(`/api/share/${token}/events`)).status).toBe(404)
    const refused = await connect(t.wsUrl({ share: token }))
    expect((await refused.closed).code).toBe(1008)
  })
})

describe('session bundles over HTTP', () => {
  it('exports a session and imports it for another device, with the same events and files', async () => {
    const t = server()
    const id = await runQuery(t, 'exporter', 'bundle me', 'bundled answer')
    const upload = await api('/api/upload', {
      method: 'POST',
      device: 'exporter',
      body: JSON.stringify({ session_id: id, file: { path: 'note.txt', content: 'kept in the bundle' } }),
    })
    expect(upload.status).toBe(200)
    const exported = await fetch(`${t.server.url}/api/sessions/${id}/export`, {
      headers: { 'x-device-id': 'exporter' },
    })
    expect(exported.status).toBe(200)
    expect(exported.headers.get('content-type')).toBe('application/gzip')
    const bundle = Buffer.from(await exported.arrayBuffer())
    expect(
      (await fetch(`${t.server.url}/api/sessions/${id}/export`, { headers: { 'x-device-id': 'thief' } })).status,
    ).toBe(403)

    const imported = await api('/api/sessions/import', {
      method: 'POST',
      device: 'importer',
      headers: { 'content-type': 'application/gzip' },
      body: bundle,
    })
    expect(imported.status).toBe(200)
    // The id is taken on this server (the original is here), so the import gets a new one.
    expect(imported.body).toMatchObject({ original_id: id, remapped: true, files: 1 })
    const copy = imported.body.session_id as string
    const original = (await api(`/api/sessions/${id}/events`, { device: 'exporter' })).body.events
    const copied = (await api(`/api/sessions/${copy}/events`, { device: 'importer' })).body.events
    expect(copied.map((e: any) => [e.seq, e.event_type, e.event_payload, e.timestamp])).toEqual(
      original.map((e: any) => [e.seq, e.event_type, e.event_payload, e.timestamp]),
    )
    const file = await api('/api/files/content', {
      method: 'POST',
      device: 'importer',
      body: JSON.stringify({ workspace_id: copy, path: 'uploaded_files/note.txt' }),
    })
    expect(file.body.content).toBe('kept in the bundle')
    const garbage = await api('/api/sessions/import', {
      method: 'POST',
      device: 'importer',
      headers: { 'content-type': 'application/gzip' },
      body: Buffer.from('not a bundle at all'),
    })
    expect(garbage.status).toBeGreaterThanOrEqual(400)
    expect(garbage.status).toBeLessThan(500)
  })
})
