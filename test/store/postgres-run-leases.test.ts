import { describe, inject } from 'vitest'
import { postgresStoreForTest, postgresUnavailableReason } from '../helpers/postgres.js'
import { describeRunLeases } from './run-lease-contract.js'

const skip = postgresUnavailableReason()
if (skip) describe.skip(`Run leases: PostgreSQL (${skip})`, () => {})
else describeRunLeases('PostgreSQL', postgresStoreForTest(inject('postgresRunDir')))
