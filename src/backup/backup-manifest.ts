import { z } from 'zod'

/** Names the archive format; `version` grows when the layout changes in a way older berths cannot read. */
export const BACKUP_FORMAT = 'berth-backup'
export const BACKUP_VERSION = 1
/** The manifest is the archive's last entry, written once every checksum is known. */
export const MANIFEST_NAME = 'berth-backup.json'

const entry = z.discriminatedUnion('type', [
  z.object({
    path: z.string(),
    type: z.literal('file'),
    size: z.number().int().min(0),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    mode: z.number().int(),
    mtimeUs: z.number().int(),
  }),
  z.object({ path: z.string(), type: z.literal('dir'), mode: z.number().int(), mtimeUs: z.number().int() }),
  z.object({ path: z.string(), type: z.literal('symlink'), target: z.string(), mtimeUs: z.number().int() }),
])

export const backupManifestSchema = z.object({
  format: z.literal(BACKUP_FORMAT),
  version: z.number().int().min(1),
  createdAt: z.string(),
  /** The root it was taken from, for the record; restores go wherever they are told. */
  root: z.string(),
  database: z
    .object({
      path: z.string(),
      size: z.number().int(),
      sha256: z.string(),
      sessions: z.number().int(),
      events: z.number().int(),
      schema: z.array(z.string()),
    })
    .nullable(),
  /** Everything else, in archive order (the database is listed above, not here). */
  entries: z.array(entry),
  /** Files that changed while they were archived (e.g. a log being appended): kept as read, with their checksum. */
  warnings: z.array(z.string()),
})

export type BackupManifest = z.infer<typeof backupManifestSchema>
export type BackupEntry = BackupManifest['entries'][number]
