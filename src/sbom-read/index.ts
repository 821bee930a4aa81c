/**
 * Pure: reads an SBOM in any format detbuild reads — CycloneDX JSON, SPDX 2.3 (and 2.2) JSON, SPDX 3.0.1
 * JSON-LD — detected from the content (never the file name), and gives `scan` and `policy` one shape: the
 * CycloneDX JSON document they have always read (bom-ref, purl, hashes, licences, supplier, properties,
 * `dependencies`, nested `components`, `compositions`). A CycloneDX document is passed through as it is
 * (its own checks stay where they were: scan/sbom-input.ts, policy/model.ts).
 *
 * SPDX is untrusted input: every field read is type-checked, a problem is one line naming the file and the
 * JSON path (SPDX_INVALID, exit 2), duplicate ids and containment cycles are refused, containment depth is
 * bounded. What detbuild's own SPDX writers keep as annotations (CycloneDX properties and scope,
 * spdx-facts.ts) comes back as properties and scope, so a scan of an SPDX document detbuild wrote finds
 * what a scan of the CycloneDX one finds.
 */
import { type ErrorCode, InputError } from '../errors.ts'
import { parseJson } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'

/** The SPDX annotation text that carries one CycloneDX property (sbom/spdx-facts.ts writes it). */
export const PROPERTY_ANNOTATION = 'cyclonedx:property '
/** The SPDX annotation text that carries a component's CycloneDX scope (sbom/spdx-facts.ts writes it). */
export const SCOPE_ANNOTATION = 'cyclonedx:scope '

type Obj = Record<string, unknown>

/** The format an input SBOM was detected as (from its content, never its file name). */
export type SbomInputFormat = 'cyclonedx' | 'cyclonedx-xml' | 'spdx-2.3' | 'spdx-3.0.1'

/** An input SBOM in the CycloneDX shape scan and policy read, with the format it came in. */
export interface ReadSbom {
  format: SbomInputFormat
  /** the document in CycloneDX JSON shape (the CycloneDX input itself) */
  bom: Record<string, unknown>
}

/** The SPDX 3.0.1 JSON-LD context (spdx3.ts writes it; the official JSON schema requires it). */
const SPDX3_CONTEXT = 'https://spdx.org/rdf/3.0.1/spdx-context.jsonld'
/** the annotation on a licence expression element naming its LicenseRefs (spdx3.ts) */
const LICENSE_NAMES_COMMENT = 'cyclonedx:license-names '
/** containment (CONTAINS) deeper than this is refused: a real SBOM nests a few levels */
export const MAX_CONTAINMENT_DEPTH = 32

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** Checks CycloneDX XML against the official XSD of `version` (sbom/index.ts `validateXml`, injected). */
export type XmlSchemaCheck = (
  xml: string,
  version: '1.4' | '1.5' | '1.6' | '1.7',
) => Promise<{ ok: true } | { ok: false; error: string } | { ok: 'skipped'; reason: string }>

/**
 * Edge-free but async: reads an SBOM's text in any format, CycloneDX XML (1.4–1.7) included. XML is
 * checked against its official XSD first (`check`; a document it refuses, or one it could not check, is
 * refused: a partly read SBOM would make a scan miss components), and a DOCTYPE or entity declaration is
 * never parsed. Other formats go through {@link readSbomText}.
 */
export async function readSbom(
  text: string,
  file: string,
  code: ErrorCode,
  check: XmlSchemaCheck,
): Promise<ReadSbom> {
  if (!/^\uFEFF?\s*</.test(text.slice(0, 4096))) return readSbomText(text, file, code)
  const { cycloneDxXmlToJson, cycloneDxXmlVersion, hasDoctype } = await import('./xml.ts')
  if (hasDoctype(text))
    throw new InputError(
      code,
      'an XML document with a DOCTYPE or entity declaration: not read (CycloneDX XML has none)',
      {
        file,
      },
    )
  const version = cycloneDxXmlVersion(text)
  if (!version)
    throw new InputError(
      code,
      'an XML document that is not CycloneDX 1.4–1.7 XML (its root must be <bom xmlns="http://cyclonedx.org/schema/bom/1.x">)',
      { file },
    )
  // a parser error (XML that is not well-formed) is the document's problem, not detbuild's
  const outcome = await check(text, version as '1.4' | '1.5' | '1.6' | '1.7').catch((e: unknown) => ({
    ok: false as const,
    error: String((e as Error)?.message ?? e)
      .trim()
      .replace(/\s+/g, ' ')
      .slice(0, 300),
  }))
  if (outcome.ok !== true)
    throw new InputError(
      code,
      outcome.ok === false
        ? `not a valid CycloneDX ${version} XML document: ${outcome.error}`
        : `the CycloneDX ${version} XML document could not be checked against its schema (${outcome.reason}): not read`,
      { file },
    )
  try {
    return { format: 'cyclonedx-xml', bom: cycloneDxXmlToJson(text) }
  } catch (e) {
    throw new InputError(code, `CycloneDX XML: ${(e as Error).message}`, { file })
  }
}

/**
 * Reads an SBOM's text. `code` is the caller's error code (SCAN_SBOM_INVALID, POLICY_SBOM_INVALID) for
 * text that is not JSON and for a document of no format detbuild reads (the codes those commands have
 * always given); a broken SPDX document is SPDX_INVALID.
 */
export function readSbomText(text: string, file: string, code: ErrorCode): ReadSbom {
  if (/^\uFEFF?\s*</.test(text.slice(0, 4096)))
    throw new InputError(
      code,
      'an XML document: read it with readSbom (CycloneDX XML is checked against its XSD first)',
      {
        file,
      },
    )
  return normalizeSbom(parseJson(text, file, code), file, code)
}

/** The format of a parsed document, detected from its content. */
export function detectSbomFormat(data: unknown, file: string, code: ErrorCode): SbomInputFormat {
  if (!isObj(data)) throw new InputError(code, 'not an SBOM: $ is not a JSON object', { file })
  if (data.bomFormat === 'CycloneDX') return 'cyclonedx'
  if (data.spdxVersion !== undefined) {
    if (data.spdxVersion === 'SPDX-2.3' || data.spdxVersion === 'SPDX-2.2') return 'spdx-2.3'
    throw new InputError(
      'SPDX_INVALID',
      `$.spdxVersion: detbuild reads SPDX-2.3 (and SPDX-2.2) JSON, not ${JSON.stringify(data.spdxVersion).slice(0, 60)}`,
      { file },
    )
  }
  if (data['@context'] !== undefined) {
    const ctx = data['@context']
    if (ctx === SPDX3_CONTEXT || (Array.isArray(ctx) && ctx.includes(SPDX3_CONTEXT))) return 'spdx-3.0.1'
    throw new InputError(
      code,
      `$["@context"]: a JSON-LD document whose context is not ${SPDX3_CONTEXT} (detbuild reads SPDX 3.0.1 JSON-LD)`,
      { file },
    )
  }
  if (data.bomFormat !== undefined)
    throw new InputError(code, 'not a CycloneDX JSON SBOM: $.bomFormat is not "CycloneDX"', { file })
  throw new InputError(
    code,
    'not an SBOM: $ has no "bomFormat" (CycloneDX), "spdxVersion" (SPDX 2.3) or "@context" (SPDX 3.0.1)',
    { file },
  )
}

/** A parsed document in CycloneDX JSON shape. */
export function normalizeSbom(data: unknown, file: string, code: ErrorCode): ReadSbom {
  const format = detectSbomFormat(data, file, code)
  if (format === 'cyclonedx') return { format, bom: data as Obj }
  const fail = (at: string, why: string): never => {
    throw new InputError('SPDX_INVALID', `${at}: ${why}`, { file })
  }
  const model = format === 'spdx-2.3' ? readSpdx2(data as Obj, fail) : readSpdx3(data as Obj, fail)
  return { format, bom: toCycloneDx(model, fail) }
}

// ---------------------------------------------------------------------------------------------------
// the neutral model both SPDX readers fill

interface Pkg {
  id: string
  at: string
  name: string
  version: string | undefined
  purl: string | undefined
  application: boolean
  hashes: Array<{ alg: string; content: string }>
  license: string | undefined
  supplier: string | undefined
  description: string | undefined
  homepage: string | undefined
  download: string | undefined
  scope: string | undefined
  properties: Array<{ name: string; value: string }>
}

interface Model {
  root: string
  packages: Map<string, Pkg>
  /** id → ids it depends on */
  edges: Map<string, Set<string>>
  /** ids whose dependency list is declared incomplete / unknown */
  incomplete: Set<string>
  /** child id → parent id (CONTAINS) */
  parent: Map<string, string>
  /** dependency edges (`from\u0000to`) the document marks as development / test / build ones */
  devEdges: Set<string>
  /** LicenseRef id → the licence name it stands for */
  licenseNames: Map<string, string>
  created: string | undefined
  tools: Array<{ name: string; version?: string }>
  /** CycloneDX lifecycle phases (SPDX 3's software_sbomType) */
  lifecycles: string[]
}

/** SPDX 3 `software_sbomType` → the CycloneDX lifecycle phase it names. */
const SBOM_TYPE_PHASE: Record<string, string> = {
  design: 'design',
  source: 'pre-build',
  build: 'build',
  analyzed: 'post-build',
  deployed: 'operations',
  runtime: 'operations',
}

type Fail = (at: string, why: string) => never

function emptyPkg(id: string, at: string, name: string): Pkg {
  return {
    id,
    at,
    name,
    version: undefined,
    purl: undefined,
    application: false,
    hashes: [],
    license: undefined,
    supplier: undefined,
    description: undefined,
    homepage: undefined,
    download: undefined,
    scope: undefined,
    properties: [],
  }
}

/** `detbuild-1.2.3` → name and version (the SPDX tool convention `Tool: name-version`). */
function toolOf(s: string): { name: string; version?: string } {
  const t = s.trim()
  // short strings only (the pattern backtracks): a longer, hostile creator string stays a name
  const m = t.length <= 200 ? /^(.+?)-(v?\d[\w.+-]*)$/.exec(t) : null
  return m ? { name: m[1]!, version: m[2]! } : { name: t }
}

/** One annotation text: a CycloneDX property or scope detbuild's writers kept (spdx-facts.ts). */
function readAnnotation(p: Pkg, text: string): void {
  if (text.startsWith(SCOPE_ANNOTATION)) {
    const scope = text.slice(SCOPE_ANNOTATION.length)
    if (scope === 'required' || scope === 'optional' || scope === 'excluded') p.scope = scope
    return
  }
  if (!text.startsWith(PROPERTY_ANNOTATION)) return
  try {
    const v = JSON.parse(text.slice(PROPERTY_ANNOTATION.length)) as unknown
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string')
      p.properties.push({ name: v[0], value: v[1] })
  } catch {}
}

const NOT_A_VALUE = new Set(['NOASSERTION', 'NONE'])
const CHECKSUM_TO_CDX: Record<string, string> = {
  SHA1: 'SHA-1',
  SHA256: 'SHA-256',
  SHA384: 'SHA-384',
  SHA512: 'SHA-512',
  MD5: 'MD5',
  sha1: 'SHA-1',
  sha256: 'SHA-256',
  sha384: 'SHA-384',
  sha512: 'SHA-512',
  md5: 'MD5',
}
const HEX = /^[0-9a-fA-F]+$/
/** An own entry only: `constructor` or `__proto__` is no algorithm. */
const checksumAlg = (v: unknown): string | undefined =>
  typeof v === 'string' && Object.hasOwn(CHECKSUM_TO_CDX, v) ? CHECKSUM_TO_CDX[v] : undefined

/**
 * SPDX 2: the relationship types that make the related element a dependency of the element, and those of
 * them that are development-time (one string each: `BUILD_…` spelled alone would read as an error code).
 */
const DEPENDENCY_OF = new Set(
  'DEPENDENCY_OF DEV_DEPENDENCY_OF OPTIONAL_DEPENDENCY_OF BUILD_DEPENDENCY_OF RUNTIME_DEPENDENCY_OF TEST_DEPENDENCY_OF PROVIDED_DEPENDENCY_OF'.split(
    ' ',
  ),
)
const DEV_KINDS = new Set('DEV_DEPENDENCY_OF TEST_DEPENDENCY_OF BUILD_DEPENDENCY_OF'.split(' '))

function array(v: unknown, at: string, fail: Fail): unknown[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) fail(at, 'must be an array')
  return v as unknown[]
}

function optString(o: Obj, key: string, at: string, fail: Fail): string | undefined {
  const v = o[key]
  if (v === undefined) return undefined
  if (typeof v !== 'string') fail(`${at}.${key}`, 'must be a string')
  return (v as string) === '' ? undefined : (v as string)
}

/** One dependency edge between two packages of the document (others, and self-edges, are left out). */
function addEdge(
  packages: ReadonlyMap<string, Pkg>,
  edges: Map<string, Set<string>>,
  devEdges: Set<string>,
  from: string,
  to: string,
  dev: boolean,
): void {
  if (!packages.has(from) || !packages.has(to) || from === to) return
  const set = edges.get(from) ?? new Set<string>()
  edges.set(from, set)
  set.add(to)
  if (dev) devEdges.add(`${from}\u0000${to}`)
}

/**
 * The packages only development edges reach (npm's `DEV_DEPENDENCY_OF`, SPDX 3's development scope):
 * reachable from the root, but not without a development edge. Without any such edge: none.
 */
function devOnlyOf(m: Model): Set<string> {
  if (m.devEdges.size === 0) return new Set()
  const reach = (skipDev: boolean) => {
    const seen = new Set([m.root])
    const queue = [m.root]
    for (let i = 0; i < queue.length; i++)
      for (const t of m.edges.get(queue[i]!) ?? [])
        if (!seen.has(t) && !(skipDev && m.devEdges.has(`${queue[i]}\u0000${t}`))) {
          seen.add(t)
          queue.push(t)
        }
    return seen
  }
  const prod = reach(true)
  return new Set([...reach(false)].filter((id) => !prod.has(id)))
}

function readSpdx2(doc: Obj, fail: Fail): Model {
  const packages = new Map<string, Pkg>()
  array(doc.packages, '$.packages', fail).forEach((raw, i) => {
    const at = `$.packages[${i}]`
    if (!isObj(raw)) fail(at, 'must be an object')
    const o = raw as Obj
    const id = optString(o, 'SPDXID', at, fail) ?? fail(`${at}.SPDXID`, 'is missing')
    const name = optString(o, 'name', at, fail) ?? fail(`${at}.name`, 'is missing')
    if (packages.has(id)) fail(`${at}.SPDXID`, `${JSON.stringify(id)} is used twice`)
    const p = emptyPkg(id, at, name)
    p.version = optString(o, 'versionInfo', at, fail)
    p.application = o.primaryPackagePurpose === 'APPLICATION'
    p.description = optString(o, 'description', at, fail)
    const home = optString(o, 'homepage', at, fail)
    p.homepage = home && !NOT_A_VALUE.has(home) ? home : undefined
    const download = optString(o, 'downloadLocation', at, fail)
    p.download = download && !NOT_A_VALUE.has(download) ? download : undefined
    const license = optString(o, 'licenseDeclared', at, fail)
    p.license = license && !NOT_A_VALUE.has(license) ? license : undefined
    const supplier = optString(o, 'supplier', at, fail)
    if (supplier && !NOT_A_VALUE.has(supplier))
      p.supplier = supplier.replace(/^(Organization|Person|Tool):\s*/, '') || undefined
    array(o.checksums, `${at}.checksums`, fail).forEach((c, j) => {
      const cat = `${at}.checksums[${j}]`
      if (!isObj(c)) fail(cat, 'must be an object')
      const alg = checksumAlg((c as Obj).algorithm)
      const value = optString(c as Obj, 'checksumValue', cat, fail)
      if (alg && value && HEX.test(value)) p.hashes.push({ alg, content: value.toLowerCase() })
    })
    array(o.externalRefs, `${at}.externalRefs`, fail).forEach((r, j) => {
      const rat = `${at}.externalRefs[${j}]`
      if (!isObj(r)) fail(rat, 'must be an object')
      const ref = r as Obj
      const locator = optString(ref, 'referenceLocator', rat, fail)
      if (
        locator &&
        ref.referenceType === 'purl' &&
        (ref.referenceCategory === 'PACKAGE-MANAGER' || ref.referenceCategory === 'PACKAGE_MANAGER') &&
        p.purl === undefined
      )
        p.purl = locator
    })
    array(o.annotations, `${at}.annotations`, fail).forEach((a, j) => {
      if (!isObj(a)) fail(`${at}.annotations[${j}]`, 'must be an object')
      const text = optString(a as Obj, 'comment', `${at}.annotations[${j}]`, fail)
      if (text) readAnnotation(p, text)
    })
    packages.set(id, p)
  })
  const docId = typeof doc.SPDXID === 'string' ? doc.SPDXID : 'SPDXRef-DOCUMENT'
  const edges = new Map<string, Set<string>>()
  const incomplete = new Set<string>()
  const parent = new Map<string, string>()
  const devEdges = new Set<string>()
  const described: string[] = []
  const edge = (from: string, to: string, dev: boolean) => addEdge(packages, edges, devEdges, from, to, dev)
  array(doc.relationships, '$.relationships', fail).forEach((raw, i) => {
    const at = `$.relationships[${i}]`
    if (!isObj(raw)) fail(at, 'must be an object')
    const o = raw as Obj
    const a = optString(o, 'spdxElementId', at, fail) ?? fail(`${at}.spdxElementId`, 'is missing')
    const type = optString(o, 'relationshipType', at, fail) ?? fail(`${at}.relationshipType`, 'is missing')
    const b = optString(o, 'relatedSpdxElement', at, fail) ?? fail(`${at}.relatedSpdxElement`, 'is missing')
    if (type === 'DESCRIBES' && a === docId) described.push(b)
    else if (type === 'DESCRIBED_BY' && b === docId) described.push(a)
    else if (type === 'DEPENDS_ON') {
      if (b === 'NOASSERTION') incomplete.add(a)
      else edge(a, b, false)
    } else if (DEPENDENCY_OF.has(type)) edge(b, a, DEV_KINDS.has(type))
    else if (type === 'CONTAINS' && packages.has(a) && packages.has(b) && !parent.has(b)) parent.set(b, a)
    else if (type === 'CONTAINED_BY' && packages.has(a) && packages.has(b) && !parent.has(a)) parent.set(a, b)
  })
  for (const [i, d] of array(doc.documentDescribes, '$.documentDescribes', fail).entries())
    if (typeof d === 'string') described.push(d)
    else fail(`$.documentDescribes[${i}]`, 'must be a string')
  const root = described.filter((d) => packages.has(d)).sort(compareCodePoint)[0]
  if (root === undefined) fail('$.relationships', 'the document DESCRIBES no package')
  const info = isObj(doc.creationInfo) ? doc.creationInfo : {}
  const tools = (Array.isArray(info.creators) ? info.creators : [])
    .filter((c): c is string => typeof c === 'string' && c.startsWith('Tool:'))
    .map((c) => toolOf(c.slice('Tool:'.length)))
  const licenseNames = new Map<string, string>()
  array(doc.hasExtractedLicensingInfos, '$.hasExtractedLicensingInfos', fail).forEach((l, i) => {
    if (!isObj(l)) fail(`$.hasExtractedLicensingInfos[${i}]`, 'must be an object')
    const id = str((l as Obj).licenseId)
    const name = str((l as Obj).name)
    if (id && name) licenseNames.set(id, name)
  })
  return {
    root: root!,
    packages,
    edges,
    incomplete,
    parent,
    devEdges,
    licenseNames,
    created: str(info.created),
    tools,
    lifecycles: [],
  }
}

function readSpdx3(doc: Obj, fail: Fail): Model {
  const graph = array(doc['@graph'], '$["@graph"]', fail)
  if (doc['@graph'] === undefined) fail('$', 'an SPDX 3.0.1 document must hold a "@graph" array')
  const byId = new Map<string, { o: Obj; at: string }>()
  graph.forEach((raw, i) => {
    const at = `$["@graph"][${i}]`
    if (!isObj(raw)) fail(at, 'must be an object')
    const o = raw as Obj
    if (typeof o.type !== 'string') fail(`${at}.type`, 'must be a string')
    const id = o.spdxId ?? o['@id']
    if (id === undefined) return
    if (typeof id !== 'string') fail(`${at}.spdxId`, 'must be a string')
    if (byId.has(id as string)) fail(`${at}.spdxId`, `${JSON.stringify(id)} is used twice`)
    byId.set(id as string, { o, at })
  })
  const ids = (v: unknown, at: string): string[] =>
    array(v, at, fail).map((x, i) => (typeof x === 'string' ? x : fail(`${at}[${i}]`, 'must be a string')))
  const nameOf = (v: unknown): string | undefined => {
    if (typeof v === 'string') return str(byId.get(v)?.o.name)
    return isObj(v) ? str(v.name) : undefined
  }
  const packages = new Map<string, Pkg>()
  for (const [id, { o, at }] of byId) {
    if (o.type !== 'software_Package') continue
    const name = optString(o, 'name', at, fail) ?? fail(`${at}.name`, 'is missing')
    const p = emptyPkg(id, at, name)
    p.version = optString(o, 'software_packageVersion', at, fail)
    p.application = o.software_primaryPurpose === 'application'
    p.description = optString(o, 'description', at, fail)
    p.homepage = optString(o, 'software_homePage', at, fail)
    p.download = optString(o, 'software_downloadLocation', at, fail)
    p.purl = optString(o, 'software_packageUrl', at, fail)
    array(o.externalIdentifier, `${at}.externalIdentifier`, fail).forEach((e, j) => {
      if (!isObj(e)) fail(`${at}.externalIdentifier[${j}]`, 'must be an object')
      const x = e as Obj
      if (x.externalIdentifierType === 'packageUrl' && p.purl === undefined)
        p.purl = optString(x, 'identifier', `${at}.externalIdentifier[${j}]`, fail)
    })
    array(o.verifiedUsing, `${at}.verifiedUsing`, fail).forEach((h, j) => {
      if (!isObj(h)) fail(`${at}.verifiedUsing[${j}]`, 'must be an object')
      const x = h as Obj
      const alg = checksumAlg(x.algorithm)
      const value = optString(x, 'hashValue', `${at}.verifiedUsing[${j}]`, fail)
      if (x.type === 'Hash' && alg && value && HEX.test(value))
        p.hashes.push({ alg, content: value.toLowerCase() })
    })
    p.supplier = nameOf(o.suppliedBy)
    packages.set(id, p)
  }
  // the SPDX document → its root elements; an Sbom among them → its root package
  let root: string | undefined
  const docs = [...byId.values()].filter(({ o }) => o.type === 'SpdxDocument')
  for (const { o, at } of docs) {
    for (const r of ids(o.rootElement, `${at}.rootElement`)) {
      if (packages.has(r)) root ??= r
      const sbom = byId.get(r)
      if (sbom && (sbom.o.type === 'software_Sbom' || sbom.o.type === 'Bom'))
        for (const x of ids(sbom.o.rootElement, `${sbom.at}.rootElement`)) if (packages.has(x)) root ??= x
    }
  }
  const lifecycles = new Set<string>()
  for (const { o } of byId.values())
    if (o.type === 'software_Sbom' && Array.isArray(o.software_sbomType))
      for (const t of o.software_sbomType) {
        const phase =
          typeof t === 'string' && Object.hasOwn(SBOM_TYPE_PHASE, t) ? SBOM_TYPE_PHASE[t] : undefined
        if (phase) lifecycles.add(phase)
      }
  if (root === undefined)
    fail('$["@graph"]', "no SpdxDocument whose rootElement (or its Sbom's) is a software_Package")
  const edges = new Map<string, Set<string>>()
  const incomplete = new Set<string>()
  const parent = new Map<string, string>()
  const devEdges = new Set<string>()
  const licenseOf = new Map<string, string>()
  const licenseNames = new Map<string, string>()
  for (const [, { o, at }] of byId) {
    if (o.type === 'Annotation') {
      const subject = packages.get(String(o.subject))
      const text = str(o.statement)
      if (subject && text) readAnnotation(subject, text)
      continue
    }
    if (o.type !== 'Relationship' && o.type !== 'LifecycleScopedRelationship') continue
    const from = optString(o, 'from', at, fail) ?? fail(`${at}.from`, 'is missing')
    const to = ids(o.to, `${at}.to`)
    const type = o.relationshipType
    if (type === 'dependsOn' || type === 'hasOptionalDependency' || type === 'hasProvidedDependency') {
      const dev = o.scope === 'development' || o.scope === 'test' || o.scope === 'build'
      if (
        to.includes('NoAssertionElement') ||
        o.completeness === 'incomplete' ||
        o.completeness === 'noAssertion'
      )
        incomplete.add(from)
      for (const t of to) addEdge(packages, edges, devEdges, from, t, dev)
    } else if (type === 'contains') {
      for (const t of to) if (packages.has(from) && packages.has(t) && !parent.has(t)) parent.set(t, from)
    } else if (type === 'hasDeclaredLicense' && packages.has(from)) {
      const l = byId.get(to[0] ?? '')?.o
      const expression = str(l?.simplelicensing_licenseExpression)
      if (expression && !licenseOf.has(from)) licenseOf.set(from, expression)
      const comment = str(l?.comment)
      if (comment?.startsWith(LICENSE_NAMES_COMMENT)) {
        try {
          const names = JSON.parse(comment.slice(LICENSE_NAMES_COMMENT.length)) as unknown
          if (isObj(names))
            for (const [k, v] of Object.entries(names)) if (typeof v === 'string') licenseNames.set(k, v)
        } catch {}
      }
    }
  }
  for (const [id, l] of licenseOf) packages.get(id)!.license = l
  // the CreationInfo: inline, or a blank node the root package names
  const rootObj = byId.get(root!)!.o
  const ci = isObj(rootObj.creationInfo)
    ? rootObj.creationInfo
    : (byId.get(String(rootObj.creationInfo))?.o ?? {})
  const tools = (Array.isArray(ci.createdUsing) ? ci.createdUsing : [])
    .map((t) => nameOf(t))
    .filter((t): t is string => t !== undefined)
    .map(toolOf)
  return {
    root: root!,
    packages,
    edges,
    incomplete,
    parent,
    devEdges,
    licenseNames,
    created: str(ci.created),
    tools,
    lifecycles: [...lifecycles].sort(compareCodePoint),
  }
}

// ---------------------------------------------------------------------------------------------------
// the neutral model → CycloneDX JSON shape

const LICENSE_ID = /^[A-Za-z0-9.+-]+$/

/** SPDX's `created` as CycloneDX writes a timestamp (`…:20.000Z`); a value that is no time as it is. */
function isoTime(created: string): string {
  const t = Date.parse(created)
  return Number.isNaN(t) ? created : new Date(t).toISOString()
}

function licensesOf(expression: string | undefined, names: Map<string, string>): unknown[] | undefined {
  if (expression === undefined) return undefined
  const named = names.get(expression)
  if (named !== undefined) return [{ license: { name: named } }]
  if (LICENSE_ID.test(expression) && !expression.startsWith('LicenseRef-'))
    return [{ license: { id: expression } }]
  return [{ expression }]
}

function toCycloneDx(m: Model, fail: Fail): Obj {
  const devOnly = devOnlyOf(m)
  // bom-refs: the purl (as detbuild's CycloneDX), `<parent ref>#<purl>` for a contained package, the
  // SPDX id when there is no purl or the purl is taken
  const refOf = new Map<string, string>()
  const taken = new Set<string>()
  const depthOf = (id: string): number => {
    let d = 0
    const seen = new Set([id])
    for (let p = m.parent.get(id); p !== undefined; p = m.parent.get(p)) {
      if (seen.has(p)) fail(m.packages.get(id)!.at, 'is part of a CONTAINS cycle')
      seen.add(p)
      if (++d > MAX_CONTAINMENT_DEPTH)
        fail(m.packages.get(id)!.at, `is contained more than ${MAX_CONTAINMENT_DEPTH} levels deep`)
    }
    return d
  }
  const order = [...m.packages.keys()].sort(compareCodePoint)
  const depth = new Map(order.map((id) => [id, depthOf(id)]))
  // the root is never nested; parents get their refs before their children
  m.parent.delete(m.root)
  for (const id of [...order].sort((a, b) => depth.get(a)! - depth.get(b)! || compareCodePoint(a, b))) {
    const p = m.packages.get(id)!
    const parent = m.parent.get(id)
    const base = p.purl ?? id
    let ref = parent !== undefined && p.purl !== undefined ? `${refOf.get(parent)}#${p.purl}` : base
    if (taken.has(ref)) ref = `${ref}#${id}`
    taken.add(ref)
    refOf.set(id, ref)
  }
  const component = (p: Pkg, isRoot: boolean): Obj => {
    const scoped = p.name.startsWith('@') ? p.name.indexOf('/') : -1
    const refs = [
      ...(p.download ? [{ url: p.download, type: 'distribution' }] : []),
      ...(p.homepage ? [{ url: p.homepage, type: 'website' }] : []),
    ]
    const scope = isRoot ? undefined : (p.scope ?? (devOnly.has(p.id) ? 'excluded' : undefined))
    return {
      type: p.application ? 'application' : 'library',
      name: scoped > 0 ? p.name.slice(scoped + 1) : p.name,
      ...(scoped > 0 ? { group: p.name.slice(0, scoped) } : {}),
      ...(p.version ? { version: p.version } : {}),
      'bom-ref': refOf.get(p.id),
      ...(p.supplier ? { supplier: { name: p.supplier } } : {}),
      ...(p.description ? { description: p.description } : {}),
      ...(scope ? { scope } : {}),
      ...(p.hashes.length > 0 ? { hashes: p.hashes } : {}),
      ...(p.license ? { licenses: licensesOf(p.license, m.licenseNames) } : {}),
      ...(p.purl ? { purl: p.purl } : {}),
      ...(refs.length > 0 ? { externalReferences: refs } : {}),
      ...(p.properties.length > 0 ? { properties: p.properties } : {}),
    }
  }
  const built = new Map<string, Obj>()
  for (const id of order) built.set(id, component(m.packages.get(id)!, id === m.root))
  const top: Obj[] = []
  for (const id of order) {
    if (id === m.root) continue
    const parent = m.parent.get(id)
    const c = built.get(id)!
    if (parent === undefined) top.push(c)
    else {
      const pc = built.get(parent)!
      if (pc.components === undefined) pc.components = []
      ;(pc.components as Obj[]).push(c)
    }
  }
  // components in bom-ref order, as detbuild's CycloneDX writer lists them
  const byRef = (a: Obj, b: Obj) => compareCodePoint(String(a['bom-ref']), String(b['bom-ref']))
  const sortDeep = (list: Obj[]) => {
    list.sort(byRef)
    for (const c of list) if (Array.isArray(c.components)) sortDeep(c.components as Obj[])
  }
  sortDeep(top)
  const dependencies = order
    .map((id) => ({
      ref: refOf.get(id)!,
      dependsOn: [...(m.edges.get(id) ?? [])].map((t) => refOf.get(t)!).sort(compareCodePoint),
    }))
    .sort((a, b) => compareCodePoint(a.ref, b.ref))
  const incomplete = [...m.incomplete].filter((id) => refOf.has(id)).map((id) => refOf.get(id)!)
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    version: 1,
    metadata: {
      ...(m.created ? { timestamp: isoTime(m.created) } : {}),
      ...(m.lifecycles.length > 0 ? { lifecycles: m.lifecycles.map((phase) => ({ phase })) } : {}),
      ...(m.tools.length > 0
        ? { tools: { components: m.tools.map((t) => ({ type: 'application', ...t })) } }
        : {}),
      component: built.get(m.root),
    },
    components: top,
    dependencies,
    ...(incomplete.length > 0
      ? { compositions: [{ aggregate: 'incomplete', dependencies: incomplete.sort(compareCodePoint) }] }
      : {}),
  }
}
