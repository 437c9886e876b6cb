#!/usr/bin/env node
import { Command } from 'commander'
import { registerBackup } from './commands/backup.js'
import { registerDoctor } from './commands/doctor.js'
import { registerEval } from './commands/eval.js'
import { registerExport } from './commands/export.js'
import { registerImport } from './commands/import.js'
import { registerMigrate } from './commands/migrate.js'
import { registerPrune } from './commands/prune.js'
import { registerRestore } from './commands/restore.js'
import { registerRun } from './commands/run.js'
import { registerServe } from './commands/serve.js'
import { addGlobalOptions } from './options.js'

const program = addGlobalOptions(
  new Command('berth').description('A self-hostable AI agent server whose users never lose anything'),
)
registerServe(program)
registerDoctor(program)
registerMigrate(program)
registerBackup(program)
registerRestore(program)
registerExport(program)
registerImport(program)
registerPrune(program)
registerRun(program)
registerEval(program)

await program.parseAsync(process.argv)
