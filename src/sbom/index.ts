/** `detbuild sbom`: project tree → CycloneDX SBOM in the workspace. */

import { rm } from 'node:fs/promises'
import path from 'node:path'
import {
  defaultEcosystems,
  type Ecosystem,
  type EcosystemRegistry,
  type Inventory,
  type InventoryNode,
  type RegistryMetadata,
  type RegistryPackage,
  type TreeSource,
} from '../ecosystems/index.ts'
import { InputError, InternalError } from '../errors.ts'
import { type ReadSbom, readSbom } from '../sbom-read/index.ts'
import { type AtomicFile, stageFile, writeFilesAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { compareCodePoint } from '../util/sort.ts'
import { VERSION } from '../version.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import { lifecycleOf, type SbomAuthor } from './completeness.ts'
import { projectEcosystems, readProjectInventory } from './mixed.ts'
import type { OmitType } from './model.ts'
import { selectPackages } from './select.ts'
import type { WrittenSpdx } from './spdx2.ts'
import type { SpecVersion } from './spec.ts'
import { registryKey, type SupplierSource, toSupplierPlan, withRegistryManifests } from './supplier.ts'
import { type ValidationOutcome, validateJson, validateParsed, validateXml } from './validate.ts'
import type { SpdxVersion } from './validate-spdx.ts'
import {
  asJsonData,
  type BomDocument,
  buildBomDocument,
  serializeBomDocument,
  streamBomDocument,
  type WrittenJsonBom,
} from './write-json.ts'

export { type ReadSbom, readSbomText, type SbomInputFormat } from '../sbom-read/index.ts'

/**
 * Any SBOM detbuild reads — CycloneDX JSON or XML (the XML checked against its official XSD first), SPDX
 * 2.3 JSON, SPDX 3.0.1 JSON-LD — in CycloneDX JSON shape; a problem is exit 2 (SCAN_SBOM_INVALID, SPDX_INVALID).
 */
export function readSbomFile(text: string, file: string): Promise<ReadSbom> {
  return readSbom(text, file, 'SCAN_SBOM_INVALID', validateXml)
}
export { parseFormats } from './formats.ts'
export { OMIT_TYPES, type OmitType } from './model.ts'
export { SPEC_VERSIONS, type SpecVersion } from './spec.ts'
export type { SupplierSource } from './supplier.ts'
export { startJsonValidation, validateXml } from './validate.ts'

/** Checks an SPDX 2.3 / 3.0.1 JSON document against its official schema (compiled on first use). */
export async function checkSpdxDocument(json: string, version: SpdxVersion) {
  const { validateSpdx } = await import('./validate-spdx.ts')
  return validateSpdx(json, version)
}
export type { SpdxVersion } from './validate-spdx.ts'

/** The registry metadata cache's folder inside the cache root (`sbom --supplier registry`). */
export const REGISTRY_METADATA_FOLDER = 'registry-metadata'

/** The CycloneDX encodings written (`none`: SPDX only, see `spdx`) */
export type SbomFormat = 'json' | 'xml' | 'both' | 'none'

/** Options of {@link runSbom} (`detbuild sbom`). */
export interface SbomOptions {
  cwd: string
  out: string
  from: TreeSource
  format: SbomFormat
  spec: SpecVersion
  /** SPDX documents to write too, from the same inventory (`--format spdx-json,spdx3-jsonld`) */
  spdx?: readonly SpdxVersion[]
  omit: readonly OmitType[]
  workspaces: readonly string[]
  validate: boolean
  /** seconds since 1970, from SOURCE_DATE_EPOCH / git (resolved at the edge) */
  sourceDateEpoch: number
  log: Logger
  /**
   * executables to describe instead of the project's manifests (`--binary`, relative to `cwd` and inside
   * it): their embedded build info (Go), each file recorded with its sha256
   */
  binaries?: readonly string[]
  /** the ecosystems a project is detected among; default: every one detbuild supports */
  ecosystems?: EcosystemRegistry
  /**
   * read the project as this ecosystem only (`--ecosystem npm|go`); default: every ecosystem that
   * detects the folder, in one SBOM (a Go service with an npm front end)
   */
  ecosystem?: string
  /** Go: take the module graph from the go command (`go list -m -json all`, offline) — `--go-list` */
  goList?: boolean
  /**
   * where suppliers come from: the manifests the tree gives (`manifest`, the default), those and the
   * package registry's metadata (`registry`: needs `registryCacheDir`), or nowhere (`none`: no supplier,
   * publisher or `detbuild:supplier` property, as before)
   */
  supplier?: SupplierSource
  /** `--supplier registry`: the registry metadata cache (`<cache root>/registry-metadata`) */
  registryCacheDir?: string
  /** `--supplier registry --offline`: the cache only, no network */
  offline?: boolean
  /** `--supplier registry`: the environment the step may see (registry settings, HOME, tokens) */
  env?: Readonly<Record<string, string | undefined>>
  /** `--author`: the SBOM's author (metadata.authors), for the SBOM profiles (docs/profiles.md) */
  author?: SbomAuthor
}

/** How the SBOM's suppliers were found (`--json`'s `supplier`). */
export interface SupplierSummary {
  source: SupplierSource
  /** components (the root included) that name a supplier, and those marked `unknown` */
  known: number
  unknown: number
  /** with `--supplier registry`: the registry (no credentials), entries fetched now and read from the cache, versions without data */
  registry?: {
    url: string
    fetched: number
    cached: number
    missing: number
    offline: boolean
    /** one line per version without registry data (also warned on stderr) */
    gaps: readonly string[]
  }
}

/** The SBOM files {@link runSbom} wrote, with counts, the serial number and the schema validation outcome. */
export interface SbomResult {
  files: string[]
  root: { name: string; version: string; purl: string }
  components: number
  dependencyEdges: number
  serialNumber: string
  timestamp: string
  specVersion: SpecVersion
  validation: {
    json: ValidationOutcome
    xml?: ValidationOutcome
    'spdx-2.3'?: ValidationOutcome
    'spdx-3.0.1'?: ValidationOutcome
  }
  warnings: string[]
  supplier: SupplierSummary
}

/** Builds the SBOM text without writing anything (used by `detbuild sbom` and `detbuild run`). */
export async function makeSbom(
  options: Omit<SbomOptions, 'out' | 'log'>,
  hooks: {
    /** writes the directly written JSON where the caller wants it (else it is kept in memory) */
    streamJson?: (built: BomDocument) => Promise<Omit<WrittenJsonBom, 'json' | 'bytes'>>
  } = {},
) {
  // the project's ecosystems read it (all that detect it, or the one --ecosystem names; the first
  // describes the project); everything after the inventory is ecosystem-neutral
  const registryOfEcosystems = options.ecosystems ?? defaultEcosystems
  let ecosystem: Ecosystem
  let tree: Inventory
  if (options.binaries !== undefined && options.binaries.length > 0) {
    // `--binary`: the executables describe themselves (an ecosystem that reads executables: Go)
    const reader = registryOfEcosystems.ecosystems.find(
      (e) =>
        e.readExecutables !== undefined && (options.ecosystem === undefined || e.id === options.ecosystem),
    )
    if (!reader?.readExecutables)
      throw new InputError(
        'SBOM_USAGE',
        `--binary: ${options.ecosystem === undefined ? 'no ecosystem' : `the ${options.ecosystem} ecosystem`} reads executables`,
      )
    if (options.from !== 'lockfile' || options.goList)
      throw new InputError('SBOM_USAGE', '--binary cannot be combined with --from installed or --go-list')
    ecosystem = reader
    tree = await reader.readExecutables(options.cwd, options.binaries)
  } else {
    const found = await projectEcosystems(registryOfEcosystems, options.cwd, options.ecosystem)
    ecosystem = found[0]!
    tree = await readProjectInventory(found, options.cwd, {
      source: options.from,
      env: options.env ?? {},
      ...(options.goList ? { goList: true } : {}),
    })
  }
  const selection = selectPackages(tree, { omit: new Set(options.omit), workspaces: options.workspaces })
  const source = options.supplier ?? 'manifest'
  let registry: RegistryMetadata | undefined
  if (source === 'registry') {
    if (!ecosystem.readRegistryMetadata)
      throw new InputError('SBOM_USAGE', `--supplier registry: detbuild reads no ${ecosystem.id} registry`)
    if (options.registryCacheDir === undefined)
      throw new InternalError(
        'INTERNAL_ERROR',
        'makeSbom: --supplier registry without a registry cache folder',
      )
    const packages = new Map<string, RegistryPackage>()
    for (const key of selection.included) {
      const n = tree.nodes.get(key)!
      // the registry's own packages only (not a Go module of a mixed project)
      if (n.kind === 'registry' && n.version && (n.ecosystem ?? ecosystem.id) === ecosystem.id)
        packages.set(registryKey(n), { name: n.name, version: n.version, integrity: n.integrity })
    }
    registry = await ecosystem.readRegistryMetadata(
      [...packages.values()].sort((a, b) => compareCodePoint(registryKey(a), registryKey(b))),
      {
        projectDir: options.cwd,
        cacheDir: options.registryCacheDir,
        offline: options.offline === true,
        env: options.env ?? {},
      },
    )
  }
  const suppliers = source === 'none' ? undefined : toSupplierPlan(tree, registry)
  const inventory = registry ? withRegistryManifests(tree, registry) : tree
  const supplier = summarize(source, suppliers, selection, inventory, ecosystem.toPurl, registry, options)
  const timestamp = new Date(options.sourceDateEpoch * 1000)
  const tool = { name: 'detbuild', version: VERSION }
  const lifecycle = lifecycleOf(options.from, options.binaries !== undefined && options.binaries.length > 0)
  const root = { name: inventory.nodes.get(selection.root.key)!.name }
  // the resolved inventory every format is written from (write-json.ts): CycloneDX JSON directly, SPDX
  // from its facts (spdx-facts.ts); XML through the CycloneDX library's model (to-bom.ts)
  const needDocument =
    options.format === 'json' || options.format === 'none' || (options.spdx ?? []).length > 0
  const built = needDocument
    ? buildBomDocument(inventory, selection, {
        timestamp,
        tool,
        toPurl: ecosystem.toPurl,
        spec: options.spec,
        suppliers,
        lifecycle,
        author: options.author,
      })
    : undefined
  const spdx =
    built && (options.spdx ?? []).length > 0 ? await writeSpdxDocuments(built.doc, options.spdx!) : {}
  if (built && (options.format === 'json' || options.format === 'none')) {
    // JSON only: written directly, without loading the CycloneDX library (write-json.ts): streamed to
    // where the caller keeps it (runSbom: a temporary file), else kept in memory
    const streamed = hooks.streamJson ? await hooks.streamJson(built) : undefined
    const written = streamed ?? serializeBomDocument(built)
    return {
      // the object the text was written from, made exactly the JSON data of that text, with its serial:
      // what the schema check reads (runSbom)
      document: jsonDocument(built.doc, written.serialNumber),
      spdx,
      inventory,
      supplier,
      registryGaps: registry?.gaps ?? [],
      serialized: {
        get json(): string {
          if (streamed) throw new Error('the SBOM JSON was streamed to a file, not kept')
          return (written as WrittenJsonBom).json
        },
        jsonBytes: streamed ? undefined : (written as WrittenJsonBom).bytes,
        xml: undefined,
        serialNumber: written.serialNumber,
      },
      componentCount: written.componentCount,
      dependencyEdges: written.dependencyEdges,
      timestamp,
      root: { ...root, ...written.root },
    }
  }
  // XML needs the library's model and XML serializer; the JSON comes from the same model
  const [{ toBom }, { serializeBom }] = await Promise.all([import('./to-bom.ts'), import('./serialize.ts')])
  const { bom, componentCount, compositions } = toBom(inventory, selection, {
    timestamp,
    tool,
    toPurl: ecosystem.toPurl,
    suppliers,
    lifecycle,
    author: options.author,
  })
  const serialized = serializeBom(bom, options.spec, true, compositions)
  const doc = JSON.parse(serialized.json) as { dependencies?: Array<{ dependsOn?: string[] }> }
  const dependencyEdges = (doc.dependencies ?? []).reduce((n, d) => n + (d.dependsOn?.length ?? 0), 0)
  const rootComponent = bom.metadata.component!
  return {
    document: undefined,
    spdx,
    inventory,
    supplier,
    registryGaps: registry?.gaps ?? [],
    serialized,
    componentCount,
    dependencyEdges,
    timestamp,
    root: { ...root, version: rootComponent.version ?? '', purl: String(rootComponent.purl ?? '') },
  }
}

/** The JSON data of a written document object (asJsonData: an object that is not is a detbuild bug). */
function jsonDocument(doc: Record<string, unknown>, serialNumber: string): Record<string, unknown> {
  try {
    asJsonData(doc)
  } catch (e) {
    throw new InternalError('INTERNAL_ERROR', `the SBOM document is not JSON data: ${(e as Error).message}`)
  }
  return { ...doc, serialNumber }
}

/** The SPDX documents of the resolved inventory (only the writers asked for are loaded). */
async function writeSpdxDocuments(
  doc: Record<string, unknown>,
  versions: readonly SpdxVersion[],
): Promise<Partial<Record<SpdxVersion, WrittenSpdx>>> {
  const { toSpdxFacts } = await import('./spdx-facts.ts')
  const facts = toSpdxFacts(doc)
  const out: Partial<Record<SpdxVersion, WrittenSpdx>> = {}
  for (const v of versions)
    out[v] =
      v === '2.3'
        ? (await import('./spdx2.ts')).writeSpdx2(facts)
        : (await import('./spdx3.ts')).writeSpdx3(facts)
  return out
}

/** Writes the project's CycloneDX SBOM (JSON and/or XML), schema-validated, into the workspace (`detbuild sbom`). */
export async function runSbom(options: SbomOptions): Promise<SbomResult> {
  const writesJson = options.format === 'json' || options.format === 'both'
  const jsonFile = path.join(options.out, WorkspaceFiles.sbomJson)
  // the directly written JSON streams into a temporary file beside its place, renamed there with the
  // other outputs once every check passed; removed if one fails
  let staged: string | undefined
  try {
    const made = await makeSbom(
      options,
      writesJson
        ? {
            streamJson: async (built) => {
              const { tmp, result } = await stageFile(jsonFile, (write) => streamBomDocument(built, write))
              staged = tmp
              return result
            },
          }
        : {},
    )
    return await checkAndWrite(options, made, writesJson ? { file: jsonFile, staged } : undefined)
  } finally {
    // renamed into place, or not wanted any more
    if (staged !== undefined) await rm(staged, { force: true })
  }
}

/** Checks the SBOM's documents against their schemas and writes them all, or none (runSbom). */
async function checkAndWrite(
  options: SbomOptions,
  made: Awaited<ReturnType<typeof makeSbom>>,
  json: { file: string; staged: string | undefined } | undefined,
): Promise<SbomResult> {
  const validation: SbomResult['validation'] = {
    json: { ok: 'skipped', reason: 'disabled with --no-validate' },
  }
  // `--format xml` validates the JSON of the same document too, as it always has; SPDX only: no CycloneDX
  const cyclonedx = options.format !== 'none'
  if (!cyclonedx) validation.json = { ok: 'skipped', reason: 'no CycloneDX written' }
  // the direct writer's text is JSON.stringify of a document object, made exactly the JSON data of that
  // text (asJsonData): that object is checked rather than a second copy parsed from the text, which took
  // a quarter of a 20k-entry SBOM's time. The library's JSON (with XML) is parsed from its text.
  if (options.validate && cyclonedx)
    validation.json = made.document
      ? await validateParsed(made.document, options.spec)
      : await validateJson(made.serialized.json, options.spec)
  const { serialized } = made
  if (options.validate) {
    if (serialized.xml !== undefined) validation.xml = await validateXml(serialized.xml, options.spec)
    const spdxWritten = Object.entries(made.spdx) as Array<[SpdxVersion, WrittenSpdx]>
    if (spdxWritten.length > 0) {
      const { validateSpdx } = await import('./validate-spdx.ts')
      for (const [v, written] of spdxWritten) validation[`spdx-${v}`] = await validateSpdx(written.json, v)
    }
    for (const [format, v] of Object.entries(validation)) {
      if (!cyclonedx && format === 'json') continue
      const label = format.startsWith('spdx-')
        ? `SPDX ${format.slice(5)}`
        : `CycloneDX ${format.toUpperCase()}`
      if (v && v.ok === false) {
        throw new InternalError(
          format.startsWith('spdx-') ? 'SPDX_SCHEMA_INVALID' : 'SBOM_SCHEMA_INVALID',
          `the generated ${label} SBOM is not schema-valid: ${v.error}`,
        )
      }
      if (v && v.ok === 'skipped') options.log.warn(`${label} schema validation skipped: ${v.reason}`)
    }
  }
  for (const w of made.inventory.warnings) options.log.warn(w)
  // a cold cache offline leaves every version without data: the first few, then a count
  const gaps = made.registryGaps
  for (const g of gaps.slice(0, GAPS_SHOWN)) options.log.warn(g)
  if (gaps.length > GAPS_SHOWN)
    options.log.warn(`${gaps.length - GAPS_SHOWN} more package versions have no registry metadata`)
  if (made.supplier.unknown > 0)
    options.log.info(
      `${made.supplier.unknown} of ${made.supplier.known + made.supplier.unknown} components name no supplier (marked detbuild:supplier=unknown)`,
    )

  const outputs: AtomicFile[] = []
  if (json)
    outputs.push(
      json.staged !== undefined
        ? { file: json.file, staged: json.staged }
        : { file: json.file, data: ('jsonBytes' in serialized && serialized.jsonBytes) || serialized.json },
    )
  if (serialized.xml !== undefined)
    outputs.push({ file: path.join(options.out, WorkspaceFiles.sbomXml), data: serialized.xml })
  if (made.spdx['2.3'])
    outputs.push({ file: path.join(options.out, WorkspaceFiles.sbomSpdx), data: made.spdx['2.3'].json })
  if (made.spdx['3.0.1'])
    outputs.push({ file: path.join(options.out, WorkspaceFiles.sbomSpdx3), data: made.spdx['3.0.1'].json })
  // several formats are one SBOM in several encodings: all files land, or none
  await writeFilesAtomic(outputs)
  const files = outputs.map((o) => o.file)
  return {
    files,
    root: made.root,
    components: made.componentCount,
    dependencyEdges: made.dependencyEdges,
    serialNumber: serialized.serialNumber,
    timestamp: made.timestamp.toISOString(),
    specVersion: options.spec,
    validation,
    warnings: made.inventory.warnings,
    supplier: made.supplier,
  }
}

/** Registry gaps shown one by one before a count. */
const GAPS_SHOWN = 10

/** Counts the components (root included, one per purl) with a known and an unknown supplier. */
function summarize(
  source: SupplierSource,
  suppliers: ReturnType<typeof toSupplierPlan> | undefined,
  selection: ReturnType<typeof selectPackages>,
  inventory: { nodes: ReadonlyMap<string, InventoryNode> },
  toPurl: (n: InventoryNode) => string,
  registry: RegistryMetadata | undefined,
  options: Pick<SbomOptions, 'offline'>,
): SupplierSummary {
  const byPurl = new Map<string, boolean>()
  const rootPurl = selection.root.purl ?? toPurl({ ...selection.root, kind: 'registry' })
  byPurl.set(rootPurl, suppliers?.byKey.get(selection.root.key)?.source !== 'unknown')
  for (const key of selection.included) {
    const n = inventory.nodes.get(key)!
    const purl = n.purl ?? toPurl(n)
    if (!byPurl.has(purl)) byPurl.set(purl, suppliers?.byKey.get(key)?.source !== 'unknown')
  }
  const known = suppliers ? [...byPurl.values()].filter(Boolean).length : 0
  const out: SupplierSummary = { source, known, unknown: suppliers ? byPurl.size - known : 0 }
  if (registry)
    out.registry = {
      url: registry.registry,
      fetched: registry.fetched,
      cached: registry.cached,
      missing: registry.gaps.length,
      offline: options.offline === true,
      gaps: registry.gaps,
    }
  return out
}
