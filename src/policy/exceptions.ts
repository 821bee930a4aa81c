/**
 * Exceptions: from the policy and from VEX documents (OpenVEX, CycloneDX VEX), with expiry against an
 * injected clock. An expired or invalid exception no longer applies, and the result says so. VEX documents
 * are hostile input: a statement applies only to packages it names exactly (no wildcards, no missing
 * `affects`, no BOM-links to another SBOM), and obeys `exceptionRules` like every other exception.
 */
import { InputError } from '../errors.ts'
import type { SbomView } from './model.ts'
import { matchesPurl, parsePurl } from './purl.ts'
import type { Exception, ExceptionReport, InputFile, Policy } from './types.ts'

const DAY_MS = 86_400_000

/** The instant an exception stops applying: a bare date is valid through that day (UTC). */
export function expiryInstant(expires: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires)
    ? Date.parse(`${expires}T00:00:00Z`) + DAY_MS
    : Date.parse(expires)
}

export function fromPolicy(policy: Policy): Exception[] {
  return (policy.exceptions ?? []).map((e, i) => {
    const ex: Exception = {
      ref: `policy:exceptions[${i}]`,
      origin: 'policy',
      purls: e.purl ? [e.purl] : [],
      justification: e.justification,
    }
    if (e.vulnerability !== undefined) ex.vulnerability = e.vulnerability
    if (e.license !== undefined) ex.license = e.license
    if (e.rule !== undefined) ex.rule = e.rule
    if (e.statement !== undefined) ex.statement = e.statement
    if (e.expires !== undefined) ex.expires = e.expires
    if (e.approvedBy !== undefined) ex.approvedBy = e.approvedBy
    return ex
  })
}

const SUPPRESSING_CDX_STATES = new Set(['not_affected', 'false_positive'])
const CDX_STATES = new Set([
  'resolved',
  'resolved_with_pedigree',
  'exploitable',
  'in_triage',
  'false_positive',
  'not_affected',
])
const OPENVEX_STATUSES = new Set(['not_affected', 'affected', 'fixed', 'under_investigation'])

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** A VEX statement (or part of one) that was set aside, and why: reported as a warning, never applied. */
export interface VexNote {
  /** `<file>#statements[2]` or `<file>#vulnerabilities[0]` */
  ref: string
  message: string
}

export interface VexExceptions {
  exceptions: Exception[]
  notes: VexNote[]
}

/** What a VEX document is matched against: the SBOM being evaluated. */
export interface VexTarget {
  /** the SBOM's serialNumber without `urn:uuid:` (lower case), when it has one */
  serial: string | undefined
  /** the SBOM's version (CycloneDX default 1) */
  version: number
  /** bom-ref → purl of every component (and the root) */
  purlsByRef: ReadonlyMap<string, string>
  /** the project's purl */
  rootPurl: string | undefined
}

/** The VEX target of an SBOM view. */
export function vexTarget(sbom: SbomView): VexTarget {
  const serial = str(sbom.raw.serialNumber)
    ?.replace(/^urn:uuid:/i, '')
    .toLowerCase()
  const purlsByRef = new Map<string, string>()
  for (const c of [...(sbom.root ? [sbom.root] : []), ...sbom.components])
    if (c.bomRef && c.purl) purlsByRef.set(c.bomRef, c.purl)
  return {
    serial,
    version: typeof sbom.raw.version === 'number' ? sbom.raw.version : 1,
    purlsByRef,
    rootPurl: sbom.root?.purl,
  }
}

/**
 * A product or affects identifier usable as an exact package: a parseable purl without `*` (a VEX
 * statement names packages, it never carries patterns). Returns the purl or why it cannot be used.
 */
function exactPurl(id: string): { purl: string } | { why: string } {
  if (!id.startsWith('pkg:')) return { why: `${JSON.stringify(id)} is not a package URL` }
  if (id.includes('*'))
    return { why: `${JSON.stringify(id)} is a wildcard; VEX statements name packages exactly` }
  if (!parsePurl(id)) return { why: `${JSON.stringify(id)} is not a valid package URL` }
  return { purl: id }
}

/** OpenVEX product identifiers: a string, or an object's `@id` / `identifiers.purl`. */
function productIds(list: unknown): string[] {
  if (!Array.isArray(list)) return []
  const out: string[] = []
  for (const p of list) {
    if (typeof p === 'string') out.push(p)
    else if (isObject(p)) {
      const ids = p.identifiers
      const purl = isObject(ids) ? str(ids.purl) : undefined
      const id = str(p['@id'])
      // the purl identifier wins over an @id that is a URL or hash
      if (purl) out.push(purl)
      else if (id) out.push(id)
    }
  }
  return out
}

/**
 * VEX statements that suppress findings (`not_affected`, CycloneDX `false_positive`) as exceptions, and
 * notes for statements set aside (no products/affects, wildcards, BOM-links to another SBOM, …). An
 * unknown status or state is bad input (exit 2): a typo must not silently drop a statement.
 */
export function fromVex(doc: unknown, file: InputFile, target: VexTarget): VexExceptions {
  if (!isObject(doc)) throw vexError(file, 'not a JSON object')
  const context = str(doc['@context']) ?? ''
  if (context.includes('openvex') || Array.isArray(doc.statements)) return fromOpenVex(doc, file, target)
  if (doc.bomFormat === 'CycloneDX') return fromCycloneDxVex(doc, file, target)
  throw vexError(file, 'neither OpenVEX (`statements`) nor CycloneDX VEX (`bomFormat: CycloneDX`)')
}

function vexError(file: InputFile, why: string): InputError {
  return new InputError('POLICY_VEX_INVALID', `not a VEX document: ${why}`, { file: file.file })
}

function invalidAt(file: InputFile, at: string, why: string): InputError {
  return new InputError('POLICY_VEX_INVALID', `${at}: ${why}`, { file: file.file, details: { path: at } })
}

/** `detbuild:expires` / `detbuild:approvedBy` from CycloneDX properties or OpenVEX statement keys. */
function detbuildFields(ex: Exception, get: (name: string) => string | undefined): void {
  const expires = get('detbuild:expires')
  if (expires) ex.expires = expires
  const approvedBy = get('detbuild:approvedBy')
  if (approvedBy) ex.approvedBy = approvedBy
}

function fromOpenVex(doc: Record<string, unknown>, file: InputFile, target: VexTarget): VexExceptions {
  if (!Array.isArray(doc.statements)) throw vexError(file, '`statements` must be an array')
  const author = str(doc.author)
  const out: VexExceptions = { exceptions: [], notes: [] }
  const root = target.rootPurl ? parsePurl(target.rootPurl) : null
  for (const [i, s] of doc.statements.entries()) {
    const at = `statements[${i}]`
    const ref = `${file.file}#${at}`
    const note = (message: string) => out.notes.push({ ref, message })
    if (!isObject(s)) throw invalidAt(file, at, 'must be an object')
    const status = str(s.status)
    if (!status || !OPENVEX_STATUSES.has(status))
      throw invalidAt(
        file,
        `${at}.status`,
        `unknown status ${JSON.stringify(s.status ?? null)} (expected ${[...OPENVEX_STATUSES].join(', ')})`,
      )
    if (status !== 'not_affected') continue
    const v = s.vulnerability
    const vulnerability = typeof v === 'string' ? v : isObject(v) ? (str(v.name) ?? str(v['@id'])) : undefined
    if (!vulnerability) throw invalidAt(file, `${at}.vulnerability`, 'is missing')
    const justification = str(s.justification) ?? str(s.impact_statement)
    if (!justification) {
      note('ignored: not_affected needs a justification or an impact_statement')
      continue
    }

    const products = productIds(s.products)
    if (products.length === 0) {
      note('ignored: the statement names no products (never a wildcard)')
      continue
    }
    const subIds: string[] = []
    if (Array.isArray(s.products))
      for (const p of s.products) if (isObject(p)) subIds.push(...productIds(p.subcomponents))
    subIds.push(...productIds(s.subcomponents))
    // a statement about the project itself (same package, same version when given) covers its packages
    const aboutRoot =
      root !== null &&
      products.some((p) => {
        const pp = parsePurl(p)
        return pp !== null && pp.key === root.key && (pp.version === undefined || pp.version === root.version)
      })
    const purls: string[] = []
    for (const id of subIds.length > 0 ? subIds : aboutRoot ? [] : products) {
      const r = exactPurl(id)
      if ('purl' in r) purls.push(r.purl)
      else note(`product ${r.why}: ignored`)
    }
    if (purls.length === 0 && !(aboutRoot && subIds.length === 0)) {
      note('ignored: no product or subcomponent names a package of this SBOM exactly')
      continue
    }
    const ex: Exception = {
      ref,
      origin: 'openvex',
      vulnerability,
      purls,
      justification,
    }
    const statement = str(s.impact_statement) ?? str(s.status_notes)
    if (statement) ex.statement = statement
    if (author) ex.approvedBy = author
    detbuildFields(ex, (name) => str(s[name]))
    out.exceptions.push(ex)
  }
  return out
}

/** An `affects[].ref` → the purl of the SBOM component it names, or why it names none. */
function resolveAffects(ref: string, target: VexTarget): { purl: string } | { why: string } {
  let bomRef = ref
  if (ref.startsWith('urn:cdx:')) {
    // BOM-link: urn:cdx:<serial>/<version>#<bom-ref>
    const m = /^urn:cdx:([^/#]+)\/(\d+)#(.+)$/.exec(ref)
    if (!m) return { why: `${JSON.stringify(ref)} is not a BOM-link to a component` }
    if (target.serial === undefined)
      return { why: `${JSON.stringify(ref)} is a BOM-link, but the SBOM has no serialNumber to match` }
    if (m[1]!.toLowerCase() !== target.serial || Number(m[2]) !== target.version)
      return { why: `${JSON.stringify(ref)} is about another SBOM (serial ${m[1]} version ${m[2]})` }
    try {
      bomRef = decodeURIComponent(m[3]!)
    } catch {
      return { why: `${JSON.stringify(ref)} has a malformed bom-ref` }
    }
  }
  const purl = target.purlsByRef.get(bomRef)
  if (purl) return { purl }
  // a purl written as the ref: used exactly
  const r = exactPurl(bomRef)
  if ('purl' in r || bomRef.startsWith('pkg:')) return r
  return { why: `${JSON.stringify(ref)} names no component of the SBOM` }
}

function fromCycloneDxVex(doc: Record<string, unknown>, file: InputFile, target: VexTarget): VexExceptions {
  const out: VexExceptions = { exceptions: [], notes: [] }
  const vulns = doc.vulnerabilities
  if (vulns === undefined) return out
  if (!Array.isArray(vulns)) throw vexError(file, '`vulnerabilities` must be an array')
  for (const [i, v] of vulns.entries()) {
    const at = `vulnerabilities[${i}]`
    const ref = `${file.file}#${at}`
    const note = (message: string) => out.notes.push({ ref, message })
    if (!isObject(v)) throw invalidAt(file, at, 'must be an object')
    if (v.analysis === undefined) continue // a vulnerability listing, not a VEX statement
    if (!isObject(v.analysis)) throw invalidAt(file, `${at}.analysis`, 'must be an object')
    const analysis = v.analysis
    const state = str(analysis.state)
    if (analysis.state !== undefined && (!state || !CDX_STATES.has(state)))
      throw invalidAt(
        file,
        `${at}.analysis.state`,
        `unknown state ${JSON.stringify(analysis.state)} (expected ${[...CDX_STATES].join(', ')})`,
      )
    if (!state || !SUPPRESSING_CDX_STATES.has(state)) continue
    const id = str(v.id)
    if (!id) throw invalidAt(file, `${at}.id`, 'is missing')
    const affects = Array.isArray(v.affects) ? v.affects : []
    if (affects.length === 0) {
      note('ignored: no `affects` (a statement without one is never a wildcard)')
      continue
    }
    const purls: string[] = []
    affects.forEach((a, k) => {
      const r = isObject(a) && str(a.ref) ? resolveAffects(a.ref as string, target) : { why: 'has no ref' }
      if ('purl' in r) purls.push(r.purl)
      else note(`affects[${k}]: ${r.why}; ignored`)
    })
    if (purls.length === 0) {
      note('ignored: no `affects` ref names a component of this SBOM')
      continue
    }
    const ex: Exception = {
      ref,
      origin: 'cyclonedx-vex',
      vulnerability: id,
      purls,
      justification: str(analysis.justification) ?? state,
    }
    const detail = str(analysis.detail)
    if (detail) ex.statement = detail
    const props = Array.isArray(v.properties) ? v.properties.filter(isObject) : []
    detbuildFields(ex, (name) => str(props.find((p) => p.name === name)?.value))
    out.exceptions.push(ex)
  }
  return out
}

export interface ExceptionMatch {
  active?: Exception
  expired?: Exception
}

/** The exceptions in force at `now`, with usage counts for the report. */
export class ExceptionBook {
  readonly all: Exception[]
  private readonly status = new Map<string, { status: ExceptionReport['status']; note?: string }>()
  private readonly used = new Map<string, number>()

  constructor(exceptions: Exception[], policy: Policy, now: Date) {
    this.all = exceptions
    const rules = policy.exceptionRules ?? {}
    const t = now.getTime()
    for (const ex of exceptions) {
      let entry: { status: ExceptionReport['status']; note?: string } = { status: 'active' }
      const until = ex.expires !== undefined ? expiryInstant(ex.expires) : undefined
      if (until !== undefined && Number.isNaN(until))
        entry = { status: 'invalid', note: 'unreadable expiry date' }
      else if (until !== undefined && t >= until)
        entry = { status: 'expired', note: `expired on ${ex.expires}` }
      else if (rules.requireExpiry && ex.expires === undefined)
        entry = {
          status: 'invalid',
          note: 'the policy requires an expiry date (exceptionRules.requireExpiry)',
        }
      else if (rules.requireApprover && ex.approvedBy === undefined)
        entry = {
          status: 'invalid',
          note: 'the policy requires an approver (exceptionRules.requireApprover)',
        }
      else if (
        rules.maxDays !== undefined &&
        until !== undefined &&
        until - t > rules.maxDays * DAY_MS + DAY_MS
      )
        entry = {
          status: 'invalid',
          note: `expires more than ${rules.maxDays} days ahead (exceptionRules.maxDays)`,
        }
      this.status.set(ex.ref, entry)
    }
  }

  isActive(ex: Exception): boolean {
    return this.status.get(ex.ref)?.status === 'active'
  }

  note(ex: Exception): string | undefined {
    return this.status.get(ex.ref)?.note
  }

  use(ex: Exception): void {
    this.used.set(ex.ref, (this.used.get(ex.ref) ?? 0) + 1)
  }

  /** Exceptions about a rule or vulnerability that cover a violation; the first active one wins. */
  match(ruleId: string, v: { purl?: string; ids?: string[] }): ExceptionMatch {
    const out: ExceptionMatch = {}
    for (const ex of this.all) {
      if (ex.license !== undefined) continue // licence exceptions are applied by the licence rule
      if (ex.rule !== undefined && ex.rule !== ruleId && !ruleId.startsWith(`${ex.rule}.`)) continue
      if (ex.vulnerability !== undefined) {
        const want = ex.vulnerability.toUpperCase()
        if (!v.ids?.some((id) => id.toUpperCase() === want)) continue
      }
      if (ex.purls.length > 0 && (v.purl === undefined || !ex.purls.some((p) => matchesPurl(p, v.purl!))))
        continue
      if (this.isActive(ex)) {
        out.active = ex
        return out
      }
      out.expired ??= ex
    }
    return out
  }

  /** Licence exceptions (`license` + optional purl) that apply to a component. */
  licenseExceptions(purl: string | undefined): { active: Exception[]; expired: Exception[] } {
    const active: Exception[] = []
    const expired: Exception[] = []
    for (const ex of this.all) {
      if (ex.license === undefined) continue
      if (ex.purls.length > 0 && (purl === undefined || !ex.purls.some((p) => matchesPurl(p, purl)))) continue
      ;(this.isActive(ex) ? active : expired).push(ex)
    }
    return { active, expired }
  }

  report(): ExceptionReport[] {
    return this.all.map((ex) => {
      const s = this.status.get(ex.ref) ?? { status: 'active' as const }
      const r: ExceptionReport = {
        ref: ex.ref,
        origin: ex.origin,
        status: s.status,
        used: this.used.get(ex.ref) ?? 0,
        purls: ex.purls,
        justification: ex.justification,
      }
      if (ex.vulnerability !== undefined) r.vulnerability = ex.vulnerability
      if (ex.license !== undefined) r.license = ex.license
      if (ex.rule !== undefined) r.rule = ex.rule
      if (ex.expires !== undefined) r.expires = ex.expires
      if (ex.approvedBy !== undefined) r.approvedBy = ex.approvedBy
      if (s.note !== undefined) r.note = s.note
      return r
    })
  }
}
