/**
 * Pure: what the SBOM states about itself for the SBOM profiles (docs/profiles.md) — the lifecycle phase
 * it was made in (CISA "Generation Context"), the completeness of every dependency list (CycloneDX
 * `compositions`: CISA "Known Unknowns", BSI TR-03183-2 "Dependencies … with a completeness statement"),
 * and the BSI TR-03183-2 v2.1.0 file properties of a component whose deployable file is known. Shared by
 * both writers (write-json.ts, to-bom.ts), so that they stay byte-identical.
 */
import { uniqueSorted } from '../util/sort.ts'
import type { Inventory, InventoryNode } from './model.ts'
import type { Compositions } from './serialize.ts'

/** CycloneDX 1.5+ `metadata.lifecycles[].phase` (written only from 1.5 on). */
export type LifecyclePhase = 'pre-build' | 'build' | 'post-build'

/**
 * The phase an SBOM describes: a lockfile is read before anything is installed (`pre-build`: the
 * inventory is resolved but not retrieved), an installed tree during the build (`build`: what the build
 * installed), executables after it (`post-build`: `--binary`).
 */
export function lifecycleOf(source: 'lockfile' | 'installed', binaries: boolean): LifecyclePhase {
  if (binaries) return 'post-build'
  return source === 'lockfile' ? 'pre-build' : 'build'
}

/** The SBOM's author (`sbom --author "Name <e-mail>"`): CISA "SBOM Author", BSI "Creator of the SBOM". */
export interface SbomAuthor {
  name: string
  email?: string | undefined
}

/** The BSI TR-03183-2 v2.1.0 §5.2.2 file properties, as its CycloneDX mapping names them. */
export const BSI_PROPERTIES = {
  filename: 'bsi:component:filename',
  executable: 'bsi:component:executable',
  archive: 'bsi:component:archive',
  structured: 'bsi:component:structured',
} as const

/**
 * A component's BSI file properties, only where the file is known: an npm package resolved to a tarball
 * (`resolved` ends in .tgz), or a registry package pinned by its tarball's integrity whose lockfile leaves
 * the URL out (npm's `omit-lockfile-registry-resolved`): the registry serves it as
 * `<name without scope>-<version>.tgz`. Such a file is an archive, not executable itself, with a known
 * structure (package/ and its package.json). Nothing for the root, workspaces, links, git dependencies or
 * other ecosystems' nodes: no file is claimed where none was seen.
 */
export function bsiProperties(node: InventoryNode): Array<{ name: string; value: string }> {
  if (node.ecosystem !== undefined && node.ecosystem !== 'npm') return []
  const file = tarballName(node)
  if (file === undefined || !/\.(tgz|tar\.gz)$/.test(file) || /[\u0000-\u001f/\\]/.test(file)) return []
  return [
    { name: BSI_PROPERTIES.filename, value: file },
    { name: BSI_PROPERTIES.executable, value: 'non-executable' },
    { name: BSI_PROPERTIES.archive, value: 'archive' },
    { name: BSI_PROPERTIES.structured, value: 'structured' },
  ]
}

function tarballName(node: InventoryNode): string | undefined {
  if (node.kind !== 'registry' && node.kind !== 'remote') return undefined
  if (node.resolved) {
    try {
      return decodeURIComponent(new URL(node.resolved).pathname.split('/').pop() ?? '') || undefined
    } catch {
      return undefined
    }
  }
  if (node.kind !== 'registry' || !node.integrity || !node.version) return undefined
  return `${node.name.split('/').pop()}-${node.version}.tgz`
}

/**
 * The SBOM's `compositions`: every component's dependency list stated `complete`, `incomplete` or
 * `unknown`, so that an empty or short `dependsOn` is never read as "depends on nothing else".
 * - incomplete: the reader could not see the list (inventory.incompleteDeps: a Go module without its
 *   go.mod), or an edge was left out of the SBOM (`--omit`, `-w`, a dependency missing from the tree);
 * - unknown: components nested in a component (the modules of an executable a package ships), whose
 *   lists come from that executable's build info, not from a manifest;
 * - complete: every other component, the root included — its reader listed every dependency and each is
 *   in the SBOM.
 * `refOf` maps every written top-level node (root included) to its bom-ref; `dropped` holds the refs
 * that lost an edge. Empty aggregates are left out; undefined when there is no component at all.
 */
export function dependencyCompositions(
  inventory: Inventory,
  refOf: ReadonlyMap<string, string>,
  dropped: ReadonlySet<string>,
  nestedRefs: Iterable<string>,
): Compositions | undefined {
  const incomplete = new Set<string>(dropped)
  for (const k of inventory.incompleteDeps ?? []) {
    const ref = refOf.get(k)
    if (ref !== undefined) incomplete.add(ref)
  }
  const complete = uniqueSorted([...refOf.values()].filter((r) => !incomplete.has(r)))
  const unknown = uniqueSorted([...nestedRefs])
  const out: Compositions = []
  if (complete.length > 0) out.push({ aggregate: 'complete', dependencies: complete })
  if (incomplete.size > 0) out.push({ aggregate: 'incomplete', dependencies: uniqueSorted([...incomplete]) })
  if (unknown.length > 0) out.push({ aggregate: 'unknown', dependencies: unknown })
  return out.length > 0 ? out : undefined
}
