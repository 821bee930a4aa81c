/**
 * Pure: the facts both SPDX writers (spdx2.ts, spdx3.ts) take from the resolved inventory — the
 * CycloneDX document object write-json.ts builds before any text is written ({@link BomDocument}), so that
 * every format carries the same packages, edges, hashes, licences and suppliers (the decisions are made
 * once, there). Also the shared id rules: content-derived, no random ids, no host paths.
 */

import { createHash } from 'node:crypto'
import { PROPERTY_ANNOTATION, SCOPE_ANNOTATION } from '../sbom-read/index.ts'
import { compareCodePoint } from '../util/sort.ts'
import { serialFromContent } from './spec.ts'

type Obj = Record<string, unknown>

/** One package (a CycloneDX component, the root included), with the SPDX-shaped facts. */
export interface SpdxPackageFacts {
  /** the CycloneDX bom-ref (the purl; `<parent ref>#<purl>` for a nested component) */
  ref: string
  /** the bom-ref of the component this one is nested in (an SPDX CONTAINS relationship) */
  parent: string | undefined
  /** `group/name` for npm, the module path for Go */
  name: string
  version: string | undefined
  purl: string | undefined
  type: 'application' | 'library'
  /** CycloneDX hash algorithm names (`SHA-512`), lowercase hex */
  hashes: Array<{ alg: string; content: string }>
  /** the declared licence as one SPDX expression (LicenseRef-… for a licence named, not identified) */
  license: string | undefined
  /** the LicenseRef ids of licences that have a name but no SPDX id, with the name */
  namedLicenses: Array<{ id: string; name: string }>
  supplier: string | undefined
  description: string | undefined
  homepage: string | undefined
  /** the distribution URL (npm's tarball), if any */
  download: string | undefined
  /** CycloneDX `scope` (excluded = dev), kept as an annotation */
  scope: string | undefined
  /** the component's CycloneDX properties (npm install paths, Go h1: sums, …), kept as annotations */
  properties: Array<{ name: string; value: string }>
}

export interface SpdxFacts {
  root: SpdxPackageFacts
  /** every other package, by ref (code point order), nested ones included */
  packages: SpdxPackageFacts[]
  /** ref → the refs it depends on (sorted); every package has an entry */
  edges: Map<string, string[]>
  /** refs whose dependency lists the reader could not see (CycloneDX `compositions` incomplete) */
  incomplete: Set<string>
  /** seconds precision, `YYYY-MM-DDTHH:MM:SSZ` (SOURCE_DATE_EPOCH, as the CycloneDX writer's timestamp) */
  created: string
  tool: { name: string; version: string }
  /** a hash of the content every id is derived from */
  contentDigest: string
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)

/** `LicenseRef-<name>-<hash>`: the idstring allows letters, digits, `.` and `-` only. */
export function licenseRefFor(name: string): string {
  const digest = createHash('sha256').update(name).digest('hex').slice(0, 8)
  return `LicenseRef-${sanitizeIdPart(name, 40)}-${digest}`
}

/**
 * Letters, digits, `.` and `-` (the SPDX 2.3 SPDXID alphabet), anything else `-`, at most `max`
 * characters (cut before the patterns run: a name from a hostile lockfile may be long).
 */
export function sanitizeIdPart(s: string, max = 80): string {
  const out = s.slice(0, max).replace(/[^A-Za-z0-9.-]+/g, '-')
  let from = 0
  let to = out.length
  while (from < to && out[from] === '-') from++
  while (to > from && out[to - 1] === '-') to--
  return out.slice(from, to) || 'x'
}

/** An SPDX 2.3 SPDXID for a bom-ref: readable name and version, and a digest of the ref (unique). */
export function spdxIdFor(p: Pick<SpdxPackageFacts, 'ref' | 'name' | 'version'>): string {
  const digest = createHash('sha256').update(p.ref).digest('hex').slice(0, 12)
  const readable = sanitizeIdPart(`${p.name}${p.version ? `-${p.version}` : ''}`)
  return `SPDXRef-Package-${readable}-${digest}`
}

/** A UUID made from the content and the format, so that two formats of one SBOM have distinct names. */
export function documentUuid(facts: SpdxFacts, format: string): string {
  return serialFromContent(`${format}\n${facts.contentDigest}`).slice('urn:uuid:'.length)
}

/** The CycloneDX `licenses` list as one SPDX expression, and the named ones as LicenseRefs. */
export function licenseExpressionOf(licenses: unknown): {
  expression: string | undefined
  named: Array<{ id: string; name: string }>
} {
  if (!Array.isArray(licenses)) return { expression: undefined, named: [] }
  const parts: string[] = []
  const named: Array<{ id: string; name: string }> = []
  for (const l of licenses) {
    if (!isObj(l)) continue
    const expression = str(l.expression)
    if (expression) {
      parts.push(expression)
      continue
    }
    const license = isObj(l.license) ? l.license : undefined
    const id = str(license?.id)
    const name = str(license?.name)
    if (id) parts.push(id)
    else if (name) {
      const ref = licenseRefFor(name)
      named.push({ id: ref, name })
      parts.push(ref)
    }
  }
  if (parts.length === 0) return { expression: undefined, named }
  // several licences a manifest lists all apply (the conservative reading): AND, each part grouped
  const expression =
    parts.length === 1 ? parts[0] : parts.map((p) => (/\s/.test(p) ? `(${p})` : p)).join(' AND ')
  return { expression, named }
}

function packageFacts(c: Obj, parent: string | undefined): SpdxPackageFacts {
  const name = str(c.name) ?? str(c['bom-ref']) ?? '?'
  const group = str(c.group)
  const refs = Array.isArray(c.externalReferences) ? c.externalReferences.filter(isObj) : []
  const url = (type: string) => str(refs.find((r) => r.type === type)?.url)
  const { expression, named } = licenseExpressionOf(c.licenses)
  const supplier = isObj(c.supplier) ? str(c.supplier.name) : undefined
  return {
    ref: str(c['bom-ref']) ?? str(c.purl) ?? name,
    parent,
    name: group ? `${group}/${name}` : name,
    version: str(c.version),
    purl: str(c.purl),
    type: c.type === 'application' ? 'application' : 'library',
    hashes: (Array.isArray(c.hashes) ? c.hashes.filter(isObj) : [])
      .map((h) => ({ alg: String(h.alg), content: String(h.content).toLowerCase() }))
      .sort((a, b) => compareCodePoint(a.alg, b.alg)),
    license: expression,
    namedLicenses: named,
    supplier,
    description: str(c.description),
    homepage: url('website'),
    download: url('distribution'),
    scope: str(c.scope),
    properties: (Array.isArray(c.properties) ? c.properties.filter(isObj) : []).map((p) => ({
      name: String(p.name),
      value: String(p.value),
    })),
  }
}

/** Reads the facts off the resolved inventory's CycloneDX document object (write-json.ts). */
export function toSpdxFacts(doc: Record<string, unknown>): SpdxFacts {
  const metadata = doc.metadata as Obj
  const rootComponent = metadata.component as Obj
  const packages: SpdxPackageFacts[] = []
  const root = packageFacts(rootComponent, undefined)
  const walk = (list: unknown, parent: string | undefined) => {
    if (!Array.isArray(list)) return
    for (const c of list.filter(isObj)) {
      const p = packageFacts(c, parent)
      packages.push(p)
      walk(c.components, p.ref)
    }
  }
  // components nested in the root are the root's CONTAINS, as any other's
  walk(rootComponent.components, root.ref)
  walk(doc.components, undefined)
  packages.sort((a, b) => compareCodePoint(a.ref, b.ref))
  const edges = new Map<string, string[]>()
  for (const p of [root, ...packages]) edges.set(p.ref, [])
  for (const d of (doc.dependencies as Array<{ ref: string; dependsOn?: string[] }>) ?? [])
    edges.set(d.ref, [...(d.dependsOn ?? [])].sort(compareCodePoint))
  const incomplete = new Set<string>()
  for (const c of (doc.compositions as Array<{ aggregate: string; dependencies: string[] }>) ?? [])
    if (c.aggregate === 'incomplete') for (const r of c.dependencies) incomplete.add(r)
  const timestamp = String(metadata.timestamp)
  const tool = { name: 'detbuild', version: '' }
  const tools = metadata.tools
  const toolList = Array.isArray(tools) ? tools : isObj(tools) ? (tools.components as unknown[]) : []
  const first = (toolList ?? []).find(isObj)
  if (first) {
    tool.name = str(first.name) ?? tool.name
    tool.version = str(first.version) ?? ''
  }
  // every fact, not the CycloneDX framing (`$schema`, `specVersion`): the same for --spec 1.4 … 1.7
  const contentDigest = createHash('sha256')
    .update(
      JSON.stringify({
        root: rootComponent,
        components: doc.components,
        dependencies: doc.dependencies,
        compositions: doc.compositions,
        timestamp,
        tool,
      }),
    )
    .digest('hex')
  return {
    root,
    packages,
    edges,
    incomplete,
    created: timestamp.replace(/\.\d+Z$/, 'Z'),
    tool,
    contentDigest,
  }
}

/** CycloneDX hash names → SPDX 2.3 checksum algorithms (the ones detbuild writes). */
export const SPDX2_CHECKSUM: Record<string, string> = {
  'SHA-1': 'SHA1',
  'SHA-256': 'SHA256',
  'SHA-384': 'SHA384',
  'SHA-512': 'SHA512',
  MD5: 'MD5',
}

/** CycloneDX hash names → SPDX 3.0.1 hash algorithms. */
export const SPDX3_HASH: Record<string, string> = {
  'SHA-1': 'sha1',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  MD5: 'md5',
}

/** A package's annotations: its scope, then its properties, in their CycloneDX order. */
export function annotationTexts(p: SpdxPackageFacts): string[] {
  return [
    ...(p.scope ? [`${SCOPE_ANNOTATION}${p.scope}`] : []),
    ...p.properties.map((q) => `${PROPERTY_ANNOTATION}${JSON.stringify([q.name, q.value])}`),
  ]
}
