/** `detbuild sbom`: project tree → CycloneDX SBOM in the workspace. */
import path from 'node:path'
import { defaultEcosystems, type EcosystemRegistry, type TreeSource } from '../ecosystems/index.ts'
import { InternalError } from '../errors.ts'
import { type AtomicFile, writeFilesAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { VERSION } from '../version.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import type { OmitType } from './model.ts'
import { selectPackages } from './select.ts'
import type { SpecVersion } from './spec.ts'
import { type ValidationOutcome, validateJson, validateXml } from './validate.ts'
import { writeJsonBom } from './write-json.ts'

export { OMIT_TYPES, type OmitType } from './model.ts'
export { SPEC_VERSIONS, type SpecVersion } from './spec.ts'
export { startJsonValidation, validateXml } from './validate.ts'

export type SbomFormat = 'json' | 'xml' | 'both'

/** Options of {@link runSbom} (`detbuild sbom`). */
export interface SbomOptions {
  cwd: string
  out: string
  from: TreeSource
  format: SbomFormat
  spec: SpecVersion
  omit: readonly OmitType[]
  workspaces: readonly string[]
  validate: boolean
  /** seconds since 1970, from SOURCE_DATE_EPOCH / git (resolved at the edge) */
  sourceDateEpoch: number
  log: Logger
  /** the ecosystems a project is detected among; default: every one detbuild supports */
  ecosystems?: EcosystemRegistry
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
  validation: { json: ValidationOutcome; xml?: ValidationOutcome }
  warnings: string[]
}

/** Builds the SBOM text without writing anything (used by `detbuild sbom` and `detbuild run`). */
export async function makeSbom(options: Omit<SbomOptions, 'out' | 'log'>) {
  // the project's ecosystem reads it; everything after the inventory is ecosystem-neutral
  const ecosystem = await (options.ecosystems ?? defaultEcosystems).detect(options.cwd)
  const inventory = await ecosystem.readInventory(options.cwd, { source: options.from })
  const selection = selectPackages(inventory, { omit: new Set(options.omit), workspaces: options.workspaces })
  const timestamp = new Date(options.sourceDateEpoch * 1000)
  const tool = { name: 'detbuild', version: VERSION }
  const root = { name: inventory.nodes.get(selection.root.key)!.name }
  if (options.format === 'json') {
    // JSON only: written directly, without loading the CycloneDX library (write-json.ts)
    const written = writeJsonBom(inventory, selection, {
      timestamp,
      tool,
      toPurl: ecosystem.toPurl,
      spec: options.spec,
    })
    return {
      inventory,
      serialized: { json: written.json, xml: undefined, serialNumber: written.serialNumber },
      componentCount: written.componentCount,
      dependencyEdges: written.dependencyEdges,
      timestamp,
      root: { ...root, ...written.root },
    }
  }
  // XML needs the library's model and XML serializer; the JSON comes from the same model
  const [{ toBom }, { serializeBom }] = await Promise.all([import('./to-bom.ts'), import('./serialize.ts')])
  const { bom, componentCount } = toBom(inventory, selection, { timestamp, tool, toPurl: ecosystem.toPurl })
  const serialized = serializeBom(bom, options.spec, true)
  const doc = JSON.parse(serialized.json) as { dependencies?: Array<{ dependsOn?: string[] }> }
  const dependencyEdges = (doc.dependencies ?? []).reduce((n, d) => n + (d.dependsOn?.length ?? 0), 0)
  const rootComponent = bom.metadata.component!
  return {
    inventory,
    serialized,
    componentCount,
    dependencyEdges,
    timestamp,
    root: { ...root, version: rootComponent.version ?? '', purl: String(rootComponent.purl ?? '') },
  }
}

/** Writes the project's CycloneDX SBOM (JSON and/or XML), schema-validated, into the workspace (`detbuild sbom`). */
export async function runSbom(options: SbomOptions): Promise<SbomResult> {
  const made = await makeSbom(options)
  const validation: SbomResult['validation'] = {
    json: { ok: 'skipped', reason: 'disabled with --no-validate' },
  }
  // the compiled schema is loaded only now, when the document is ready (nothing competes with the tree)
  if (options.validate) validation.json = await validateJson(made.serialized.json, options.spec)
  const { serialized } = made
  if (options.validate) {
    if (serialized.xml !== undefined) validation.xml = await validateXml(serialized.xml, options.spec)
    for (const [format, v] of Object.entries(validation)) {
      if (v && v.ok === false) {
        throw new InternalError(
          'SBOM_SCHEMA_INVALID',
          `the generated ${format.toUpperCase()} SBOM is not schema-valid: ${v.error}`,
        )
      }
      if (v && v.ok === 'skipped')
        options.log.warn(`${format.toUpperCase()} schema validation skipped: ${v.reason}`)
    }
  }
  for (const w of made.inventory.warnings) options.log.warn(w)

  const outputs: AtomicFile[] = []
  if (options.format !== 'xml')
    outputs.push({ file: path.join(options.out, WorkspaceFiles.sbomJson), data: serialized.json })
  if (serialized.xml !== undefined)
    outputs.push({ file: path.join(options.out, WorkspaceFiles.sbomXml), data: serialized.xml })
  // `--format both` is one SBOM in two encodings: both files land, or neither
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
  }
}
