/**
 * SBOM profiles: the elements of a published minimum-elements list, each with the CycloneDX fields that
 * carry it, and the coverage of a CycloneDX SBOM against them (how many components have each element,
 * and which miss it). Pure: data in, data out. Used by the policy rules `sbom.cisa-2026.*` and
 * `sbom.bsi-tr-03183-2.*` (rules-profiles.ts) and by `detbuild sbom --score`.
 *
 * Sources (see docs/profiles.md):
 * - CISA, "Minimum Elements for a Software Bill of Materials (SBOM)". The element names are those of the
 *   public-comment draft of August 2025 (data fields: SBOM Author, Software Producer, Component Name,
 *   Component Version, Software Identifiers, Component Hash, License, Dependency Relationship, Tool Name,
 *   Timestamp, Generation Context; practices: Known Unknowns among others), plus the "SBOM author
 *   signature" and "SBOM version". "Data format name and version" is no rule: a document that is not
 *   CycloneDX of a known spec version is refused by the reader (POLICY_SBOM_INVALID, exit 2). The text of the final 2026 edition was
 *   not available to us: the citations name the element, not a section number.
 * - BSI TR-03183-2 v2.1.0 (2025-08-20), §5.2.1 (required SBOM fields), §5.2.2 (required component fields),
 *   and its CycloneDX mapping (Appendix 8.2): `bsi:component:*` properties, licence `acknowledgement`,
 *   the deployable's hash on the `distribution` external reference.
 */
import { type ComponentView, isObject, type Obj, type SbomView, str, toSbomView } from './model.ts'
import type { InputFile } from './types.ts'

export const PROFILE_NAMES = ['cisa-2026', 'bsi-tr-03183-2'] as const
export type ProfileName = (typeof PROFILE_NAMES)[number]

/** What an element needs, as an outcome: undefined when present, else what is missing. */
type Check<T> = (x: T, sbom: SbomView) => string | undefined

export interface ProfileElement {
  /** the rule id's last part */
  id: string
  /** the element's name as the document writes it */
  name: string
  /** where the document defines it */
  cite: string
  scope: 'document' | 'component'
  /** document elements get the SBOM, component elements one component */
  check: Check<SbomView> | Check<ComponentView>
}

const props = (c: Obj) => (Array.isArray(c.properties) ? c.properties.filter(isObject) : [])
const prop = (c: Obj, name: string) => str(props(c).find((p) => p.name === name)?.value)
const list = (v: unknown) => (Array.isArray(v) ? v.filter(isObject) : [])
const entityName = (v: unknown) => (isObject(v) ? (str(v.name) ?? str(v.email) ?? str(v.url)) : undefined)
/** An entity that can be reached: a URL or a contact e-mail (BSI asks for one of them). */
const reachable = (v: unknown): boolean => {
  if (!isObject(v)) return false
  const urls = Array.isArray(v.url) ? v.url : [v.url]
  return (
    urls.some((u) => str(u) !== undefined) ||
    str(v.email) !== undefined ||
    list(v.contact).some((c) => str(c.email) !== undefined)
  )
}
/**
 * A Go module's go.sum `h1:` (property `detbuild:go:h1`): Go's dirhash "Hash1", SHA-256 over the module's
 * file list and digests — a named algorithm and a value pinning the whole module (as for `sbom.hashes`),
 * though no digest of one file, so it does not count as BSI's SHA-512 of the deployable.
 */
const GO_H1 = /^h1:[A-Za-z0-9+/]{43}=$/
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/

function metadataOf(sbom: SbomView): Obj {
  return isObject(sbom.raw.metadata) ? sbom.raw.metadata : {}
}

function toolsOf(metadata: Obj): Obj[] {
  const t = metadata.tools
  if (Array.isArray(t)) return t.filter(isObject)
  if (isObject(t)) return [...list(t.components), ...list(t.services)]
  return []
}

function specAtLeast(sbom: SbomView, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)$/.exec(sbom.specVersion ?? '')
  if (!m) return false
  const [a, b] = [Number(m[1]), Number(m[2])]
  return a > major || (a === major && b >= minor)
}

/** Component refs whose dependency list a `compositions` entry states complete, incomplete or unknown. */
const statedCache = new WeakMap<SbomView, Set<string>>()
function statedRefs(sbom: SbomView): Set<string> {
  let s = statedCache.get(sbom)
  if (!s) {
    s = new Set()
    for (const c of list(sbom.raw.compositions)) {
      if (!str(c.aggregate)) continue
      for (const d of Array.isArray(c.dependencies) ? c.dependencies : [])
        if (typeof d === 'string') s.add(d)
        else if (isObject(d) && str(d.ref)) s.add(d.ref as string)
    }
    statedCache.set(sbom, s)
  }
  return s
}

const inGraphCache = new WeakMap<SbomView, Set<string>>()
function inGraph(sbom: SbomView): Set<string> {
  let s = inGraphCache.get(sbom)
  if (!s) {
    s = new Set()
    for (const e of sbom.dependencies ?? []) {
      s.add(e.ref)
      for (const r of e.dependsOn) s.add(r)
    }
    inGraphCache.set(sbom, s)
  }
  return s
}

function producerOf(c: Obj): string | undefined {
  return (
    entityName(c.supplier) ??
    entityName(c.manufacturer) ??
    str(c.publisher) ??
    str(c.author) ??
    list(c.authors)
      .map(entityName)
      .find((x) => x !== undefined)
  )
}

function hasLicence(c: Obj, acknowledgement?: 'declared' | 'concluded'): boolean {
  return list(c.licenses).some((l) => {
    const ack = str(l.acknowledgement) ?? (isObject(l.license) ? str(l.license.acknowledgement) : undefined)
    if (acknowledgement === 'concluded' && ack !== 'concluded') return false
    // without an acknowledgement (CycloneDX < 1.6) a licence is what the component declares
    if (acknowledgement === 'declared' && ack !== undefined && ack !== 'declared') return false
    if (str(l.expression)) return true
    return isObject(l.license) && (str(l.license.id) ?? str(l.license.name)) !== undefined
  })
}

function distribution(c: Obj): Obj[] {
  return list(c.externalReferences).filter((r) => r.type === 'distribution')
}

const dependencyCheck = (c: ComponentView, sbom: SbomView): string | undefined => {
  if (!sbom.dependencies) return 'the SBOM has no dependencies section'
  if (!c.bomRef || !inGraph(sbom).has(c.bomRef)) return 'is in no dependency relationship'
  return undefined
}

const completenessCheck = (c: ComponentView, sbom: SbomView): string | undefined =>
  c.bomRef && statedRefs(sbom).has(c.bomRef)
    ? undefined
    : 'no completeness statement for its dependencies (compositions: complete, incomplete or unknown)'

const CISA = 'CISA Minimum Elements for an SBOM (2026)'
const BSI = 'BSI TR-03183-2 v2.1.0'

const CISA_ELEMENTS: ProfileElement[] = [
  {
    id: 'sbom-author',
    name: 'SBOM Author',
    cite: CISA,
    scope: 'document',
    check: (sbom: SbomView) => {
      const m = metadataOf(sbom)
      const a =
        list(m.authors)
          .map(entityName)
          .find((x) => x) ??
        entityName(m.manufacturer) ??
        entityName(m.manufacture)
      return a ? undefined : 'metadata names no author (metadata.authors or metadata.manufacturer)'
    },
  },
  {
    id: 'sbom-author-signature',
    name: 'SBOM Author Signature',
    cite: `${CISA} (as listed in detbuild issue 17; the draft text was not available)`,
    scope: 'document',
    check: (sbom: SbomView) =>
      isObject(sbom.raw.signature)
        ? undefined
        : 'the SBOM carries no signature (CycloneDX `signature`); a detached signature is checked by signing.artifacts',
  },
  {
    id: 'timestamp',
    name: 'Timestamp',
    cite: CISA,
    scope: 'document',
    check: (sbom: SbomView) => {
      const t = str(metadataOf(sbom).timestamp)
      if (!t) return 'metadata.timestamp is missing'
      return ISO_8601.test(t) && !Number.isNaN(Date.parse(t)) ? undefined : `not an ISO 8601 timestamp: ${t}`
    },
  },
  {
    id: 'tool-name',
    name: 'Tool Name',
    cite: CISA,
    scope: 'document',
    check: (sbom: SbomView) => {
      const tools = toolsOf(metadataOf(sbom))
      if (!tools.some((t) => str(t.name))) return 'metadata.tools names no tool'
      return tools.some((t) => str(t.name) && str(t.version)) ? undefined : 'no tool names its version'
    },
  },
  {
    id: 'generation-context',
    name: 'Generation Context',
    cite: CISA,
    scope: 'document',
    check: (sbom: SbomView) =>
      list(metadataOf(sbom).lifecycles).some((l) => str(l.phase) ?? str(l.name))
        ? undefined
        : `metadata.lifecycles states no phase (pre-build, build, post-build…)${specAtLeast(sbom, 1, 5) ? '' : '; CycloneDX < 1.5 cannot express it'}`,
  },
  {
    id: 'sbom-version',
    name: 'SBOM version',
    cite: `${CISA} (Accommodation of Updates to SBOM Data)`,
    scope: 'document',
    check: (sbom: SbomView) =>
      Number.isInteger(sbom.raw.version) && str(sbom.raw.serialNumber)
        ? undefined
        : 'serialNumber or version missing',
  },
  {
    id: 'software-producer',
    name: 'Software Producer',
    cite: CISA,
    scope: 'component',
    check: (c: ComponentView) =>
      producerOf(c.raw)
        ? undefined
        : prop(c.raw, 'detbuild:supplier') === 'unknown'
          ? 'no software producer (marked unknown)'
          : 'no software producer (supplier, manufacturer, publisher or author)',
  },
  {
    id: 'component-name',
    name: 'Component Name',
    cite: CISA,
    scope: 'component',
    check: (c: ComponentView) => (c.name ? undefined : 'no name'),
  },
  {
    id: 'component-version',
    name: 'Component Version',
    cite: CISA,
    scope: 'component',
    check: (c: ComponentView) => (c.version ? undefined : 'no version'),
  },
  {
    id: 'software-identifiers',
    name: 'Software Identifiers',
    cite: CISA,
    scope: 'component',
    check: (c: ComponentView) =>
      str(c.raw.purl) || str(c.raw.cpe) || list(c.raw.omniborId).length > 0 || Array.isArray(c.raw.swhid)
        ? undefined
        : isObject(c.raw.swid) && str(c.raw.swid.tagId)
          ? undefined
          : 'no software identifier (purl, CPE, SWID, OmniBOR or SWHID)',
  },
  {
    id: 'component-hash',
    name: 'Component Hash',
    cite: CISA,
    scope: 'component',
    check: (c: ComponentView) =>
      [...list(c.raw.hashes), ...distribution(c.raw).flatMap((r) => list(r.hashes))].some(
        (h) => str(h.alg) && str(h.content),
      ) || GO_H1.test(prop(c.raw, 'detbuild:go:h1') ?? '')
        ? undefined
        : 'no hash (algorithm and value)',
  },
  {
    id: 'license',
    name: 'License',
    cite: CISA,
    scope: 'component',
    check: (c: ComponentView) => (hasLicence(c.raw) ? undefined : 'no licence'),
  },
  {
    id: 'dependency-relationship',
    name: 'Dependency Relationship',
    cite: CISA,
    scope: 'component',
    check: dependencyCheck,
  },
  {
    id: 'known-unknowns',
    name: 'Known Unknowns',
    cite: CISA,
    scope: 'component',
    check: completenessCheck,
  },
]

const bsiProp =
  (name: string, what: string) =>
  (c: ComponentView): string | undefined =>
    prop(c.raw, name) ? undefined : `no ${what} (property ${name})`

const BSI_ELEMENTS: ProfileElement[] = [
  {
    id: 'format',
    name: 'SBOM format: CycloneDX 1.6 or later, or SPDX 3.0.1 or later',
    cite: `${BSI} §4`,
    scope: 'document',
    check: (sbom: SbomView) =>
      specAtLeast(sbom, 1, 6) ? undefined : `CycloneDX ${sbom.specVersion ?? '?'} is older than 1.6`,
  },
  {
    id: 'creator',
    name: 'Creator of the SBOM',
    cite: `${BSI} §5.2.1`,
    scope: 'document',
    check: (sbom: SbomView) => {
      const m = metadataOf(sbom)
      return reachable(m.manufacturer) || list(m.authors).some(reachable)
        ? undefined
        : 'metadata names no creator with a URL or e-mail (metadata.manufacturer or metadata.authors)'
    },
  },
  {
    id: 'timestamp',
    name: 'Timestamp',
    cite: `${BSI} §5.2.1`,
    scope: 'document',
    check: (sbom: SbomView) => {
      const t = str(metadataOf(sbom).timestamp)
      return t && ISO_8601.test(t) ? undefined : 'metadata.timestamp is missing or not RFC 3339'
    },
  },
  {
    id: 'sbom-uri',
    name: 'SBOM-URI',
    cite: `${BSI} §5.2.1`,
    scope: 'document',
    check: (sbom: SbomView) => (str(sbom.raw.serialNumber) ? undefined : 'no serialNumber'),
  },
  {
    id: 'component-creator',
    name: 'Component creator',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      reachable(c.raw.manufacturer) || reachable(c.raw.supplier) || list(c.raw.authors).some(reachable)
        ? undefined
        : 'no component creator with a URL or e-mail (manufacturer, supplier or authors)',
  },
  {
    id: 'component-name',
    name: 'Component name',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) => (c.name ? undefined : 'no name'),
  },
  {
    id: 'component-version',
    name: 'Component version',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) => (c.version ? undefined : 'no version'),
  },
  {
    id: 'filename',
    name: 'Filename of the component',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: bsiProp('bsi:component:filename', 'filename'),
  },
  {
    id: 'dependencies',
    name: 'Dependencies on other components',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView, sbom: SbomView) => dependencyCheck(c, sbom) ?? completenessCheck(c, sbom),
  },
  {
    id: 'distribution-licences',
    name: 'Distribution licences',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      hasLicence(c.raw, 'concluded')
        ? undefined
        : 'no distribution licence (licence acknowledgement "concluded")',
  },
  {
    id: 'original-licences',
    name: 'Original licences',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      hasLicence(c.raw, 'declared') ? undefined : 'no original (declared) licence',
  },
  {
    id: 'hash',
    name: 'Hash value of the deployable component',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      // the mapping puts it on the distribution reference; a component's own SHA-512 is the digest of the
      // component itself (npm: the tarball's, from the lockfile's integrity) and counts as well
      [...distribution(c.raw).flatMap((r) => list(r.hashes)), ...list(c.raw.hashes)].some(
        (h) => h.alg === 'SHA-512' && str(h.content),
      )
        ? undefined
        : 'no SHA-512 hash',
  },
  {
    id: 'deployable-uri',
    name: 'URI of the deployable form of the component',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      distribution(c.raw).some((r) => str(r.url)) ? undefined : 'no distribution URL',
  },
  {
    id: 'source-code-uri',
    name: 'Source code URI',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      list(c.raw.externalReferences).some((r) => r.type === 'source-distribution' && str(r.url))
        ? undefined
        : 'no source code URI (externalReferences type "source-distribution")',
  },
  {
    id: 'identifiers',
    name: 'Other unique identifiers',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: (c: ComponentView) =>
      str(c.raw.purl) || str(c.raw.cpe) || (isObject(c.raw.swid) && str(c.raw.swid.tagId))
        ? undefined
        : 'no purl, CPE or SWID',
  },
  {
    id: 'executable',
    name: 'Executable property',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: bsiProp('bsi:component:executable', 'executable property'),
  },
  {
    id: 'archive',
    name: 'Archive property',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: bsiProp('bsi:component:archive', 'archive property'),
  },
  {
    id: 'structured',
    name: 'Structured property',
    cite: `${BSI} §5.2.2`,
    scope: 'component',
    check: bsiProp('bsi:component:structured', 'structured property'),
  },
]

export const PROFILES: Record<ProfileName, readonly ProfileElement[]> = {
  'cisa-2026': CISA_ELEMENTS,
  'bsi-tr-03183-2': BSI_ELEMENTS,
}

/** One element's outcome over the SBOM. */
export interface ElementScore {
  id: string
  name: string
  cite: string
  scope: 'document' | 'component'
  /** components (or 1 for the document) checked, and those having the element */
  checked: number
  present: number
  /** what misses it: a component's label, or `SBOM` for the document, with what is missing */
  missing: Array<{ subject: string; purl?: string; detail: string }>
}

export interface ProfileScore {
  profile: ProfileName
  /** components checked (the root and, unless includeDev, dev-only components left out) */
  components: number
  /** elements every checked subject has, out of all elements */
  complete: number
  elements: ElementScore[]
}

export interface ScoreOptions {
  /** count dev-only components (`scope: excluded`); default false: they are not shipped */
  includeDev?: boolean
  /** only these elements (ids); default every one of the profile */
  elements?: readonly string[]
}

/** The components a profile's component elements are checked on. */
function subjects(sbom: SbomView, includeDev: boolean): ComponentView[] {
  return includeDev ? sbom.components : sbom.components.filter((c) => !c.dev)
}

/** A profile's coverage of one SBOM (pure). */
export function scoreProfile(sbom: SbomView, profile: ProfileName, options: ScoreOptions = {}): ProfileScore {
  const comps = subjects(sbom, options.includeDev === true)
  const elements = PROFILES[profile]
    .filter((e) => options.elements === undefined || options.elements.includes(e.id))
    .map((e): ElementScore => {
      const missing: ElementScore['missing'] = []
      if (e.scope === 'document') {
        const why = (e.check as Check<SbomView>)(sbom, sbom)
        if (why) missing.push({ subject: 'SBOM', detail: why })
        return {
          id: e.id,
          name: e.name,
          cite: e.cite,
          scope: e.scope,
          checked: 1,
          present: why ? 0 : 1,
          missing,
        }
      }
      for (const c of comps) {
        const why = (e.check as Check<ComponentView>)(c, sbom)
        if (why) missing.push({ subject: c.label, ...(c.purl ? { purl: c.purl } : {}), detail: why })
      }
      return {
        id: e.id,
        name: e.name,
        cite: e.cite,
        scope: e.scope,
        checked: comps.length,
        present: comps.length - missing.length,
        missing,
      }
    })
  return {
    profile,
    components: comps.length,
    complete: elements.filter((e) => e.missing.length === 0).length,
    elements,
  }
}

/** "1,203/1,277 components" */
export function coverageText(e: Pick<ElementScore, 'present' | 'checked' | 'scope'>): string {
  const n = (x: number) => x.toLocaleString('en-US')
  return e.scope === 'document'
    ? e.present === 1
      ? 'present'
      : 'missing'
    : `${n(e.present)}/${n(e.checked)} component${e.checked === 1 ? '' : 's'}`
}

/** A score without the per-component lists: what policy.json's `coverage` and sbom-score.json hold. */
export function coverageSummary(score: ProfileScore): Record<string, unknown> {
  return {
    profile: score.profile,
    components: score.components,
    complete: score.complete,
    elements: score.elements.length,
    coverage: score.elements.map((e) => ({
      element: e.id,
      name: e.name,
      cite: e.cite,
      checked: e.checked,
      present: e.present,
      text: coverageText(e),
    })),
  }
}

/** The text `sbom --score` prints: one block per profile, one line per element. */
export function scoreText(scores: readonly ProfileScore[]): string {
  const lines: string[] = []
  for (const s of scores) {
    lines.push(
      `${s.profile}: ${s.complete}/${s.elements.length} elements complete over ${s.components.toLocaleString('en-US')} components`,
    )
    const width = Math.max(...s.elements.map((e) => e.id.length))
    for (const e of s.elements)
      lines.push(`  ${e.missing.length === 0 ? 'ok  ' : 'MISS'}  ${e.id.padEnd(width)}  ${coverageText(e)}`)
  }
  return `${lines.join('\n')}\n`
}

/** Every shipped profile's coverage of a CycloneDX SBOM (`detbuild sbom --score`); throws InputError on a non-SBOM. */
export function scoreSbom(data: unknown, file: InputFile, options: ScoreOptions = {}): ProfileScore[] {
  const view = toSbomView(data, file)
  return PROFILE_NAMES.map((p) => scoreProfile(view, p, options))
}

/**
 * `sbom-score.json`: the coverage of every profile and, per element, what misses it (components by
 * purl or label, or `SBOM`). Sorted keys when written (stableJson); the lists keep the SBOM's order.
 */
export function scoreDocument(scores: readonly ProfileScore[], sbom: InputFile): Record<string, unknown> {
  return {
    schemaVersion: 1,
    sbom,
    profiles: scores.map((s) => ({
      ...coverageSummary(s),
      missing: Object.fromEntries(
        s.elements
          .filter((e) => e.missing.length > 0)
          .map((e) => [e.id, e.missing.map((m) => `${m.subject}: ${m.detail}`)]),
      ),
    })),
  }
}
