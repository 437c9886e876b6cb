/**
 * Print the README's configuration table from the settings table, so the
 * documentation is regenerated rather than retyped: `npx tsx scripts/settings-table.ts`.
 */
import { kebab } from '../src/config/config.js'
import { SETTINGS } from '../src/config/settings.js'

const rows = Object.values(SETTINGS).map((spec) => {
  const flag = 'flag' in spec && spec.flag ? `\`--${kebab(spec.flag)}\`` : ''
  const env = spec.env.map((name) => `\`${name}\``).join(', ')
  const value = spec.default === undefined ? 'unset' : `\`${formatDefault(spec.default)}\``
  return `| ${env} | ${flag} | ${value} | ${spec.description.replace(/\|/g, '\\|')} |`
})
console.log(['| Environment | Flag | Default | What it does |', '|---|---|---|---|', ...rows].join('\n'))

function formatDefault(value: unknown): string {
  if (typeof value === 'number' && value >= 1024 ** 2 && value % 1024 ** 2 === 0) {
    return value % 1024 ** 3 === 0 ? `${value / 1024 ** 3}GiB` : `${value / 1024 ** 2}MiB`
  }
  if (value === null || value === '') return 'none'
  return Array.isArray(value) ? value.join(',') : String(value)
}
