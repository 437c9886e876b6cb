import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { startServer } from '../helpers/berth-process.js'
import { freshBucket, radosgwClient, radosgwUnavailableReason, sharedRadosgw } from '../helpers/radosgw.js'
import { tempDir } from '../helpers/temp-dir.js'
import { connect } from '../helpers/ws-client.js'

const skip = radosgwUnavailableReason()
if (skip) console.warn(`The terminal on S3 workspaces skipped: ${skip}`)

/**
 * The WebSocket terminal with workspaces in S3: each command runs in a copy
 * of the workspace, and what it writes reaches the bucket (where the next
 * command, and every other instance, finds it), not the local disk.
 */
describe.skipIf(Boolean(skip))('terminal_command with S3 workspaces', { timeout: 120_000 }, () => {
  it('runs in the workspace copied from the bucket and writes back to it', async () => {
    const rgw = await sharedRadosgw(inject('radosgwRunDir'))
    const bucket = await freshBucket(rgw, 'terminal')
    const root = await tempDir()
    const server = await startServer({
      cwd: root,
      args: ['--data-dir', root],
      readyTimeoutMs: 60_000,
      env: {
        BERTH_WORKSPACE_URL: `s3://${bucket}/berth`,
        AWS_ACCESS_KEY_ID: rgw.accessKeyId,
        AWS_SECRET_ACCESS_KEY: rgw.secretAccessKey,
        AWS_REGION: rgw.region,
        AWS_ENDPOINT_URL_S3: rgw.endpoint,
        BERTH_ENABLE_TERMINAL: 'true',
        BERTH_DATA_DIR: undefined,
      },
    })
    const client = radosgwClient(rgw)
    try {
      const socket = await connect(`ws://127.0.0.1:${server.port}/ws?device_id=dev-t`)
      const session = (await socket.next('connection_established')).content.session_uuid as string
      socket.send({
        type: 'terminal_command',
        content: { command: 'mkdir -p notes && echo from-terminal > notes/t.txt' },
      })
      expect((await socket.next('terminal_output')).content).toMatchObject({ success: true })
      const object = await client.send(
        new GetObjectCommand({ Bucket: bucket, Key: `berth/workspace/${session}/notes/t.txt` }),
      )
      expect(await object.Body?.transformToString()).toBe('from-terminal\n')
      expect(existsSync(join(root, 'workspace', session, 'notes'))).toBe(false)

      // The next command gets a fresh copy with it (the first copy was removed after its sync).
      socket.send({ type: 'terminal_command', content: { command: 'cat notes/t.txt; ls' } })
      const next = (await socket.next('terminal_output')).content
      expect(next.output).toContain('from-terminal')
      expect(next.output).toContain('uploaded_files')
      socket.close()
    } finally {
      client.destroy()
      await server.stop()
    }
  })
})
