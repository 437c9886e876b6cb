import { describe, expect, it } from 'vitest'
import { friendlyError, unsavedRunError } from './friendly-error.js'

describe('unsavedRunError', () => {
  it('says the run stopped, why, what to do, and that the message was not saved', () => {
    const error = unsavedRunError('DISK_FULL', 'Could not write to events.db: the disk is full (SQLITE_FULL).')
    expect(error).toEqual({
      title: 'The run stopped: the server’s disk is full',
      detail: 'Could not write to events.db: the disk is full (SQLITE_FULL).',
      action: 'Free space on the server; nothing already saved was lost.',
      code: 'DISK_FULL',
      note: expect.stringMatching(/^This message was not saved/),
    })
    expect(unsavedRunError('SOMETHING_NEW', 'odd').title).toBe('The run stopped: something went wrong')
    expect(friendlyError('DISK_FULL', 'x').note).toBeNull()
  })
})
