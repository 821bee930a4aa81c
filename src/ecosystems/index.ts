/**
 * The door to package ecosystems: the `Ecosystem` interface (read a project into an inventory; order
 * versions and match them against OSV ranges), the registry that finds an ecosystem by id, purl type
 * or OSV name, and the default registry. To add an ecosystem: a new folder `ecosystems/<id>/` that
 * implements `Ecosystem`, and one line in `ECOSYSTEMS` below.
 */
import type { Ecosystem } from './ecosystem.ts'
import { goEcosystem } from './go/index.ts'
import { npmEcosystem } from './npm/index.ts'
import { createRegistry, type EcosystemRegistry } from './registry.ts'
import { semverOrder } from './semver-order.ts'

export type {
  Ecosystem,
  ProjectLock,
  RegistryMetadata,
  RegistryPackage,
  VersionOrder,
} from './ecosystem.ts'
export type { Inventory, InventoryNode, TreeSource } from './inventory.ts'
export { inRangeWith } from './osv-range.ts'
export { baseEcosystem, createRegistry, type EcosystemRegistry } from './registry.ts'
export { goEcosystem, npmEcosystem, semverOrder }

/**
 * Package types the OSV API matches on the server, for which detbuild has no adapter yet: the API
 * scan checks them (fix advice uses semver ordering, best effort); an offline scan cannot and leaves
 * them unchecked (exit 3). A new adapter for one of them takes over its purl type.
 */
export const SERVER_MATCHED: Readonly<Record<string, string>> = Object.freeze({
  pypi: 'PyPI',
  maven: 'Maven',
  cargo: 'crates.io',
  gem: 'RubyGems',
  nuget: 'NuGet',
  composer: 'Packagist',
})

/** Every ecosystem detbuild supports, in detection order. */
const ECOSYSTEMS: readonly Ecosystem[] = Object.freeze([npmEcosystem, goEcosystem])

/** The registry the SBOM and scan steps use unless given another (`ecosystems` option). */
export const defaultEcosystems: EcosystemRegistry = createRegistry(ECOSYSTEMS, {
  serverMatched: SERVER_MATCHED,
  fallbackOrder: semverOrder,
})

// Go scans (scan/): executables' build info and symbols, reachability against OSV's Go records
export { readGoBinary } from './go/binary/index.ts'
export { goModModulePath, type ImportWalk, walkImports } from './go/imports-walk.ts'
// Go builds (builder/): the golang.org/toolchain pin, go.sum's h1: checks and the module proxy
export {
  modulePathProblem,
  parseGoSumLines,
  prefetchModules,
  resolveGoProxy,
  versionProblem,
} from './go/module-proxy.ts'
export {
  binaryVerdict,
  type GoSymbolIndex,
  type GoTarget,
  type GoVulnImport,
  sourceVerdict,
  toSymbolIndex,
  toVulnImports,
} from './go/reachability.ts'
export { type ChecksumDatabase, resolveChecksumDatabase } from './go/sumdb.ts'
export { ensureGoToolchain, goPlatform } from './go/toolchain.ts'
export { goSemver } from './go/version-order.ts'
