/** Pure: which packages an SBOM covers, with npm's own omission and workspace semantics. */
import { InputError } from '../errors.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { Inventory, InventoryNode, OmitType } from './model.ts'

/**
 * npm's rule (as in `npm ci --omit`): Arborist flags a node `dev` / `optional` / `devOptional` / `peer`
 * only when nothing outside that class needs it, so a package that production code needs stays even
 * when a dev dependency needs it too.
 */
export function isOmitted(node: InventoryNode, omit: ReadonlySet<OmitType>): boolean {
  return (
    (node.dev && omit.has('dev')) ||
    (node.optional && omit.has('optional')) ||
    (node.devOptional && omit.has('dev') && omit.has('optional')) ||
    (node.peer && omit.has('peer'))
  )
}

export interface Selection {
  /** the component the SBOM describes */
  root: InventoryNode
  /** keys of included packages (never the root) */
  included: Set<string>
}

export function selectPackages(
  inventory: Inventory,
  options: { omit: ReadonlySet<OmitType>; workspaces: readonly string[] },
): Selection {
  const { nodes } = inventory
  const keep = (n: InventoryNode) => !isOmitted(n, options.omit)
  if (options.workspaces.length === 0) {
    const included = new Set<string>()
    for (const n of nodes.values()) if (n !== inventory.root && keep(n)) included.add(n.key)
    return { root: inventory.root, included }
  }
  const starts: InventoryNode[] = []
  const unknown: string[] = []
  for (const name of options.workspaces) {
    const dir = inventory.workspaces.get(name) ?? [...inventory.workspaces].find(([, d]) => d === name)?.[1]
    const node = dir === undefined ? undefined : nodes.get(dir)
    if (node) starts.push(node)
    else unknown.push(name)
  }
  if (unknown.length > 0) {
    const known = [...inventory.workspaces.keys()].sort(compareCodePoint)
    throw new InputError(
      'SBOM_WORKSPACE_UNKNOWN',
      `no workspace named ${unknown.join(', ')} (workspaces: ${known.length ? known.join(', ') : 'none'})`,
      { file: 'package.json' },
    )
  }
  const included = new Set<string>()
  const queue = [...starts]
  while (queue.length > 0) {
    const n = queue.pop()!
    if (included.has(n.key)) continue
    included.add(n.key)
    for (const k of n.deps) {
      const d = nodes.get(k)
      if (d && d !== inventory.root && keep(d) && !included.has(k)) queue.push(d)
    }
  }
  if (starts.length === 1) {
    const only = starts[0]!
    included.delete(only.key)
    return { root: only, included }
  }
  return { root: inventory.root, included }
}
