/**
 * Edge (reads through the ecosystems' readers) + pure merge: which ecosystems describe a project folder
 * and one inventory of them all. A folder with package.json and go.mod (a Go service with an npm front
 * end) gives one SBOM: the first ecosystem's root (in registration order: npm, then Go) describes the
 * project, every other ecosystem's main module is an `application` component it depends on, with that
 * ecosystem's components below it. `--ecosystem <id>` reads one ecosystem only.
 */
import type {
  Ecosystem,
  EcosystemRegistry,
  Inventory,
  InventoryNode,
  TreeSource,
} from '../ecosystems/index.ts'
import { InputError } from '../errors.ts'

/** The ecosystems that read `cwd`: the one named, else every one that detects it, else the first registered. */
export async function projectEcosystems(
  registry: EcosystemRegistry,
  cwd: string,
  only: string | undefined,
): Promise<Ecosystem[]> {
  if (only !== undefined) {
    const e = registry.byId(only)
    if (!e)
      throw new InputError(
        'SBOM_USAGE',
        `--ecosystem takes ${registry.ecosystems.map((x) => x.id).join(' or ')}, not "${only}"`,
      )
    return [e]
  }
  const found: Ecosystem[] = []
  for (const e of registry.ecosystems) if (await e.detect(cwd)) found.push(e)
  // nothing detected: the default ecosystem's reader names the file it misses, as it always has
  return found.length > 0 ? found : [registry.ecosystems[0]!]
}

/** Reads every ecosystem's inventory and merges them (one ecosystem: its inventory as it is). */
export async function readProjectInventory(
  ecosystems: readonly Ecosystem[],
  cwd: string,
  options: { source: TreeSource; env: Readonly<Record<string, string | undefined>> },
): Promise<Inventory> {
  const trees: Array<[Ecosystem, Inventory]> = []
  for (const e of ecosystems) trees.push([e, await e.readInventory(cwd, options)])
  const [first, ...rest] = trees
  return rest.length === 0 ? first![1] : mergeInventories(first!, rest)
}

/**
 * Pure: `others` hung below the primary inventory's root. Each other node gets its ecosystem and purl
 * (the writers take the primary ecosystem's `toPurl` otherwise); each other root is re-keyed `<id>:` and
 * becomes an application component. Keys are the readers' own and must not meet (Go's are `go:…`).
 */
export function mergeInventories(
  primary: [Ecosystem, Inventory],
  others: ReadonlyArray<[Ecosystem, Inventory]>,
): Inventory {
  const [, base] = primary
  const nodes = new Map(base.nodes)
  const root: InventoryNode = { ...base.root, deps: [...base.root.deps] }
  nodes.set(root.key, root)
  const warnings = [...base.warnings]
  const incomplete = [...(base.incompleteDeps ?? [])]
  for (const [eco, inv] of others) {
    const rootKey = `${eco.id}:`
    const rekey = (k: string) => (k === inv.root.key ? rootKey : k)
    for (const n of inv.nodes.values()) {
      const key = rekey(n.key)
      if (nodes.has(key))
        throw new InputError(
          'SBOM_USAGE',
          `the ${eco.id} and ${primary[0].id} trees both hold "${key}": write one SBOM per ecosystem with --ecosystem`,
        )
      const isRoot = n === inv.root
      nodes.set(key, {
        ...n,
        key,
        kind: isRoot ? 'directory' : n.kind,
        application: isRoot ? true : n.application,
        ecosystem: n.ecosystem ?? eco.id,
        purl: n.purl ?? eco.toPurl(isRoot ? { ...n, kind: 'registry' } : n),
        deps: n.deps.map(rekey),
      })
    }
    root.deps.push(rootKey)
    warnings.push(...inv.warnings)
    incomplete.push(...(inv.incompleteDeps ?? []).map(rekey))
  }
  const out: Inventory = { ...base, root, nodes, warnings }
  if (incomplete.length > 0) out.incompleteDeps = incomplete
  return out
}
