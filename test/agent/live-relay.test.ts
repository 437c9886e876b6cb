import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { LiveRelay } from '../../src/agent/live-relay.js'
import type { TransientEvent } from '../../src/core/events.js'

describe('LiveRelay', () => {
  it('sends a session’s deltas once per interval, consecutive ones of a kind merged, in order', async () => {
    const sent: { sessionId: string; events: readonly TransientEvent[] }[] = []
    const relay = new LiveRelay((sessionId, events) => sent.push({ sessionId, events }), 20)
    for (const text of ['Hel', 'lo', ' world']) relay.push('s1', { type: 'agent_response_delta', content: { text } })
    relay.push('s1', { type: 'tool_output_delta', content: { tool_call_id: 'a', text: 'out1 ' } })
    relay.push('s1', { type: 'tool_output_delta', content: { tool_call_id: 'a', text: 'out2' } })
    relay.push('s1', { type: 'tool_output_delta', content: { tool_call_id: 'b', text: 'other' } })
    relay.push('s2', { type: 'agent_thinking_delta', content: { text: 'hmm' } })
    expect(sent).toEqual([])
    await sleep(40)
    expect(sent).toEqual([
      {
        sessionId: 's1',
        events: [
          { type: 'agent_response_delta', content: { text: 'Hello world' } },
          { type: 'tool_output_delta', content: { tool_call_id: 'a', text: 'out1 out2' } },
          { type: 'tool_output_delta', content: { tool_call_id: 'b', text: 'other' } },
        ],
      },
      { sessionId: 's2', events: [{ type: 'agent_thinking_delta', content: { text: 'hmm' } }] },
    ])
  })

  it('does not change the events the run’s own viewers got', async () => {
    const relay = new LiveRelay(() => {}, 5)
    const first: TransientEvent = { type: 'agent_response_delta', content: { text: 'a' } }
    relay.push('s', first)
    relay.push('s', { type: 'agent_response_delta', content: { text: 'b' } })
    await sleep(15)
    expect(first.content).toEqual({ text: 'a' })
  })
})
