/** Plain data describing an npm dependency tree; produced by inventory.ts, consumed by the pure steps. */

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
  source: 'lockfile' | 'installed'
  /** workspace name → folder relative to the project */
  workspaces: Map<string, string>
}

export const OMIT_TYPES = ['dev', 'optional', 'peer'] as const
export type OmitType = (typeof OMIT_TYPES)[number]
