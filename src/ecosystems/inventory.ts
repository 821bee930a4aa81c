/**
 * Plain data describing a project's dependency tree, as every ecosystem's reader produces it
 * (`Ecosystem.readInventory`) and the SBOM step consumes it. The flags follow npm's model (the first
 * ecosystem); an ecosystem without dev / optional / peer dependencies sets them false.
 */

export type DependencyKind = 'root' | 'registry' | 'git' | 'remote' | 'file' | 'directory' | 'workspace'

/** The package.json fields that an SBOM uses. */
export interface Manifest {
  name?: string
  version?: string
  description?: string
  license?: unknown
  licenses?: unknown
  author?: unknown
  contributors?: unknown
  maintainers?: unknown
  repository?: unknown
  homepage?: unknown
  bugs?: unknown
  engines?: unknown
  os?: unknown
  cpu?: unknown
  private?: unknown
}

export interface InventoryNode {
  /** the install location, unique in the tree ('' for the root) */
  key: string
  /** the real package name (not an alias) */
  name: string
  version: string
  location: string
  /** locations of links that point at this node (workspaces, file: deps) */
  linkedFrom?: string[]
  kind: DependencyKind
  resolved: string | undefined
  integrity: string | undefined
  dev: boolean
  optional: boolean
  devOptional: boolean
  peer: boolean
  extraneous: boolean
  bundled: boolean
  manifest: Manifest
  /** keys of the nodes this one depends on (links resolved to their targets) */
  deps: string[]
  /**
   * the ecosystem that read this node (`go`), when it is not the inventory's own: the SBOM writer then
   * writes no npm-specific fields (`cdx:npm:package:*`, package.json data) for it; absent: npm's node
   */
  ecosystem?: string
  /** the node's package URL (also its bom-ref), when its ecosystem computed it; else the ecosystem's `toPurl` */
  purl?: string
  /** extra CycloneDX properties of the component (`detbuild:go:h1`, …) */
  properties?: Array<{ name: string; value: string }>
  /** written as an `application` component rather than a `library` (a second ecosystem's main module) */
  application?: boolean
  /**
   * components inside this one (the Go modules of an executable an npm package ships): written as the
   * component's nested `components`, each also in `dependencies`. A nested node's `deps` name keys of
   * its siblings; this node's `deps` may name nested keys (the edge to what it ships).
   */
  nested?: InventoryNode[]
}

export interface Inventory {
  root: InventoryNode
  nodes: Map<string, InventoryNode>
  warnings: string[]
  lockfile: string | undefined
  lockfileVersion: number | undefined
  source: TreeSource
  /** workspace name → folder relative to the project */
  workspaces: Map<string, string>
  /**
   * keys of nodes whose own dependency list is not known (a Go module whose go.mod was not in the module
   * cache): the SBOM says so in `compositions` (aggregate `incomplete`) instead of claiming no dependencies
   */
  incompleteDeps?: string[]
}

/** Where a reader takes the tree from: the lock file (what would be installed), or what is installed. */
export type TreeSource = 'lockfile' | 'installed'
