/**
 * Pure: a CycloneDX 1.6 VEX from the policy's exceptions, for Dependency-Track. An exception in force
 * (`policy.json` `exceptions[]` with status `active`) that names a vulnerability becomes a `not_affected`
 * analysis for every finding of `vulns.json` it covers — the same id-or-alias and purl-pattern match the
 * policy applied — on exactly the SBOM components those findings are about.
 *
 * Shaped for Dependency-Track's importer (CycloneDXVexImporter): each vulnerability carries an `id` and a
 * `source.name` it knows (NVD for CVE ids, GITHUB for GHSA ids, OSV otherwise; one entry per id and alias,
 * so whichever source the server matched is covered), an `analysis`, and `affects[].ref`s that are
 * `bom-ref`s of components listed in this document (the server matches them to the project's components
 * by their identity: purl, group, name, version). The free-text justification goes to `analysis.detail`;
 * `analysis.justification` is set only when it is one of CycloneDX's own words.
 */
import { InputError } from '../errors.ts'
import { matchesPurl } from '../policy/index.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { PolicyResultDocument, VulnsDocument } from '../workspace/index.ts'

/** CycloneDX 1.6 `impactAnalysisJustification`. */
const CDX_JUSTIFICATIONS = new Set([
  'code_not_present',
  'code_not_reachable',
  'requires_configuration',
  'requires_dependency',
  'requires_environment',
  'protected_by_compiler',
  'protected_at_runtime',
  'protected_at_perimeter',
  'protected_by_mitigating_control',
])

export interface VexInputs {
  /** the parsed SBOM being uploaded, and its sha256 */
  sbom: unknown
  sbomSha256: string
  /** the workspace's names for the files, for messages */
  files: { sbom: string; policy: string; vulns: string }
  policy: PolicyResultDocument
  vulns: VulnsDocument
  sourceDateEpoch: number
}

export interface VexResult {
  /** null when no exception in force covers a finding: nothing to say */
  document: object | null
  /** vulnerability entries (one per id or alias and exception) */
  statements: number
  /** exceptions or findings set aside, and why */
  notes: string[]
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** The Dependency-Track vulnerability source of an id (its `Vulnerability.Source` names). */
export function dtrackSource(id: string): 'NVD' | 'GITHUB' | 'OSV' {
  if (/^CVE-\d{4}-\d+$/i.test(id)) return 'NVD'
  if (/^GHSA(-[23456789cfghjmpqrvwx]{4}){3}$/i.test(id)) return 'GITHUB'
  return 'OSV'
}

/** A component as the VEX lists it: the identity fields the server matches on. */
function componentIdentity(c: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of ['type', 'bom-ref', 'group', 'name', 'version', 'purl']) {
    const v = str(c[key])
    if (v !== undefined) out[key] = v
  }
  out.type ??= 'library'
  return out
}

/** Every component of the SBOM (nested ones included), by bom-ref and by purl. */
function indexComponents(sbom: unknown): {
  byRef: Map<string, Record<string, unknown>>
  byPurl: Map<string, Record<string, unknown>>
} {
  const byRef = new Map<string, Record<string, unknown>>()
  const byPurl = new Map<string, Record<string, unknown>>()
  const walk = (list: unknown): void => {
    if (!Array.isArray(list)) return
    for (const c of list) {
      if (!isObject(c)) continue
      const ref = str(c['bom-ref'])
      const purl = str(c.purl)
      if (ref !== undefined && !byRef.has(ref)) byRef.set(ref, c)
      if (purl !== undefined && !byPurl.has(purl)) byPurl.set(purl, c)
      walk(c.components)
    }
  }
  if (isObject(sbom)) walk(sbom.components)
  return { byRef, byPurl }
}

interface ActiveException {
  ref: string
  vulnerability: string
  purls: string[]
  justification: string
  approvedBy?: string
  expires?: string
}

/** The exceptions of policy.json that a VEX can state: in force, about a vulnerability. */
function activeVulnerabilityExceptions(policy: PolicyResultDocument): ActiveException[] {
  const out: ActiveException[] = []
  for (const e of policy.exceptions) {
    if (!isObject(e) || e.status !== 'active') continue
    const vulnerability = str(e.vulnerability)
    const ref = str(e.ref)
    const justification = str(e.justification)
    if (!vulnerability || !ref || !justification) continue
    // an exception scoped to another kind of rule does not speak about exploitability
    const rule = str(e.rule)
    if (rule !== undefined && rule !== 'vulnerabilities' && !rule.startsWith('vulnerabilities.')) continue
    const purls = Array.isArray(e.purls) ? e.purls.filter((p): p is string => typeof p === 'string') : []
    const ex: ActiveException = { ref, vulnerability, purls, justification }
    const approvedBy = str(e.approvedBy)
    const expires = str(e.expires)
    if (approvedBy) ex.approvedBy = approvedBy
    if (expires) ex.expires = expires
    out.push(ex)
  }
  return out
}

function detail(ex: ActiveException): string {
  const extra = [
    `detbuild policy exception ${ex.ref}`,
    ...(ex.approvedBy ? [`approved by ${ex.approvedBy}`] : []),
    ...(ex.expires ? [`expires ${ex.expires}`] : []),
  ]
  return `${ex.justification} (${extra.join(', ')})`
}

/**
 * The VEX for the uploaded SBOM. policy.json and vulns.json must have been made from that very SBOM
 * (their recorded sha256): analyses about another SBOM are refused (UPLOAD_VEX_STALE, exit 2), never sent.
 */
export function toVex(i: VexInputs): VexResult {
  for (const [file, sha] of [
    [i.files.policy, i.policy.inputs.sbom.sha256],
    [i.files.vulns, i.vulns.sbom.sha256],
  ] as const)
    if (sha !== i.sbomSha256)
      throw new InputError(
        'UPLOAD_VEX_STALE',
        `${file} was made from another SBOM than ${i.files.sbom} (sha256 ${sha.slice(0, 12)}…, not ${i.sbomSha256.slice(0, 12)}…)`,
        { file, details: { expected: i.sbomSha256, found: sha } },
      )
  const notes: string[] = []
  const { byRef, byPurl } = indexComponents(i.sbom)
  const components = new Map<string, Record<string, string>>()
  // (id, exception) → the analysis and the bom-refs it affects
  const entries = new Map<string, { id: string; ex: ActiveException; refs: Set<string> }>()
  for (const ex of activeVulnerabilityExceptions(i.policy)) {
    const want = ex.vulnerability.toUpperCase()
    let covered = 0
    for (const f of i.vulns.findings) {
      const ids = [f.id, ...(Array.isArray(f.aliases) ? f.aliases : [])]
      if (!ids.some((id) => id.toUpperCase() === want)) continue
      if (ex.purls.length > 0 && !ex.purls.some((p) => matchesPurl(p, f.purl))) continue
      const c = (f.bomRef !== undefined ? byRef.get(f.bomRef) : undefined) ?? byPurl.get(f.purl)
      const identity = c ? componentIdentity(c) : undefined
      const ref = identity?.['bom-ref']
      if (!identity || ref === undefined) {
        notes.push(`${ex.ref}: ${f.id} in ${f.purl} names no component of ${i.files.sbom}; not stated`)
        continue
      }
      covered++
      components.set(ref, identity)
      for (const id of new Set(ids)) {
        const key = `${id}\u0000${ex.ref}`
        const entry = entries.get(key) ?? { id, ex, refs: new Set<string>() }
        entry.refs.add(ref)
        entries.set(key, entry)
      }
    }
    if (covered === 0)
      notes.push(`${ex.ref}: no finding of ${i.files.vulns} is ${ex.vulnerability}; not stated`)
  }
  if (entries.size === 0) return { document: null, statements: 0, notes }

  const vulnerabilities = [...entries.values()]
    .map((e) => {
      const justification = e.ex.justification.trim()
      return {
        id: e.id,
        source: { name: dtrackSource(e.id) },
        analysis: {
          state: 'not_affected',
          ...(CDX_JUSTIFICATIONS.has(justification) ? { justification } : {}),
          detail: detail(e.ex),
        },
        affects: [...e.refs].sort(compareCodePoint).map((ref) => ({ ref })),
      }
    })
    .sort((a, b) => compareCodePoint(a.id, b.id) || compareCodePoint(a.analysis.detail, b.analysis.detail))
  const root = isObject(i.sbom) && isObject(i.sbom.metadata) ? i.sbom.metadata.component : undefined
  const document = {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      timestamp: new Date(i.sourceDateEpoch * 1000).toISOString().replace('.000Z', 'Z'),
      ...(isObject(root) ? { component: componentIdentity(root) } : {}),
    },
    components: [...components.values()].sort((a, b) => compareCodePoint(a['bom-ref']!, b['bom-ref']!)),
    vulnerabilities,
  }
  return { document, statements: vulnerabilities.length, notes }
}
