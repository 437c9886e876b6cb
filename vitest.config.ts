import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'web/src/**/*.test.ts'],
    pool: 'forks',
    // One PostgreSQL cluster per run, started only when a test file asks for it.
    // One radosgw (S3) cluster per run, likewise (test/helpers/radosgw.ts).
    globalSetup: ['test/helpers/postgres-global.ts', 'test/helpers/radosgw-global.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
