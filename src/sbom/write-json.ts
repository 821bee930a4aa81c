/**
 * Pure: an inventory selection → CycloneDX JSON text, written directly (no BOM model, no serializer, no
 * parse/re-sort/stringify round trip).
 *
 * Hand-written on purpose: the CycloneDX library's model + JSON serializer cost ~127 ms of module loading
 * and a JSON round trip per run. This file reproduces, field by field, what to-bom.ts (with the library's
 * `ComponentBuilder`, `ExternalReferenceFactory` and `LicenseFactory`) followed by serialize.ts produce:
 * the same key order, the same list order (the library's locale-ordered `sortLists`, then components and
 * dependencies by code point), the same omissions and escapes. The library stays the oracle:
 * test/sbom/write-json.test.ts renders every fixture both ways and asserts equal bytes, and a property
 * test does the same for generated manifests. The library's SPDX list module (`/SPDX`, a leaf module with
 * the SPDX id list) is the one piece used here, so that licence ids are fixed up exactly as the library does.
 * One deliberate difference: a licence string naming an Object.prototype member ('constructor',
 * '__proto__') is not taken for an SPDX id (the library writes `{"license":{}}` for it, which fails the
 * schema check).
 */
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { fixupSpdxId } from '@cyclonedx/cyclonedx-library/SPDX'
import type { Ecosystem } from '../ecosystems/index.ts'
import { sriToHex } from '../util/digest.ts'
import { compareCodePoint, compareEnUs, uniqueSorted } from '../util/sort.ts'
import {
  bsiProperties,
  dependencyCompositions,
  type LifecyclePhase,
  type SbomAuthor,
} from './completeness.ts'
import type { Inventory, InventoryNode } from './model.ts'
import { nestedLayout } from './nested.ts'
import type { Selection } from './select.ts'
import { type SpecVersion, serialFromDigest } from './spec.ts'
import { SUPPLIER_PROPERTY, type SupplierPlan } from './supplier.ts'

export interface JsonBomOptions {
  /** SBOM timestamp (from SOURCE_DATE_EPOCH) */
  timestamp: Date
  tool: { name: string; version: string }
  /** the package URL of a node: the ecosystem's (also each component's bom-ref) */
  toPurl: Ecosystem['toPurl']
  spec: SpecVersion
  /** each component's supplier, publisher and `detbuild:supplier` property; none without (`--supplier none`) */
  suppliers?: SupplierPlan | undefined
  /** `metadata.lifecycles` (1.5+; completeness.ts lifecycleOf); default `build` */
  lifecycle?: LifecyclePhase | undefined
  /** `metadata.authors` (completeness.ts SbomAuthor); none without */
  author?: SbomAuthor | undefined
}

export interface WrittenJsonBom {
  /** the text (made from `bytes` when first read: writing needs only the bytes) */
  readonly json: string
  /** the text as UTF-8, in pieces */
  bytes: readonly Buffer[]
  serialNumber: string
  componentCount: number
  dependencyEdges: number
  root: { version: string; purl: string }
}

// spdx-expression-parse throws on anything that is not a valid SPDX expression (as in to-bom.ts)
const parseSpdx = createRequire(import.meta.url)('spdx-expression-parse') as (expression: string) => unknown

const HASH_ALGORITHMS: Record<string, string> = {
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
}
/** the library's hash value pattern (the same for every spec version detbuild writes) */
const HASH_VALUE =
  /^([a-fA-F0-9]{32})$|^([a-fA-F0-9]{40})$|^([a-fA-F0-9]{64})$|^([a-fA-F0-9]{96})$|^([a-fA-F0-9]{128})$/
/** the library's parsePackageIntegrity: one SRI hash of exactly this shape, first match wins */
const INTEGRITY: Array<[string, RegExp]> = [
  ['SHA-512', /^sha512-([a-z0-9+/]{86}==)$/i],
  ['SHA-1', /^sha1-([a-z0-9+/]{27}=)$/i],
  ['SHA-256', /^sha256-([a-z0-9+/]{43}=)$/i],
  ['SHA-384', /^sha384-([a-z0-9+/]{64})$/i],
]
const SSH_CONN = /^(?<user>[^@:]+)@(?<host>[^:]+):(?<path>.*)$/
const URI_ESCAPES: Array<[RegExp, string]> = [
  [/ /g, '%20'],
  [/"/g, '%22'],
  [/'/g, '%27'],
  [/\[/g, '%5B'],
  [/]/g, '%5D'],
  [/</g, '%3C'],
  [/>/g, '%3E'],
  [/\{/g, '%7B'],
  [/}/g, '%7D'],
]

// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped package.json data, read as loosely as the library does
type Loose = any

/** The library's ordering: `localeCompare` as its `sortLists` uses, pinned to en-US (stable sort keeps insertion order on ties). */
const locale = compareEnUs

function isObject(o: unknown): o is Record<string, unknown> {
  return o !== null && typeof o === 'object' && !Array.isArray(o)
}

function escapeUri(value: string): string {
  let v = value
  for (const [s, r] of URI_ESCAPES) v = v.replace(s, r)
  return v
}

function splitNameGroup(data: string): [string, string | undefined] {
  const delim = data.startsWith('@') ? data.indexOf('/', 2) : 0
  return delim > 0 ? [data.slice(delim + 1), data.slice(0, delim)] : [data, undefined]
}

function tryCanonicalizeGitUrl(value: Loose): Loose {
  if (value === undefined || value.length <= 0) return undefined
  try {
    return new URL(value)
  } catch {}
  const ssh = SSH_CONN.exec(value)?.groups
  if (ssh !== undefined) {
    try {
      const u = new URL(`git+ssh://${ssh.host}`)
      u.username = ssh.user!
      u.pathname = ssh.path!
      return u
    } catch {}
  }
  return value
}

interface Hash {
  alg: string
  content: string
}
interface ExtRef {
  url: Loose
  type: string
  hashes: Hash[]
  comment: string
}
type License =
  | { cls: 'LicenseExpression'; expression: string }
  | { cls: 'NamedLicense'; name: string; url?: string | undefined }
  | { cls: 'SpdxLicense'; id: string; url?: string | undefined }
interface Property {
  name: string
  value: string
}

function makeVcs(data: Loose): ExtRef | undefined {
  const repository = data.repository
  let url: Loose
  let comment: string
  if (isObject(repository)) {
    url = tryCanonicalizeGitUrl(repository.url)
    comment = 'as detected from PackageJson property "repository.url"'
    if (typeof repository.directory === 'string' && url instanceof URL) {
      url.hash = repository.directory.replace(/#/g, '%23')
      comment += ' and "repository.directory"'
    }
  } else {
    url = tryCanonicalizeGitUrl(repository)
    comment = 'as detected from PackageJson property "repository"'
  }
  return url === undefined ? undefined : { url: url.toString(), type: 'vcs', hashes: [], comment }
}

function makeHomepage(data: Loose): ExtRef | undefined {
  const url = data.homepage
  return typeof url === 'string' && url.length > 0
    ? { url, type: 'website', hashes: [], comment: 'as detected from PackageJson property "homepage"' }
    : undefined
}

function makeIssueTracker(data: Loose): ExtRef | undefined {
  const bugs = data.bugs
  let url: Loose
  let comment: string
  if (isObject(bugs)) {
    url = bugs.url
    comment = 'as detected from PackageJson property "bugs.url"'
  } else {
    url = bugs
    comment = 'as detected from PackageJson property "bugs"'
  }
  return typeof url === 'string' && url.length > 0
    ? { url, type: 'issue-tracker', hashes: [], comment }
    : undefined
}

function makeDist(tarball: string, integrity: string | undefined): ExtRef {
  const hashes: Hash[] = []
  let comment = 'as detected from PackageJson property "dist.tarball"'
  if (typeof integrity === 'string') {
    for (const [alg, re] of INTEGRITY) {
      const m = re.exec(integrity)
      if (m) {
        hashes.push({ alg, content: Buffer.from(m[1]!, 'base64').toString('hex') })
        comment += ' and property "dist.integrity"'
        break
      }
    }
  }
  return { url: tarball, type: 'distribution', hashes, comment }
}

function extRefsOf(
  data: Loose,
  dist: { tarball: string; integrity: string | undefined } | undefined,
): ExtRef[] {
  const refs: Array<ExtRef | undefined> = []
  for (const make of [makeVcs, makeHomepage, makeIssueTracker]) {
    try {
      refs.push(make(data))
    } catch {}
  }
  if (dist) refs.push(makeDist(dist.tarball, dist.integrity))
  return refs.filter((r): r is ExtRef => r !== undefined)
}

function spdxLicense(value: Loose): License | undefined {
  const id: unknown = fixupSpdxId(String(value))
  // the library's id table is a plain object: 'constructor' or '__proto__' find Object.prototype's
  // members there and it then writes a schema-invalid licence; here only a real id is an id
  return typeof id === 'string' ? { cls: 'SpdxLicense', id } : undefined
}

function licenseFromString(value: string): License {
  const spdx = spdxLicense(value)
  if (spdx) return spdx
  try {
    parseSpdx(value)
    return { cls: 'LicenseExpression', expression: value }
  } catch {}
  return { cls: 'NamedLicense', name: value }
}

function licensesOf(data: Loose): License[] {
  const out: License[] = []
  if (typeof data.license === 'string') out.push(licenseFromString(data.license))
  if (Array.isArray(data.licenses)) {
    for (const l of data.licenses) {
      if (!isObject(l) || typeof l.type !== 'string') continue
      const license: License = spdxLicense(l.type) ?? { cls: 'NamedLicense', name: String(l.type) }
      const url = typeof l.url === 'string' && l.url !== '' ? l.url : undefined
      ;(license as { url?: string | undefined }).url = url
      out.push(license)
    }
  }
  return out
}

function compareLicense(a: License, b: License): number {
  if (a.cls !== b.cls) return compareEnUs(a.cls, b.cls)
  switch (a.cls) {
    case 'LicenseExpression':
      return compareEnUs(a.expression, (b as typeof a).expression)
    case 'NamedLicense':
      return compareEnUs(a.name, (b as typeof a).name)
    case 'SpdxLicense':
      return compareEnUs(a.id, (b as typeof a).id)
  }
}

function normalizeLicenses(licenses: License[]): unknown[] {
  const sorted = [...licenses].sort(compareLicense)
  if (sorted.length > 1) {
    const expression = sorted.find((l) => l.cls === 'LicenseExpression')
    if (expression) return [{ expression: expression.expression }]
  }
  return sorted.map((l) => {
    if (l.cls === 'LicenseExpression') return { expression: l.expression }
    const url = l.url === undefined ? undefined : escapeUri(l.url)
    const urlField = url !== undefined && url.length > 0 ? url : undefined
    return l.cls === 'SpdxLicense'
      ? { license: { id: l.id, url: urlField } }
      : { license: { name: l.name, url: urlField } }
  })
}

function normalizeHashes(hashes: Hash[]): Hash[] {
  return [...hashes]
    .sort((a, b) => compareEnUs(a.alg, b.alg) || compareEnUs(a.content, b.content))
    .filter((h) => HASH_VALUE.test(h.content))
    .map((h) => ({ alg: h.alg, content: h.content }))
}

function normalizeExtRefs(refs: ExtRef[]): unknown[] {
  return [...refs]
    .sort((a, b) => compareEnUs(a.type, b.type) || compareEnUs(String(a.url), String(b.url)))
    .map((r) => ({
      url: escapeUri(String(r.url)),
      type: r.type,
      hashes: r.hashes.length > 0 ? normalizeHashes(r.hashes) : undefined,
      comment: r.comment || undefined,
    }))
}

/** The nodes' own properties (their reader's), each name=value once. */
export function uniqueProperties(nodes: readonly InventoryNode[]): Property[] {
  const seen = new Set<string>()
  const out: Property[] = []
  for (const n of nodes)
    for (const p of n.properties ?? []) {
      const id = `${p.name}\u0000${p.value}`
      if (!seen.has(id)) {
        seen.add(id)
        out.push({ name: p.name, value: p.value })
      }
    }
  return out
}

/** Several install paths of one name@version become one component: merged here. */
interface Group {
  purl: string
  nodes: InventoryNode[]
  /** the bom-ref, when it is not the purl (a nested component's) */
  ref?: string
}

type ComponentType = 'application' | 'library'

/** One component's JSON object, in the library's key order (undefined values are left out by stringify). */
function componentJson(
  group: Group,
  type: ComponentType,
  forceRequired: boolean,
  suppliers: SupplierPlan | undefined,
): Record<string, unknown> {
  // the node with the richest manifest describes the group; all share name and version
  const nodes = [...group.nodes].sort((a, b) => compareCodePoint(a.location, b.location))
  const first = nodes[0]!
  const data: Loose = { ...first.manifest, name: first.name, version: first.version }
  const dist =
    first.resolved && (first.kind === 'registry' || first.kind === 'remote')
      ? { tarball: first.resolved, integrity: first.integrity }
      : undefined
  // a node another ecosystem read (Go) carries its own name and properties, none of npm's
  const npm = first.ecosystem === undefined || first.ecosystem === 'npm'
  const [splitName, splitGroup] = npm ? splitNameGroup(first.name) : [first.name, undefined]
  const built = npm && splitName.length > 0
  const name = built ? splitName : first.name
  let author: string | undefined
  let description: string | undefined
  let licenses: License[] = []
  let extRefs: ExtRef[] = []
  const props: Property[] = []
  if (built) {
    author =
      typeof data.author === 'string'
        ? data.author
        : typeof data.author?.name === 'string'
          ? data.author.name
          : undefined
    description = typeof data.description === 'string' ? data.description : undefined
    extRefs = extRefsOf(data, dist)
    licenses = licensesOf(data)
    if (isObject(data.engines)) {
      for (const [engine, constraint] of Object.entries(data.engines)) {
        if (typeof constraint === 'string')
          props.push({ name: `cdx:npm:package:constraint:engine:${engine}`, value: constraint })
      }
    }
  }
  const hashes = new Map<string, string>()
  if (first.integrity) {
    for (const [alg, hex] of sriToHex(first.integrity)) {
      const algorithm = HASH_ALGORITHMS[alg]
      if (algorithm) hashes.set(algorithm, hex)
    }
  }
  const all = (f: (n: InventoryNode) => boolean) => nodes.every(f)
  const dev = all((n) => n.dev)
  const optional = all((n) => n.optional || n.devOptional)
  let scope: string | undefined
  if (first.kind !== 'root') scope = dev ? 'excluded' : optional ? 'optional' : 'required'
  if (forceRequired) scope = 'required'
  const flag = (flagName: string, on: boolean) => {
    if (on && npm) props.push({ name: `cdx:npm:package:${flagName}`, value: 'true' })
  }
  flag('development', dev)
  flag(
    'extraneous',
    all((n) => n.extraneous),
  )
  flag(
    'bundled',
    all((n) => n.bundled),
  )
  flag('private', first.manifest.private === true)
  const paths = uniqueSorted(nodes.flatMap((n) => [n.location, ...(n.linkedFrom ?? [])]))
  if (npm) for (const p of paths) props.push({ name: 'cdx:npm:package:path', value: p })
  for (const p of bsiProperties(first)) props.push(p)
  for (const p of uniqueProperties(nodes)) props.push(p)
  const supplied = suppliers?.byKey.get(first.key)
  if (supplied) props.push({ name: SUPPLIER_PROPERTY, value: supplied.source })
  const version = first.version
  return {
    type,
    name,
    group: (built ? splitGroup : undefined) || undefined,
    version: version.length > 0 ? version : undefined,
    'bom-ref': (group.ref ?? group.purl) || undefined,
    supplier: supplied?.supplier
      ? {
          name: supplied.supplier,
          url: supplied.contact?.url ? [supplied.contact.url] : undefined,
          contact: supplied.contact?.email ? [{ email: supplied.contact.email }] : undefined,
        }
      : undefined,
    author: author || undefined,
    publisher: supplied?.publisher || undefined,
    description: description || undefined,
    scope,
    hashes:
      hashes.size > 0 ? normalizeHashes([...hashes].map(([alg, content]) => ({ alg, content }))) : undefined,
    licenses: licenses.length > 0 ? normalizeLicenses(licenses) : undefined,
    purl: group.purl,
    externalReferences: extRefs.length > 0 ? normalizeExtRefs(extRefs) : undefined,
    properties:
      props.length > 0
        ? props
            .sort((a, b) => locale(a.name, b.name) || locale(a.value, b.value))
            .map((p) => ({ name: p.name, value: p.value }))
        : undefined,
  }
}

const SCHEMA_URL: Record<SpecVersion, string> = {
  '1.7': 'http://cyclonedx.org/schema/bom-1.7.schema.json',
  '1.6': 'http://cyclonedx.org/schema/bom-1.6.schema.json',
  '1.5': 'http://cyclonedx.org/schema/bom-1.5.schema.json',
  '1.4': 'http://cyclonedx.org/schema/bom-1.4.schema.json',
}

/**
 * The resolved inventory as a CycloneDX document object (no serial number yet): every selected package
 * once (bom-ref = purl), nested components, the full dependency graph, metadata. This object is what
 * every format is written from (CycloneDX JSON here, SPDX 2.3 and 3.0.1 in spdx*.ts): the grouping,
 * licence, hash, supplier and edge decisions are made once.
 */
export interface BomDocument {
  doc: Record<string, unknown>
  componentCount: number
  dependencyEdges: number
  root: { version: string; purl: string }
}

/**
 * Writes the SBOM (see {@link buildBomDocument}); the serial number is derived from the content without
 * it (the rule of serialize.ts).
 */
export function writeJsonBom(
  inventory: Inventory,
  selection: Selection,
  options: JsonBomOptions,
): WrittenJsonBom {
  return serializeBomDocument(buildBomDocument(inventory, selection, options))
}

/**
 * The bom-ref of detbuild itself in `metadata.tools`: its purl, unless the project or one of its
 * components has that purl (detbuild's own repository, a project with detbuild in its lockfile), where a
 * second element with one bom-ref would make the document invalid: then `<purl>#tool`. Both writers use it.
 */
export function toolBomRef(tool: { name: string; version: string }, taken: (ref: string) => boolean): string {
  const ref = `pkg:npm/${tool.name}@${tool.version}`
  return taken(ref) ? `${ref}#tool` : ref
}

/** The resolved inventory as a CycloneDX document object of `options.spec`. */
export function buildBomDocument(
  inventory: Inventory,
  selection: Selection,
  options: JsonBomOptions,
): BomDocument {
  const included = [...selection.included].map((k) => inventory.nodes.get(k)!)
  const groups = new Map<string, Group>()
  for (const n of included) {
    const purl = n.purl ?? options.toPurl(n)
    const g = groups.get(purl)
    if (g) g.nodes.push(n)
    else groups.set(purl, { purl, nodes: [n] })
  }
  const rootPurl = selection.root.purl ?? options.toPurl({ ...selection.root, kind: 'registry' })
  // the root is described once, in metadata, even if a package of the same name@version is installed
  groups.delete(rootPurl)

  const refOf = new Map<string, string>()
  const components: Array<Record<string, unknown>> = []
  // components nested in a component (Go modules of an executable a package ships): their refs by the
  // parent node's key, and their edges
  const nestedRefs = new Map<string, Map<string, string>>()
  const edges = new Map<string, Set<string>>([[rootPurl, new Set()]])
  // refs whose dependency list lost an edge (omitted or missing dependencies), and nested refs
  const dropped = new Set<string>()
  const nestedAll: string[] = []
  let nestedCount = 0
  const withNested = (c: Record<string, unknown>, group: Group) => {
    if (!group.nodes.some((n) => n.nested !== undefined && n.nested.length > 0)) return c
    const layout = nestedLayout(group.nodes, group.purl, options.toPurl)
    for (const n of group.nodes) nestedRefs.set(n.key, layout.refOf)
    for (const [ref, set] of layout.edges) edges.set(ref, set)
    for (const g of layout.groups) nestedAll.push(g.ref)
    nestedCount += layout.groups.length
    c.components = layout.groups.map((g) => componentJson(g, 'library', false, undefined))
    return c
  }
  for (const group of groups.values()) {
    const isWorkspace = group.nodes.some((n) => n.kind === 'workspace' || n.application === true)
    components.push(
      withNested(
        componentJson(group, isWorkspace ? 'application' : 'library', isWorkspace, options.suppliers),
        group,
      ),
    )
    for (const n of group.nodes) refOf.set(n.key, group.purl)
  }
  components.sort((a, b) => compareCodePoint(a['bom-ref'] as string, b['bom-ref'] as string))
  const rootGroup = { purl: rootPurl, nodes: [selection.root] }
  const rootComponent = withNested(
    componentJson(rootGroup, 'application', false, options.suppliers),
    rootGroup,
  )
  refOf.set(selection.root.key, rootPurl)

  // edges: union over every install path of a component, no self-edges, no duplicates
  for (const g of groups.values()) edges.set(g.purl, new Set())
  for (const n of [selection.root, ...included]) {
    const from = refOf.get(n.key)
    if (from === undefined) continue
    const set = edges.get(from)!
    const local = nestedRefs.get(n.key)
    for (const k of n.deps) {
      const inner = local?.get(k)
      if (inner !== undefined) {
        set.add(inner)
        continue
      }
      const to = refOf.get(k)
      if (to !== undefined && to !== from && (selection.included.has(k) || k === selection.root.key))
        set.add(to)
      else if (to === undefined) dropped.add(from)
    }
  }
  let dependencyEdges = 0
  const dependencies = [...edges.keys()].sort(compareCodePoint).map((ref) => {
    const dependsOn = [...edges.get(ref)!].sort(compareCodePoint)
    dependencyEdges += dependsOn.length
    return { ref, dependsOn: dependsOn.length > 0 ? dependsOn : undefined }
  })

  const { spec, tool } = options
  const toolRef = toolBomRef(tool, (ref) => ref === rootPurl || groups.has(ref))
  const doc: Record<string, unknown> = {
    $schema: SCHEMA_URL[spec],
    bomFormat: 'CycloneDX',
    specVersion: spec,
    version: 1,
    serialNumber: undefined,
    metadata: {
      timestamp: options.timestamp.toISOString(),
      lifecycles: spec === '1.4' ? undefined : [{ phase: options.lifecycle ?? 'build' }],
      tools:
        spec === '1.4'
          ? [{ name: tool.name || undefined, version: tool.version || undefined }]
          : {
              components: [
                {
                  type: 'application',
                  name: tool.name,
                  version: tool.version.length > 0 ? tool.version : undefined,
                  'bom-ref': toolRef,
                },
              ],
            },
      authors: options.author ? [{ name: options.author.name, email: options.author.email }] : undefined,
      component: rootComponent,
      properties: [{ name: 'cdx:reproducible', value: 'true' }, ...(options.suppliers?.properties ?? [])]
        .sort((a, b) => locale(a.name, b.name) || locale(a.value, b.value))
        .map((p) => ({ name: p.name, value: p.value })),
    },
    components,
    dependencies,
    compositions: dependencyCompositions(inventory, refOf, dropped, nestedAll),
  }
  return {
    doc,
    componentCount: groups.size + nestedCount,
    dependencyEdges,
    root: { version: selection.root.version, purl: rootPurl },
  }
}

/** The document's JSON text with its content-derived serial number, in memory (see {@link streamBomDocument}). */
export function serializeBomDocument(built: BomDocument): WrittenJsonBom {
  const parts: Array<{ at: number; bytes: Buffer }> = []
  const meta = streamBomDocument(built, (bytes, at) => parts.push({ at, bytes: Buffer.from(bytes) }))
  // the head comes last, for offset 0
  const bytes = parts.sort((a, b) => a.at - b.at).map((p) => p.bytes)
  let text: string | undefined
  return {
    ...meta,
    bytes,
    get json() {
      text ??= Buffer.concat(bytes).toString('utf8')
      return text
    },
  }
}

/** Where {@link streamBomDocument} puts a document's text: `bytes` at byte offset `at` (they are reused after). */
export type JsonSink = (bytes: Uint8Array, at: number) => void

/** Characters of text encoded at a time. */
const PIECE = 1 << 20

/**
 * Writes the document's JSON text, with its content-derived serial number, to `sink`: the text after the
 * head first, in pieces of about 1 MiB at the offsets they will have, then the head with the serial at
 * offset 0 (its length is known before the serial is: every serial is as long). The serial is a hash of
 * the compact JSON of the document without it, taken from the indented bytes as they pass
 * ({@link CompactSerial}); its line goes in after `"version": 1,`, exactly where JSON.stringify would have
 * put it. No text of the whole document is ever made (a 20k-entry SBOM is 36 MB of it), and one buffer
 * is reused for the bytes.
 */
export function streamBomDocument(
  built: BomDocument,
  sink: JsonSink,
): Omit<WrittenJsonBom, 'json' | 'bytes'> {
  const pieces = indentedPieces(built.doc)
  const head = pieces.next().value as string
  const at = head.indexOf(VERSION_LINE)
  if (at < 0) throw new Error('the written SBOM has no top-level version line')
  const after = at + VERSION_LINE.length
  const signed = (serial: string) =>
    Buffer.from(
      `${head.slice(0, after)}  "serialNumber": ${JSON.stringify(serial)},\n${head.slice(after)}`,
      'utf8',
    )
  const serial = new CompactSerial()
  serial.update(Buffer.from(head, 'utf8'))
  // every serial is as long as this one, so the head's length is known now
  let offset = signed(serialFromDigest(Buffer.alloc(32))).length
  const buffer = Buffer.allocUnsafe(PIECE * 3)
  let used = 0
  const put = (bytes: Uint8Array) => {
    serial.update(bytes)
    sink(bytes, offset)
    offset += bytes.length
  }
  const flush = () => {
    if (used > 0) put(buffer.subarray(0, used))
    used = 0
  }
  for (const piece of pieces) {
    // a UTF-16 code unit is at most 3 bytes of UTF-8; a piece longer than the buffer goes on its own
    if (used + piece.length * 3 > buffer.length) flush()
    if (piece.length * 3 > buffer.length) put(Buffer.from(piece, 'utf8'))
    else used += buffer.write(piece, used, 'utf8')
  }
  flush()
  sink(Buffer.from('\n'), offset)
  const serialNumber = serial.digest()
  sink(signed(serialNumber), 0)
  return {
    serialNumber,
    componentCount: built.componentCount,
    dependencyEdges: built.dependencyEdges,
    root: built.root,
  }
}

/** `JSON.stringify(doc, null, 2)` of a document object (see {@link indentedPieces}), as one string. */
export function indentedJson(doc: Record<string, unknown>): string {
  return [...indentedPieces(doc)].join('')
}

/**
 * `JSON.stringify(doc, null, 2)` of a document object, made faster, as pieces whose concatenation is that
 * text: each item of a top-level array (the components, the dependencies) is stringified on its own,
 * already at its depth. V8 writes many small texts much faster than one 30 MB text, and the pieces are
 * made one at a time, as they are written. The first piece holds every top-level member before the first
 * item of a non-empty array. Property-tested against JSON.stringify.
 */
export function* indentedPieces(doc: Record<string, unknown>): Generator<string, void, undefined> {
  let open = '{\n  '
  let pending = ''
  for (const key of Object.keys(doc)) {
    const value = doc[key]
    // what JSON.stringify leaves out of an object
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue
    const name = `${open}${JSON.stringify(key)}: `
    open = ',\n  '
    if (Array.isArray(value) && value.length > 0) {
      yield `${pending}${name}[\n    `
      for (let i = 0; i < value.length; i++)
        yield i === value.length - 1 ? atDepth(value[i], 2) : `${atDepth(value[i], 2)},\n    `
      pending = '\n  ]'
    } else pending += `${name}${atDepth(value, 1)}`
  }
  yield open === '{\n  ' ? '{}' : `${pending}\n}`
}

/**
 * JSON.stringify(value, null, 2) as it reads `depth` levels deep in an indented document: the value is
 * written inside `depth` arrays, and their brackets are cut off (a slice, not a copy).
 */
function atDepth(value: unknown, depth: number): string {
  let wrapped = value
  for (let i = 0; i < depth; i++) wrapped = [wrapped]
  const text = JSON.stringify(wrapped, null, 2)
  // each wrapper opens with "[\n" and its indent, and closes with "\n", the indent one level up, and "]"
  return text.slice(2 * depth + depth * (depth + 1), text.length - (2 * depth + depth * (depth - 1)))
}

/** The top-level `version` member as JSON.stringify(…, null, 2) writes it; the serial's line follows it. */
const VERSION_LINE = '\n  "version": 1,\n'

/**
 * The serial of the compact JSON of a text JSON.stringify wrote with an indent (see
 * {@link CompactSerial}), `piece` characters encoded at a time.
 */
export function serialOfIndented(text: string, piece = PIECE): string {
  const serial = new CompactSerial()
  for (let from = 0; from < text.length; ) {
    let to = Math.min(from + piece, text.length)
    const last = text.charCodeAt(to - 1)
    // a piece never ends between the two halves of a surrogate pair
    if (to < text.length && last >= 0xd800 && last <= 0xdbff) to++
    serial.update(Buffer.from(text.slice(from, to), 'utf8'))
    from = to
  }
  return serial.digest()
}

/**
 * The serial of the compact JSON of a UTF-8 text, given in chunks, that JSON.stringify wrote with an
 * indent: the same bytes without the newlines and spaces it put between tokens. Outside strings that is
 * every space and newline (JSON.stringify writes no other whitespace, and escapes every control character
 * inside strings); inside strings nothing changes. UTF-8 continuation bytes are never a quote, a
 * backslash, a space or a newline, so chunks may end anywhere.
 */
export class CompactSerial {
  private readonly hash = createHash('sha256')
  private inString = false
  private escaped = false
  private out = Buffer.allocUnsafe(0)

  update(bytes: Uint8Array): void {
    if (this.out.length < bytes.length) this.out = Buffer.allocUnsafe(bytes.length)
    const out = this.out
    let { inString, escaped } = this
    let o = 0
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i]!
      if (escaped) {
        out[o++] = c
        escaped = false
      } else if (inString) {
        out[o++] = c
        if (c === 0x5c) escaped = true
        else if (c === 0x22) inString = false
      } else if (c === 0x22) {
        inString = true
        out[o++] = c
      } else if (c !== 0x20 && c !== 0x0a) out[o++] = c
    }
    this.inString = inString
    this.escaped = escaped
    this.hash.update(out.subarray(0, o))
  }

  digest(): string {
    return serialFromDigest(this.hash.digest())
  }
}

/** Where a value sits in a document, made into text only for an error. */
interface JsonPath {
  parent: JsonPath | undefined
  key: string | number
}

function pathText(at: JsonPath | undefined): string {
  const keys: Array<string | number> = []
  for (let p = at; p !== undefined; p = p.parent) keys.push(p.key)
  return `$${keys
    .reverse()
    .map((k) =>
      typeof k === 'number' ? `[${k}]` : /^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`,
    )
    .join('')}`
}

/**
 * Makes a document object exactly the JSON data its text encodes, in place, so that checking the object
 * checks the text: keys whose value is undefined (which JSON.stringify leaves out) are deleted, and any
 * value JSON.stringify would change rather than write (undefined or a function in an array, a number that
 * is not finite, an object that is not a plain one: a Date, a Map, a toJSON) is an error naming its path;
 * -0 becomes 0. What remains is deep-equal to what JSON.parse gives for the text.
 */
export function asJsonData(value: unknown, at?: JsonPath): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`${pathText(at)} is ${value}, which JSON writes as null`)
    return
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // JSON writes -0 as 0
      if (Object.is(value[i], -0)) value[i] = 0
      else asJsonData(value[i], { parent: at, key: i })
    }
    return
  }
  const proto = value !== undefined && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined
  if (
    (proto !== Object.prototype && proto !== null) ||
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    throw new Error(
      `${pathText(at)} is ${typeof value === 'object' ? 'an object that is not plain' : typeof value === 'undefined' ? 'undefined' : `a ${typeof value}`}, not JSON data`,
    )
  const o = value as Record<string, unknown>
  for (const key in o) {
    const v = o[key]
    if (v === undefined) delete o[key]
    else if (Object.is(v, -0)) o[key] = 0
    else asJsonData(v, { parent: at, key })
  }
}
