import path from 'node:path'
import { sameContent } from '../transfer/copy-verified.js'
import { type TreeEntry, walkTree } from '../transfer/tree-walk.js'

export interface TreeComparison {
  identical: boolean
  /** The first few differences, in words. */
  differences: string[]
  /** The source as walked, when it was walked. */
  sourceEntries: TreeEntry[]
}

const MAX_DIFFERENCES = 5

/**
 * Whether the tree at `target` holds exactly what `source` holds: the same
 * paths and types, the same link texts, and files of the same size and
 * bytes. Modes and times are not compared; content is.
 *
 * @example
 *   const { identical, differences } = await compareTrees('/old/workspace/abc', '/new/workspace/abc')
 */
export async function compareTrees(
  source: string,
  target: string,
  sourceEntries?: TreeEntry[],
): Promise<TreeComparison> {
  const left = sourceEntries ?? (await walkTree(source))
  const right = new Map((await walkTree(target)).map((entry) => [entry.path, entry]))
  const differences: string[] = []
  const files: TreeEntry[] = []
  for (const entry of left) {
    const other = right.get(entry.path)
    right.delete(entry.path)
    const name = entry.path === '' ? '(the folder itself)' : entry.path
    if (other === undefined) differences.push(`${name} is missing at the target`)
    else if (other.type !== entry.type)
      differences.push(`${name} is a ${other.type} at the target, a ${entry.type} here`)
    else if (entry.type === 'symlink' && other.target !== entry.target) differences.push(`${name} links elsewhere`)
    else if (entry.type === 'file' && other.size !== entry.size) differences.push(`${name} differs in size`)
    else if (entry.type === 'file') files.push(entry)
  }
  for (const extra of right.keys()) differences.push(`${extra} exists only at the target`)
  if (differences.length === 0) {
    for (const file of files) {
      if (!(await sameContent(path.join(source, file.path), path.join(target, file.path)))) {
        differences.push(`${file.path} differs in content`)
        if (differences.length >= MAX_DIFFERENCES) break
      }
    }
  }
  return {
    identical: differences.length === 0,
    differences: differences.slice(0, MAX_DIFFERENCES),
    sourceEntries: left,
  }
}
