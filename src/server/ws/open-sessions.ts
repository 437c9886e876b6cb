import type { FastifyInstance } from 'fastify'

declare module 'fastify' {
  interface FastifyInstance {
    /** Session ids handed to live sockets before anything was stored for them (see `OpenSessions`). */
    openSessions: OpenSessions
  }
}

/**
 * Session ids a live WebSocket was given (`connection_established`) whose
 * session row does not exist yet: berth stores a session at its first upload
 * or query, never at connect, so page loads leave no empty sessions. Until
 * then this remembers which device opened the socket, so an upload sent for
 * that id by a client that names no device (the reference frontend under
 * BERTH_II_AGENT_COMPAT, which uploads before its first query) still creates
 * the session for the device that opened it. In memory: a socket lives in
 * one process, and the claim ends with it.
 *
 * @example
 *   const release = app.openSessions.claim(sessionId, requester.deviceId)
 *   socket.once('close', release)
 */
export class OpenSessions {
  private readonly claims = new Map<string, { deviceId: string | null; sockets: number }>()

  claim(sessionId: string, deviceId: string | null): () => void {
    const claim = this.claims.get(sessionId) ?? { deviceId, sockets: 0 }
    claim.sockets++
    this.claims.set(sessionId, claim)
    let released = false
    return () => {
      if (released) return
      released = true
      if (--claim.sockets === 0 && this.claims.get(sessionId) === claim) this.claims.delete(sessionId)
    }
  }

  /** The device of the first live socket that was given this id; undefined when no live socket holds it. */
  deviceOf(sessionId: string): string | null | undefined {
    return this.claims.get(sessionId)?.deviceId
  }
}

/** One registry per app, shared by the WebSocket and upload routes. */
export function registerOpenSessions(app: FastifyInstance): void {
  app.decorate('openSessions', new OpenSessions())
}
