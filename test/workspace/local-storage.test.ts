import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { LocalWorkspaceStorage } from '../../src/workspace/local-storage.js'
import { describeWorkspaceStorage } from './storage-contract.js'

describeWorkspaceStorage(
  'local disk',
  async ({ quotaBytes }) => {
    const root = await mkdtemp(path.join(tmpdir(), 'berth-storage-'))
    return {
      storage: new LocalWorkspaceStorage({ root: path.join(root, 'workspace'), quotaBytes }),
      close: () => rm(root, { recursive: true, force: true }),
    }
  },
  { symlinks: true },
)
