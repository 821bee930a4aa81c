/**
 * Pure: the components nested inside a component (`components[].components`), as both SBOM writers
 * (write-json.ts, to-bom.ts) lay them out: the nested nodes of every install path of the parent, one
 * component per purl, each with a bom-ref qualified by its parent's (`<parent ref>#<purl>`: the same
 * module shipped inside two packages stays two components with distinct refs), and their edges.
 */
import type { Ecosystem } from '../ecosystems/index.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { InventoryNode } from './model.ts'

export interface NestedGroup {
  ref: string
  purl: string
  nodes: InventoryNode[]
}

export interface NestedLayout {
  /** by ref, code point order */
  groups: NestedGroup[]
  /** a nested node's key → its component's ref (the parent's `deps` and the siblings' name these keys) */
  refOf: Map<string, string>
  /** each nested component's edges to its siblings (no self-edges) */
  edges: Map<string, Set<string>>
}

export function nestedLayout(
  parents: readonly InventoryNode[],
  parentRef: string,
  toPurl: Ecosystem['toPurl'],
): NestedLayout {
  const byPurl = new Map<string, NestedGroup>()
  const refOf = new Map<string, string>()
  for (const p of parents)
    for (const n of p.nested ?? []) {
      const purl = n.purl ?? toPurl(n)
      let g = byPurl.get(purl)
      if (!g) {
        g = { ref: `${parentRef}#${purl}`, purl, nodes: [] }
        byPurl.set(purl, g)
      }
      g.nodes.push(n)
      refOf.set(n.key, g.ref)
    }
  const edges = new Map<string, Set<string>>()
  for (const g of byPurl.values()) {
    const set = new Set<string>()
    for (const n of g.nodes)
      for (const k of n.deps) {
        const to = refOf.get(k)
        if (to !== undefined && to !== g.ref) set.add(to)
      }
    edges.set(g.ref, set)
  }
  const groups = [...byPurl.values()].sort((a, b) => compareCodePoint(a.ref, b.ref))
  return { groups, refOf, edges }
}
