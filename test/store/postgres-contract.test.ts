import { inject } from 'vitest'
import { postgresStoreForTest, postgresUnavailableReason } from '../helpers/postgres.js'
import { describeStore } from './store-contract.js'

describeStore('PostgreSQL', postgresStoreForTest(inject('postgresRunDir')), { skip: postgresUnavailableReason() })
