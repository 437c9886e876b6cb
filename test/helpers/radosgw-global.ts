import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { stopRadosgw } from './radosgw.js'

declare module 'vitest' {
  interface ProvidedContext {
    /** Where this run's shared radosgw cluster lives once a test file asks for it (test/helpers/radosgw.ts). */
    radosgwRunDir: string
  }
}

/**
 * vitest global setup: one folder per run for the shared radosgw cluster.
 * Nothing starts here; the first test file that needs S3 starts it
 * (`sharedRadosgw`), and the teardown stops whatever was started.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rgw-run-'))
  project.provide('radosgwRunDir', dir)
  return async () => {
    await stopRadosgw(join(dir, 'cluster'))
    rmSync(dir, { recursive: true, force: true })
  }
}
