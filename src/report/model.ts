/**
 * What `detbuild report` renders, pure: the workspace files as read (each typed by its schema or absent),
 * the SBOM reduced to what the page shows (components, licences, the dependency graph), and the digest
 * links between the files. Nothing here trusts the files: every string is still hostile and is escaped
 * where it is written (render.ts); every list is bounded where it is shown.
 */
import type {
  BuildManifest,
  PolicyResultDocument,
  ProvenanceStatement,
  ReproReportDocument,
  SignaturesDocument,
  VulnsDocument,
} from '../workspace/index.ts'

/** One file the report was made from: its workspace-relative name and digest. */
export interface ReportFile {
  name: string
  sha256: string
  size: number
}

/** A component of the SBOM as the page shows it. */
export interface SbomComponent {
  ref: string
  name: string
  version: string
  purl: string
  /** SPDX ids, expressions or names; empty when the SBOM names none */
  licenses: string[]
  scope: string
}

/** The SBOM reduced to what the report shows. */
export interface SbomView {
  specVersion: string
  timestamp: string
  /** the root component (metadata.component), or null when the SBOM names none */
  root: SbomComponent | null
  components: SbomComponent[]
  /** bom-ref → the refs it depends on, as the SBOM lists them */
  dependsOn: Map<string, string[]>
  /** the tool names and versions of metadata.tools */
  tools: string[]
}

/** Everything the page is made from (src/report/index.ts reads it; render.ts writes it). */
export interface ReportInput {
  /** the detbuild that renders the page (not a clock: the same inputs and version give the same bytes) */
  detbuildVersion: string
  /** every workspace file read, sorted by name */
  files: ReportFile[]
  build: BuildManifest | null
  repro: ReproReportDocument | null
  provenance: ProvenanceStatement | null
  sbom: SbomView | null
  vulns: VulnsDocument | null
  policy: PolicyResultDocument | null
  signatures: SignaturesDocument | null
}

type Obj = Record<string, unknown>
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const str = (v: unknown): string => (typeof v === 'string' ? v : '')
const arrayOf = (v: unknown): unknown[] => (Array.isArray(v) ? v : [])

function toComponent(v: Obj): SbomComponent {
  const licenses: string[] = []
  for (const l of arrayOf(v.licenses)) {
    if (!isObject(l)) continue
    if (typeof l.expression === 'string') licenses.push(l.expression)
    else if (isObject(l.license)) {
      const id = str(l.license.id) || str(l.license.name)
      if (id) licenses.push(id)
    }
  }
  const ref = str(v['bom-ref']) || str(v.purl) || `${str(v.name)}@${str(v.version)}`
  return {
    ref,
    name: str(v.group) ? `${str(v.group)}/${str(v.name)}` : str(v.name),
    version: str(v.version),
    purl: str(v.purl),
    licenses,
    scope: str(v.scope) || 'required',
  }
}

/**
 * A CycloneDX JSON document reduced to the page's view, or a one-line reason it is not one. Values of
 * the wrong type are skipped, never trusted: the SBOM's own validation is `sbom`'s and `bundle`'s job.
 * Nested components (`components[].components`) are flattened.
 */
export function toSbomView(doc: unknown): SbomView | string {
  if (!isObject(doc) || doc.bomFormat !== 'CycloneDX') return 'not a CycloneDX JSON SBOM (bomFormat)'
  if (doc.components !== undefined && !Array.isArray(doc.components)) return 'components is not an array'
  const metadata = isObject(doc.metadata) ? doc.metadata : {}
  const components: SbomComponent[] = []
  const stack: unknown[] = [...arrayOf(doc.components)].reverse()
  while (stack.length > 0) {
    const c = stack.pop()
    if (!isObject(c)) continue
    components.push(toComponent(c))
    for (const inner of [...arrayOf(c.components)].reverse()) stack.push(inner)
  }
  const dependsOn = new Map<string, string[]>()
  for (const d of arrayOf(doc.dependencies)) {
    if (!isObject(d) || typeof d.ref !== 'string') continue
    const list = dependsOn.get(d.ref) ?? []
    for (const r of arrayOf(d.dependsOn)) if (typeof r === 'string') list.push(r)
    dependsOn.set(d.ref, list)
  }
  const tools: string[] = []
  const t = metadata.tools
  for (const tool of [...arrayOf(t), ...(isObject(t) ? arrayOf(t.components) : [])])
    if (isObject(tool) && typeof tool.name === 'string')
      tools.push(typeof tool.version === 'string' ? `${tool.name} ${tool.version}` : tool.name)
  return {
    specVersion: str(doc.specVersion),
    timestamp: str(metadata.timestamp),
    root: isObject(metadata.component) ? toComponent(metadata.component) : null,
    components,
    dependsOn,
    tools,
  }
}

/** How one recorded digest compares with the file present. */
export type LinkStatus = 'matches' | 'differs' | 'absent'

/** One digest a file records of another (`vulns.json` → the SBOM it scanned, …). */
export interface DigestLink {
  /** the file that records the digest */
  from: string
  /** what it records it of, as it names it */
  to: string
  recorded: string
  /** the digest of the file present, or null when it is not in the workspace */
  present: string | null
  status: LinkStatus
}

const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1)

/**
 * Pure: the digests the files record of each other, each compared with the file in the workspace. Files
 * are matched by name (policy.json records `.detbuild/sbom.cdx.json`: the last segment is compared).
 */
export function toDigestLinks(input: ReportInput): DigestLink[] {
  const byName = new Map(input.files.map((f) => [f.name, f.sha256]))
  const byBase = new Map<string, string>()
  for (const f of input.files) if (!f.name.includes('/')) byBase.set(f.name, f.sha256)
  const links: DigestLink[] = []
  const add = (from: string, to: string, recorded: string, present: string | undefined): void => {
    links.push({
      from,
      to,
      recorded,
      present: present ?? null,
      status: present === undefined ? 'absent' : present === recorded ? 'matches' : 'differs',
    })
  }
  if (input.vulns)
    add(
      'vulns.json',
      input.vulns.sbom.file,
      input.vulns.sbom.sha256,
      byBase.get(baseName(input.vulns.sbom.file)),
    )
  if (input.policy)
    for (const key of Object.keys(input.policy.inputs).sort()) {
      const v = input.policy.inputs[key]
      for (const d of Array.isArray(v) ? v : v ? [v] : [])
        add('policy.json', d.file, d.sha256, byBase.get(baseName(d.file)))
    }
  if (input.signatures)
    for (const b of input.signatures.bundles)
      add('signatures.json', b.subject, b.sha256, byName.get(b.subject))
  if (input.build)
    for (const o of input.build.outputs) add('build.json', o.path, o.sha256, byName.get(o.path))
  if (input.provenance && input.build) {
    const outputs = new Map(input.build.outputs.map((o) => [baseName(o.path), o.sha256]))
    for (const s of input.provenance.subject)
      add(
        'provenance.intoto.json',
        `${s.name} (as build.json records it)`,
        s.digest.sha256,
        outputs.get(baseName(s.name)),
      )
  }
  if (input.repro && input.build) {
    const outputs = new Map(input.build.outputs.map((o) => [baseName(o.path), o.sha256]))
    for (const o of input.repro.outputs)
      if (o.sha256)
        add(
          'repro-report.json',
          `${o.name} (as build.json records it)`,
          o.sha256.first,
          outputs.get(baseName(o.name)),
        )
  }
  return links
}
