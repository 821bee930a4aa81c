/**
 * The Go ecosystem: modules with go.mod (and go.sum), read without a Go toolchain; `pkg:golang` package
 * URLs; OSV's "Go" advisories; Go's module versions, pseudo-versions and releases (version-order.ts).
 */
import type { Ecosystem, ReadInventoryOptions } from '../ecosystem.ts'
import { readGoExecutablesInventory } from './executables.ts'
import { toPurl } from './purl.ts'
import { detectGoProject, readGoInventory } from './read-inventory.ts'
import { goVersionOrder } from './version-order.ts'

/** The Go adapter (frozen: one shared instance). */
export const goEcosystem: Ecosystem = Object.freeze({
  id: 'go',
  purlType: 'golang',
  osvEcosystem: 'Go',
  manifestFile: 'go.mod',
  ...goVersionOrder,
  detect: detectGoProject,
  readInventory: (projectDir: string, options: ReadInventoryOptions) =>
    readGoInventory(projectDir, { env: options.env ?? {}, goList: options.goList === true }),
  readExecutables: readGoExecutablesInventory,
  toPurl,
})
