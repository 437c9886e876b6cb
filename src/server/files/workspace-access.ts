import type { FastifyRequest } from 'fastify'
import { BerthError } from '../../core/errors.js'
import type { SessionRecord } from '../../store/types.js'
import { isValidSessionId } from '../../workspace/containment.js'
import { type WorkspaceKey, workspaceKey } from '../../workspace/workspace-storage.js'
import { sessionForRead } from '../access.js'
import type { ServerContext } from '../context.js'

/** A session whose workspace a request may read or write, and the key of that workspace in the storage. */
export interface WorkspaceTarget {
  sessionId: string
  key: WorkspaceKey
  session: SessionRecord
}

/**
 * Check a client's `workspace_id` (the session id, as the reference UI sends
 * it) and the requester's right to it: owner device or server token
 * (`sessionForRead`). A `workspace_id` of `/`, `..` or an absolute path is a
 * 400 before anything touches the disk (reference weak point §9.1).
 *
 * @example
 *   const { key } = await workspaceForRequest(context, request, body.workspace_id)
 */
export async function workspaceForRequest(
  context: ServerContext,
  request: FastifyRequest,
  workspaceId: string,
): Promise<WorkspaceTarget> {
  const sessionId = checkedSessionId(workspaceId)
  const session = await sessionForRead(context, request.requester, sessionId)
  return { sessionId, key: await workspaceKey(context.workspaceStorage, session), session }
}

/**
 * A session id from a client, refused with `PATH_INVALID` (400) unless it is
 * one safe folder name (a uuid or `[A-Za-z0-9_-]`).
 *
 * @example
 *   checkedSessionId('../etc') // throws PATH_INVALID
 */
export function checkedSessionId(value: unknown): string {
  if (typeof value === 'string' && isValidSessionId(value)) return value
  throw new BerthError('PATH_INVALID', `Not a valid session or workspace id: ${JSON.stringify(String(value))}`)
}
