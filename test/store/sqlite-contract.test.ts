import { join } from 'node:path'
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js'
import { tempDir } from '../helpers/temp-dir.js'
import { describeStore } from './store-contract.js'

describeStore('SQLite', async () => {
  const file = join(await tempDir(), 'events.db')
  return { store: await SqliteStore.open({ file }), openAnother: () => SqliteStore.open({ file }) }
})
