import path from 'node:path'

// Language names as the Monaco editor (the reference UI's code view) knows them, with their extensions.
const LANGUAGES = `
  javascript: js mjs cjs jsx | typescript: ts mts cts tsx | python: py pyi | ruby: rb | go: go | rust: rs
  java: java | kotlin: kt kts | swift: swift | c: c h | cpp: cpp cc cxx hpp hh | csharp: cs | php: php
  lua: lua | r: r | shell: sh bash zsh | powershell: ps1 | sql: sql | html: html htm vue svelte
  css: css | scss: scss | less: less | json: json jsonl map | yaml: yaml yml | ini: ini toml cfg
  xml: xml svg | markdown: md markdown | latex: tex | graphql: graphql gql | dockerfile: dockerfile
  plaintext: txt csv log
`
const BY_EXTENSION = new Map(
  LANGUAGES.split(/[|\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .flatMap((entry) => {
      const [language, extensions] = entry.split(':') as [string, string]
      return extensions
        .trim()
        .split(/\s+/)
        .map((ext) => [ext, language] as const)
    }),
)
const BY_NAME = new Map([
  ['dockerfile', 'dockerfile'],
  ['makefile', 'makefile'],
])

/**
 * The editor language of a file, from its name or extension; `plaintext` when unknown.
 *
 * @example
 *   languageOf('site/app.tsx') // 'typescript'
 *   languageOf('Dockerfile')   // 'dockerfile'
 *   languageOf('README')       // 'plaintext'
 */
export function languageOf(name: string): string {
  const base = path.posix.basename(name).toLowerCase()
  return BY_NAME.get(base) ?? BY_EXTENSION.get(path.posix.extname(base).slice(1)) ?? 'plaintext'
}
