/**
 * The seam between the pipeline and a package ecosystem (npm, Go): what the SBOM step needs
 * to read a project into an inventory, and what the scan step needs to match versions against OSV.
 * Types only; each ecosystem implements them in its own folder (`ecosystems/<id>/`).
 */
import type { Inventory, InventoryNode, Manifest, TreeSource } from './inventory.ts'
import type { OsvRangeInput, RangeVerdict } from './osv-range.ts'

/**
 * How an ecosystem orders its versions and evaluates OSV ranges over them. Pure: data in, data out,
 * so matching is testable without a project, a network or a registry.
 */
export interface VersionOrder {
  /** The version scheme's name, for messages (`version "x" is not a semver version`). */
  readonly scheme: string
  /** Whether a component's version is one of this ecosystem's versions (else it is not checked: exit 3). */
  isValidVersion(version: string): boolean
  /** Orders two valid versions: negative, zero or positive. */
  compareVersions(a: string, b: string): number
  /**
   * Whether an OSV range covers `version` (the OSV schema's walk over introduced / fixed /
   * last_affected / limit), with the fix that ends the covering interval. Ranges of other types (GIT)
   * cover nothing; an event version that cannot be parsed covers everything (`unparsable`: fail closed).
   * A `version` that cannot be parsed is covered by no range.
   */
  inRange(version: string, range: OsvRangeInput): RangeVerdict
}

/** Options of `Ecosystem.readInventory`. */
export interface ReadInventoryOptions {
  /** the lock file (what would be installed) or what is installed */
  source: TreeSource
  /**
   * the environment the step may see (Go: GOMODCACHE / GOPATH / HOME for the module cache, PATH and
   * git's variables for the main module's version); default: none
   */
  env?: Readonly<Record<string, string | undefined>>
  /** Go: the module graph from the go command (`go list -m -json all`, offline) rather than the module cache */
  goList?: boolean
}

/** A package version the registry is asked about (`name@version`, with the lock's integrity when known). */
export interface RegistryPackage {
  readonly name: string
  readonly version: string
  readonly integrity?: string | undefined
}

/** What the registry says about one package version. */
export interface RegistryPackageFacts {
  /** the version's manifest as the registry holds it (the package.json fields an SBOM uses) */
  readonly manifest: Manifest
  /** the registry account that published the version (npm's `_npmUser.name`), when recorded */
  readonly publisher?: string | undefined
}

/** Registry metadata for a set of package versions, and how it was obtained. */
export interface RegistryMetadata {
  /** the registry asked (credentials removed) */
  readonly registry: string
  /** facts by `name@version` (a version without usable data is left out and named in `gaps`) */
  readonly byPackage: ReadonlyMap<string, RegistryPackageFacts>
  /** sha256 (hex) of every entry used, in order: same cache, same digest, same SBOM */
  readonly digest: string
  /** entries fetched now, and read from the cache */
  readonly fetched: number
  readonly cached: number
  /** one line per version without usable data (not in the registry, refused reply, offline cache miss) */
  readonly gaps: readonly string[]
}

/** Options of `Ecosystem.readRegistryMetadata`. */
export interface RegistryMetadataOptions {
  /** the project folder (its registry configuration) */
  readonly projectDir: string
  /** where fetched metadata is kept between runs */
  readonly cacheDir: string
  /** use the cache only: no network at all */
  readonly offline: boolean
  /** the environment the step may see (registry settings, HOME, the tokens a registry config names) */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** One package ecosystem. Register it in `ecosystems/index.ts`; nothing else in the tree names it. */
export interface Ecosystem extends VersionOrder {
  /** short stable id, also the folder name (`npm`, `go`) */
  readonly id: string
  /** the package-URL type of its packages (`npm`; Go's is `golang`) */
  readonly purlType: string
  /** the OSV ecosystem name its advisories are filed under (`npm`; Go's is `Go`) */
  readonly osvEcosystem: string
  /** the project's manifest, relative to the project (`package.json`; Go's is `go.mod`): SARIF's location without a lock */
  readonly manifestFile: string
  /**
   * Edge: whether `projectDir` is a project of this ecosystem (a manifest is there). Never throws for
   * an unreadable manifest: the reader reports that, with its own error code.
   */
  detect(projectDir: string): Promise<boolean>
  /** Edge: reads the project's dependency tree into plain data; bad input is an InputError naming the file. */
  readInventory(projectDir: string, options: ReadInventoryOptions): Promise<Inventory>
  /**
   * Edge, optional: the inventory of executables this ecosystem's tools built (`sbom --binary`: Go's build
   * info), each file relative to `projectDir` and inside it; bad input is an InputError naming the file.
   */
  readExecutables?(projectDir: string, files: readonly string[]): Promise<Inventory>
  /** Pure: the package URL of an inventory node (also the SBOM's bom-ref). */
  toPurl(node: Pick<InventoryNode, 'name' | 'version' | 'kind' | 'resolved' | 'purl'>): string
  /**
   * Pure, optional: the package name as the ecosystem spells it, from an SBOM component (its own
   * `name`/`group`, its purl, its install paths), and whether that spelling is certain (`exactName`:
   * false makes matching take every spelling that differs only in letter case). Default: `fromPurl`
   * (the purl's `namespace/name`), exact.
   */
  componentName?(
    component: { name?: string; group?: string },
    purl: string,
    installPaths: readonly string[],
    fromPurl: string,
  ): { name: string; exactName: boolean }
  /**
   * Pure, optional: the purl to ask the OSV API about, given the SBOM's (without qualifiers) and the
   * name as `componentName` read it. Default: the SBOM's.
   */
  queryPurl?(purl: string, component: { name: string; version: string; exactName: boolean }): string
  /**
   * Edge, optional: the project's lock file as the scan uses it (advice and locations), or null when
   * the project has none. Default: none.
   */
  readProjectLock?(projectDir: string): Promise<ProjectLock | null>
  /**
   * Edge, optional: what the ecosystem's package registry says about these versions (author, publisher,
   * description, links), cached on disk; `sbom --supplier registry`. Default: none (every supplier
   * comes from the manifests).
   */
  readRegistryMetadata?(
    packages: readonly RegistryPackage[],
    options: RegistryMetadataOptions,
  ): Promise<RegistryMetadata>
}

/**
 * What a project's lock file adds to a scan: where each package is written (SARIF locations), how a
 * name is spelled when the SBOM lost its letter case, and whether a fix is within the ranges the
 * dependents declare (an update without manifest edits picks it).
 */
export interface ProjectLock {
  /** the lock file, relative to the project */
  readonly file: string
  /**
   * 1-based line of a package's entry, or null: at the first of `installPaths` (the SBOM's install
   * paths, e.g. `node_modules/a/node_modules/b`) the lock file lists, else the top-level entry
   */
  lineOf(packageName: string, installPaths?: readonly string[]): number | null
  /** the one spelling of `name` (in another letter case) at `version`, or null when it cannot say */
  spelling(name: string, version: string): string | null
  /** true / false, or null when the declared ranges are unknown or not of this ecosystem's range syntax */
  fixWithinDeclared(
    fixed: string,
    component: { name: string; installPaths: readonly string[] },
  ): boolean | null
}
