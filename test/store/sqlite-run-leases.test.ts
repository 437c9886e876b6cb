import { join } from 'node:path'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'
import { describeRunLeases } from './run-lease-contract.js'

describeRunLeases('SQLite', async () => {
  const file = join(await tempDir(), 'events.db')
  return { store: await SqliteStore.open({ file }), openAnother: () => SqliteStore.open({ file }) }
})
