#!/usr/bin/env node
import { Command } from 'commander'
import { registerDoctor } from './commands/doctor.js'
import { registerServe } from './commands/serve.js'
import { addGlobalOptions } from './options.js'

const program = addGlobalOptions(
  new Command('berth').description('A self-hostable AI agent server whose users never lose anything'),
)
registerServe(program)
registerDoctor(program)

await program.parseAsync(process.argv)
