import type { Command } from 'commander'
import { type BerthConfig, loadConfig } from '../config/config.js'

/** Options every command accepts; they map onto settings of the same name. */
export function addGlobalOptions(program: Command): Command {
  return program
    .option(
      '--data-dir <dir>',
      'data root (default: BERTH_DATA_DIR, a platform volume, /var/data, or the current directory)',
    )
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (default: info)')
}

/** The validated configuration for a command, its own and the global flags included. */
export function configFor(command: Command): BerthConfig {
  return loadConfig({ flags: command.optsWithGlobals() })
}
