/**
 * The environment of the agent's shell: berth's own, minus its secrets. The
 * agent runs whatever a model wrote, so API keys, tokens, passwords and
 * berth's settings must not be one `env` away (the reference's shell saw
 * everything, ii-agent-interfaces.md §9 item 3).
 */

// Names that hold credentials by convention, whatever the service.
const SECRET_NAME =
  /(_API_KEY|_APIKEY|_API_TOKEN|_TOKEN|_SECRET|_SECRET_KEY|_SECRET_ACCESS_KEY|_PASSWORD|_PASSWD|_CREDENTIALS|_PRIVATE_KEY)$/i
// Whole names that hold credentials or describe berth's storage.
const SECRET_EXACT = new Set(['DATABASE_URL', 'PGPASSWORD', 'AWS_SESSION_TOKEN', 'GOOGLE_APPLICATION_CREDENTIALS'])

/** True for a variable the shell must not inherit. @example isSecretName('CHUTES_API_KEY') // true */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) || SECRET_EXACT.has(name.toUpperCase()) || name.toUpperCase().startsWith('BERTH_')
}

/**
 * Build the shell's environment from `base` (normally `process.env`): drop
 * secrets by name, drop any variable whose value is one of `secretValues`
 * (keys read from `.env` under another name), and make tools behave without a
 * terminal (no pager, no colour).
 *
 * @example
 *   spawn('bash', [], { env: shellEnv(process.env, [config.chutesApiKey]) })
 */
export function shellEnv(
  base: NodeJS.ProcessEnv,
  secretValues: readonly (string | undefined)[] = [],
): Record<string, string> {
  const secrets = new Set(secretValues.filter((v): v is string => typeof v === 'string' && v.length >= 8))
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || isSecretName(name) || secrets.has(value)) continue
    env[name] = value
  }
  env.TERM = 'dumb'
  env.PAGER = 'cat'
  env.GIT_PAGER = 'cat'
  env.NO_COLOR = '1'
  env.DEBIAN_FRONTEND = 'noninteractive'
  env.PYTHONUNBUFFERED = '1'
  delete env.PROMPT_COMMAND
  delete env.BASH_ENV
  delete env.ENV
  return env
}
