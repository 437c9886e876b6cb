import { chmodSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { stopPostgresCluster } from './postgres.js'

declare module 'vitest' {
  interface ProvidedContext {
    /** Where this run's shared PostgreSQL cluster lives once a test file asks for it (test/helpers/postgres.ts). */
    postgresRunDir: string
  }
}

/**
 * vitest global setup: one folder per run for the shared PostgreSQL cluster.
 * Nothing starts here; the first test file that needs PostgreSQL starts it
 * (`sharedPostgres`), and the teardown stops whatever was started.
 */
export default function setup(project: TestProject): () => Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pg-run-'))
  // The cluster's own folder inside belongs to the postgres user, who must be able to reach it.
  chmodSync(dir, 0o755)
  project.provide('postgresRunDir', dir)
  return async () => {
    await stopPostgresCluster(join(dir, 'cluster'))
    rmSync(dir, { recursive: true, force: true })
  }
}
