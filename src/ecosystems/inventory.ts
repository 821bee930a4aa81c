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
}

/** Where a reader takes the tree from: the lock file (what would be installed), or what is installed. */
export type TreeSource = 'lockfile' | 'installed'
