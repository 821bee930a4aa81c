/**
 * One reader per workspace file type: every file `detbuild bundle` signs, and every file
 * `verify --evidence` relies on, is checked against its shape before it is trusted. detbuild's own files
 * against the JSON Schemas in schema/ (ajv, the same validators the workspace readers use), sigstore bundles through @sigstore/bundle, SBOMs through
 * the CycloneDX validators of the sbom step. Edge: the schema files are read once; the SBOM schema check
 * runs in a worker thread.
 */
import { bundleFromJSON } from '@sigstore/bundle'
import {
  checkSpdxDocument,
  SPEC_VERSIONS,
  type SpecVersion,
  startJsonValidation,
  validateXml,
} from '../sbom/index.ts'
import { BUNDLE_SUFFIX, PROVENANCE_BUNDLE, SIGNATURES_FILE } from '../sign/index.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { bundleShapeProblem } from '../verify/index.ts'
import { schemaProblem, WorkspaceFiles } from '../workspace/index.ts'
import { APPLIED_POLICY_DIR } from './types.ts'

/** What a workspace file is, by name. */
export type FileKind =
  | 'vulns'
  | 'policy-result'
  | 'build'
  | 'provenance'
  | 'repro-report'
  | 'signatures'
  | 'in-toto-statement'
  | 'sigstore-bundle'
  | 'sarif'
  | 'cyclonedx-json'
  | 'cyclonedx-xml'
  | 'spdx-json'
  | 'spdx3-jsonld'
  | 'text'
  | 'opaque'

/** The kind of an archive/workspace path; artifacts and the applied policy file are opaque here. */
export function kindOf(name: string): FileKind {
  switch (name) {
    case WorkspaceFiles.vulns:
      return 'vulns'
    case WorkspaceFiles.policy:
      return 'policy-result'
    case WorkspaceFiles.buildManifest:
      return 'build'
    case WorkspaceFiles.provenance:
      return 'provenance'
    case WorkspaceFiles.reproReport:
      return 'repro-report'
    case SIGNATURES_FILE:
      return 'signatures'
    case WorkspaceFiles.vulnsStatement:
      return 'in-toto-statement'
    case WorkspaceFiles.vulnsSarif:
      return 'sarif'
    case PROVENANCE_BUNDLE:
      return 'sigstore-bundle'
  }
  if (name.startsWith(`${APPLIED_POLICY_DIR}/`)) return 'opaque'
  if (name.endsWith(BUNDLE_SUFFIX)) return 'sigstore-bundle'
  if (name.startsWith(`${WorkspaceFiles.artifactsDir}/`)) return 'opaque'
  if (name.endsWith('.cdx.json')) return 'cyclonedx-json'
  if (name.endsWith('.cdx.xml')) return 'cyclonedx-xml'
  if (name.endsWith('.spdx.json')) return 'spdx-json'
  if (name.endsWith('.spdx3.jsonld')) return 'spdx3-jsonld'
  if (name.endsWith('.md') || name.endsWith('.log')) return 'text'
  return 'opaque'
}

export interface FileProblem {
  file: string
  message: string
}

export interface ValidationResult {
  /** files that are not what their name says, sorted by file */
  problems: FileProblem[]
  /** files whose check could not run (the CycloneDX validator did not start): not valid, not invalid */
  unchecked: FileProblem[]
}

export interface ValidateOptions {
  /** also validate CycloneDX and SPDX SBOMs (slow: compiles the CycloneDX schema) */
  sboms: boolean
}

function parse(data: Uint8Array): { value: unknown } | { error: string } {
  const text = Buffer.from(data).toString('utf8')
  if (text.includes('\uFFFD')) return { error: 'not UTF-8 text' }
  try {
    return { value: parseJsonText(text) }
  } catch (e) {
    return { error: `not JSON (${(e as Error).message.replace(/\s*in JSON at position.*$/s, '')})` }
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Checks every file of the map by its kind. Pure apart from the schema files and the SBOM validator
 * worker; the problems name the file and the first JSON path that is wrong.
 */
export async function validateFiles(
  files: ReadonlyMap<string, Uint8Array>,
  options: ValidateOptions,
): Promise<ValidationResult> {
  const problems: FileProblem[] = []
  const unchecked: FileProblem[] = []
  const cdx = new Map<SpecVersion, ReturnType<typeof startJsonValidation>>()
  // an SPDX document detbuild wrote is checked against its official schema (an older SPDX 2 version a
  // user put into the workspace keeps the shape check above)
  const checkSpdx = async (file: string, data: Uint8Array, version: '2.3' | '3.0.1' | null) => {
    if (version === null) return
    const outcome = await checkSpdxDocument(Buffer.from(data).toString('utf8'), version)
    if (outcome.ok === false)
      problems.push({ file, message: `not a valid SPDX ${version} document: ${outcome.error}` })
    else if (outcome.ok === 'skipped') unchecked.push({ file, message: outcome.reason })
  }
  try {
    for (const [file, data] of [...files].sort((a, b) => compareCodePoint(a[0], b[0]))) {
      const kind = kindOf(file)
      const problem = (message: string) => problems.push({ file, message })
      if (kind === 'opaque') continue
      if (kind === 'text') {
        const text = Buffer.from(data).toString('utf8')
        if (text.includes('\uFFFD') || text.includes('\u0000')) problem('not UTF-8 text')
        continue
      }
      if (kind === 'cyclonedx-xml') {
        if (!options.sboms) continue
        const text = Buffer.from(data).toString('utf8')
        const version = /<bom[^>]*xmlns="http:\/\/cyclonedx\.org\/schema\/bom\/(\d\.\d)"/.exec(text)?.[1]
        if (!version || !(SPEC_VERSIONS as readonly string[]).includes(version)) {
          problem(`not a CycloneDX ${SPEC_VERSIONS.join('/')} XML document`)
          continue
        }
        const outcome = await validateXml(text, version as SpecVersion)
        if (outcome.ok === false) problem(`not a valid CycloneDX ${version} document: ${outcome.error}`)
        else if (outcome.ok === 'skipped') unchecked.push({ file, message: outcome.reason })
        continue
      }
      const parsed = parse(data)
      if ('error' in parsed) {
        problem(parsed.error)
        continue
      }
      const value = parsed.value
      switch (kind) {
        case 'vulns':
        case 'policy-result':
        case 'build':
        case 'provenance':
        case 'repro-report':
        case 'signatures':
        case 'in-toto-statement': {
          // the schemas the workspace readers check against: a file bundle packs, every step reads
          const found = schemaProblem(kind, value)
          if (found) problem(`not a valid ${kind} document: ${found.pointer || '/'} ${found.message}`)
          break
        }
        case 'sigstore-bundle':
          try {
            if (!isObject(value)) throw new Error('not a JSON object')
            const shape = bundleShapeProblem(value)
            if (shape) throw new Error(shape)
            bundleFromJSON(value)
          } catch (e) {
            problem(`not a sigstore bundle: ${(e as Error).message}`)
          }
          break
        case 'sarif':
          if (!isObject(value) || value.version !== '2.1.0' || !Array.isArray(value.runs))
            problem('not a SARIF 2.1.0 log (version "2.1.0" and runs are required)')
          break
        case 'spdx-json':
          if (
            !isObject(value) ||
            typeof value.spdxVersion !== 'string' ||
            !value.spdxVersion.startsWith('SPDX-') ||
            value.SPDXID !== 'SPDXRef-DOCUMENT'
          )
            problem('not an SPDX JSON document (spdxVersion and SPDXID "SPDXRef-DOCUMENT" are required)')
          else if (options.sboms) await checkSpdx(file, data, value.spdxVersion === 'SPDX-2.3' ? '2.3' : null)
          break
        case 'spdx3-jsonld':
          if (!isObject(value) || value['@context'] !== 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld')
            problem(
              'not an SPDX 3.0.1 JSON-LD document (@context https://spdx.org/rdf/3.0.1/spdx-context.jsonld)',
            )
          else if (options.sboms) await checkSpdx(file, data, '3.0.1')
          break
        case 'cyclonedx-json': {
          const version = isObject(value) && value.bomFormat === 'CycloneDX' ? value.specVersion : undefined
          if (typeof version !== 'string' || !(SPEC_VERSIONS as readonly string[]).includes(version)) {
            problem(`not a CycloneDX ${SPEC_VERSIONS.join('/')} JSON document`)
            break
          }
          if (!options.sboms) break
          let validation = cdx.get(version as SpecVersion)
          if (!validation) {
            validation = startJsonValidation(version as SpecVersion)
            cdx.set(version as SpecVersion, validation)
          }
          const outcome = await validation.validate(Buffer.from(data).toString('utf8'))
          if (outcome.ok === false) problem(`not a valid CycloneDX ${version} document: ${outcome.error}`)
          else if (outcome.ok === 'skipped') unchecked.push({ file, message: outcome.reason })
          break
        }
      }
    }
  } finally {
    await Promise.all([...cdx.values()].map((v) => v.close()))
  }
  return { problems, unchecked }
}
