import { z } from 'zod'

/**
 * A portable session bundle: a `.tar.gz` holding, in this order,
 *   manifest.json   format, version, the session record, event count
 *   events.jsonl    one event per line; `payload` is the stored JSON text, byte for byte
 *   workspace/…     the session's folder (files, folders, symlinks as links)
 *   checksums.json  size and SHA-256 of every entry above, written last
 */
export const BUNDLE_FORMAT = 'berth-session'
export const BUNDLE_VERSION = 1
export const MANIFEST = 'manifest.json'
export const EVENTS = 'events.jsonl'
export const CHECKSUMS = 'checksums.json'
export const WORKSPACE = 'workspace'

export const bundleManifestSchema = z.object({
  format: z.literal(BUNDLE_FORMAT),
  version: z.number().int().min(1),
  exportedAt: z.string(),
  session: z.object({
    id: z.string(),
    /** As stored where it was exported; informational only. */
    workspaceDir: z.string(),
    createdAt: z.string().nullable(),
    deviceId: z.string().nullable(),
    summary: z.string().nullable(),
    name: z.string().nullable(),
    status: z.enum(['idle', 'running', 'interrupted']),
    updatedAt: z.string().nullable(),
    label: z.string().nullable().default(null),
  }),
  events: z.object({ count: z.number().int().min(0), lastSeq: z.number().int().min(0) }),
})

export type BundleManifest = z.infer<typeof bundleManifestSchema>

/** One line of events.jsonl. */
export const bundleEventSchema = z.object({
  id: z.string().min(1),
  seq: z.number().int().min(1),
  timestamp: z.string().nullable(),
  type: z.string().min(1),
  payload: z.string(),
})

export const checksumsSchema = z.object({
  entries: z.array(
    z.object({
      path: z.string(),
      type: z.enum(['file', 'dir', 'symlink']),
      size: z.number().int().min(0).optional(),
      sha256: z.string().optional(),
      target: z.string().optional(),
      mode: z.number().int().optional(),
      /** Modification time in whole microseconds. */
      mtimeUs: z.number().int().optional(),
    }),
  ),
})

export type BundleChecksums = z.infer<typeof checksumsSchema>
