/**
 * Read-only views over the inputs (CycloneDX SBOM, vulns.json, build.json, signatures.json) with the
 * shape checks the rules rely on. A malformed input is an InputError naming the file (exit 2).
 */
import { type ErrorCode, InputError } from '../errors.ts'
import { specVersionProblem } from '../util/input-shapes.ts'
import type { InputFile } from './types.ts'

export type Obj = Record<string, unknown>

export const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
export const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

export interface ComponentView {
  bomRef: string | undefined
  purl: string | undefined
  name: string | undefined
  version: string | undefined
  /** `purl`, else `name@version`, else the bom-ref: how the component is named in evidence */
  label: string
  dev: boolean
  root: boolean
  raw: Obj
}

export interface SbomView {
  file: InputFile
  raw: Obj
  specVersion: string | undefined
  root: ComponentView | undefined
  /** every component, nested ones flattened, without the root */
  components: ComponentView[]
  dependencies: Array<{ ref: string; dependsOn: string[] }> | undefined
}

function invalid(file: InputFile, code: ErrorCode, why: string): InputError {
  return new InputError(code, why, { file: file.file })
}

function toComponent(raw: Obj, root: boolean): ComponentView {
  const purl = str(raw.purl)
  const name = str(raw.name)
  const version = str(raw.version)
  const group = str(raw.group)
  const bomRef = str(raw['bom-ref'])
  const props = Array.isArray(raw.properties) ? raw.properties.filter(isObject) : []
  const devProp = props.some((p) => p.name === 'cdx:npm:package:development' && p.value === 'true')
  const display = name ? `${group ? `${group}/` : ''}${name}${version ? `@${version}` : ''}` : undefined
  return {
    bomRef,
    purl,
    name,
    version,
    label: purl ?? display ?? bomRef ?? '(unnamed component)',
    dev: devProp || raw.scope === 'excluded',
    root,
    raw,
  }
}

export function toSbomView(data: unknown, file: InputFile): SbomView {
  if (!isObject(data) || data.bomFormat !== 'CycloneDX')
    throw invalid(file, 'POLICY_SBOM_INVALID', 'not a CycloneDX JSON SBOM (bomFormat must be "CycloneDX")')
  const specProblem = specVersionProblem(data.specVersion)
  if (specProblem) throw invalid(file, 'POLICY_SBOM_INVALID', specProblem)
  const metadata = isObject(data.metadata) ? data.metadata : {}
  const root = isObject(metadata.component) ? toComponent(metadata.component, true) : undefined
  const components: ComponentView[] = []
  const walk = (list: unknown, where: string): void => {
    if (list === undefined) return
    if (!Array.isArray(list)) throw invalid(file, 'POLICY_SBOM_INVALID', `${where} must be an array`)
    list.forEach((c, i) => {
      if (!isObject(c)) throw invalid(file, 'POLICY_SBOM_INVALID', `${where}[${i}] must be an object`)
      components.push(toComponent(c, false))
      walk(c.components, `${where}[${i}].components`)
    })
  }
  walk(data.components, 'components')
  let dependencies: SbomView['dependencies']
  if (data.dependencies !== undefined) {
    if (!Array.isArray(data.dependencies))
      throw invalid(file, 'POLICY_SBOM_INVALID', 'dependencies must be an array')
    dependencies = data.dependencies.filter(isObject).map((d) => ({
      ref: String(d.ref ?? ''),
      dependsOn: Array.isArray(d.dependsOn)
        ? d.dependsOn.filter((x): x is string => typeof x === 'string')
        : [],
    }))
  }
  return { file, raw: data, specVersion: str(data.specVersion), root, components, dependencies }
}

export interface FindingView {
  id: string
  aliases: string[]
  purl: string | undefined
  name: string | undefined
  version: string | undefined
  severity: string
  score: number | null
  fixed: string | null
  direct: boolean
  dev: boolean
  summary: string | undefined
  suppressed: { reason?: string; until?: string; source?: string } | null
  /** the scan's reachability analysis proved the vulnerable code absent (`analysis.state: not_affected`) */
  notAffected: { justification: string; detail: string } | null
}

export interface VulnsView {
  file: InputFile
  complete: boolean
  unchecked: string[]
  sbomSha256: string | undefined
  findings: FindingView[]
}

export function toVulnsView(data: unknown, file: InputFile): VulnsView {
  if (!isObject(data)) throw invalid(file, 'POLICY_INPUT_INVALID', 'vulns.json must be a JSON object')
  if (data.schemaVersion !== 1)
    throw invalid(
      file,
      'POLICY_INPUT_INVALID',
      `unsupported schemaVersion ${JSON.stringify(data.schemaVersion)}`,
    )
  if (!Array.isArray(data.findings)) throw invalid(file, 'POLICY_INPUT_INVALID', 'findings must be an array')
  const findings = data.findings.map((f, i): FindingView => {
    if (!isObject(f) || !str(f.id))
      throw invalid(file, 'POLICY_INPUT_INVALID', `findings[${i}] must be an object with an id`)
    const s = f.suppressed
    return {
      id: f.id as string,
      aliases: Array.isArray(f.aliases) ? f.aliases.filter((a): a is string => typeof a === 'string') : [],
      purl: str(f.purl),
      name: str(f.name),
      version: str(f.version),
      severity: str(f.severity) ?? 'unknown',
      score: typeof f.score === 'number' ? f.score : null,
      fixed: str(f.fixed) ?? null,
      direct: f.direct === true,
      dev: f.dev === true,
      summary: str(f.summary),
      suppressed: isObject(s)
        ? {
            ...(str(s.reason) ? { reason: s.reason as string } : {}),
            ...(str(s.until) ? { until: s.until as string } : {}),
            ...(str(s.source) ? { source: s.source as string } : {}),
          }
        : null,
      notAffected:
        isObject(f.analysis) && f.analysis.state === 'not_affected'
          ? {
              justification: str(f.analysis.justification) ?? 'vulnerable_code_not_in_execute_path',
              detail: str(f.analysis.detail) ?? '',
            }
          : null,
    }
  })
  const sbom = isObject(data.sbom) ? data.sbom : {}
  return {
    file,
    complete: data.complete !== false,
    unchecked: Array.isArray(data.unchecked)
      ? data.unchecked.filter((u): u is string => typeof u === 'string')
      : [],
    sbomSha256: str(sbom.sha256),
    findings,
  }
}

/** build.json and signatures.json are used field by field; only their outer shape is checked here. */
export function toManifest(data: unknown, file: InputFile): Obj {
  if (!isObject(data)) throw invalid(file, 'POLICY_INPUT_INVALID', 'must be a JSON object')
  if (data.schemaVersion !== 1)
    throw invalid(
      file,
      'POLICY_INPUT_INVALID',
      `unsupported schemaVersion ${JSON.stringify(data.schemaVersion)}`,
    )
  return data
}
