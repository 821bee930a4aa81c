/**
 * Exceptions: from the policy and from VEX documents (OpenVEX, CycloneDX VEX), with expiry against an
 * injected clock. An expired or invalid exception no longer applies, and the result says so.
 */
import { InputError } from '../errors.ts'
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
const SUPPRESSING_OPENVEX_STATUS = new Set(['not_affected'])

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)

/** A BOM-link (`urn:cdx:…/1#pkg:npm/x@1`) or a plain bom-ref → the ref. */
function bomRefOf(ref: string): string {
  if (ref.startsWith('urn:cdx:')) {
    const hash = ref.indexOf('#')
    return hash >= 0 ? decodeURIComponent(ref.slice(hash + 1)) : ref
  }
  return ref
}

function productIds(list: unknown): string[] {
  if (!Array.isArray(list)) return []
  const out: string[] = []
  for (const p of list) {
    if (typeof p === 'string') out.push(p)
    else if (isObject(p)) {
      const id = str(p['@id'])
      if (id) out.push(id)
      const ids = p.identifiers
      if (isObject(ids) && str(ids.purl)) out.push(ids.purl as string)
    }
  }
  return out.filter((id) => id.startsWith('pkg:'))
}

/**
 * VEX statements that suppress findings (`not_affected`, CycloneDX `false_positive`) as exceptions.
 * `rootPurl` is the SBOM's project: an OpenVEX statement about the product itself covers every package in it.
 */
export function fromVex(doc: unknown, file: InputFile, rootPurl: string | undefined): Exception[] {
  if (!isObject(doc)) throw vexError(file, 'not a JSON object')
  const context = str(doc['@context']) ?? ''
  if (context.includes('openvex') || Array.isArray(doc.statements)) return fromOpenVex(doc, file, rootPurl)
  if (doc.bomFormat === 'CycloneDX') return fromCycloneDxVex(doc, file)
  throw vexError(file, 'neither OpenVEX (`statements`) nor CycloneDX VEX (`bomFormat: CycloneDX`)')
}

function vexError(file: InputFile, why: string): InputError {
  return new InputError('POLICY_VEX_INVALID', `not a VEX document: ${why}`, { file: file.file })
}

function fromOpenVex(
  doc: Record<string, unknown>,
  file: InputFile,
  rootPurl: string | undefined,
): Exception[] {
  if (!Array.isArray(doc.statements)) throw vexError(file, '`statements` must be an array')
  const author = str(doc.author)
  const out: Exception[] = []
  doc.statements.forEach((s, i) => {
    if (!isObject(s)) throw vexError(file, `statements[${i}] must be an object`)
    const status = str(s.status)
    if (!status || !SUPPRESSING_OPENVEX_STATUS.has(status)) return
    const v = s.vulnerability
    const vulnerability = typeof v === 'string' ? v : isObject(v) ? (str(v.name) ?? str(v['@id'])) : undefined
    if (!vulnerability) throw vexError(file, `statements[${i}].vulnerability is missing`)
    const products = productIds(s.products)
    const subs: string[] = []
    if (Array.isArray(s.products))
      for (const p of s.products) if (isObject(p)) subs.push(...productIds(p.subcomponents))
    subs.push(...productIds(s.subcomponents))
    // a statement about the product as a whole covers every package in it
    const rootKey = rootPurl ? parsePurl(rootPurl)?.key : undefined
    const aboutRoot = rootKey !== undefined && products.some((p) => parsePurl(p)?.key === rootKey)
    const purls = subs.length > 0 ? subs : aboutRoot ? [] : products
    if (purls.length === 0 && !aboutRoot) return
    const ex: Exception = {
      ref: `${file.file}#statements[${i}]`,
      origin: 'openvex',
      vulnerability,
      purls,
      justification: str(s.justification) ?? str(s.impact_statement) ?? 'not_affected',
    }
    const statement = str(s.impact_statement) ?? str(s.status_notes)
    if (statement) ex.statement = statement
    if (author) ex.approvedBy = author
    out.push(ex)
  })
  return out
}

function fromCycloneDxVex(doc: Record<string, unknown>, file: InputFile): Exception[] {
  const vulns = doc.vulnerabilities
  if (vulns === undefined) return []
  if (!Array.isArray(vulns)) throw vexError(file, '`vulnerabilities` must be an array')
  const out: Exception[] = []
  vulns.forEach((v, i) => {
    if (!isObject(v)) throw vexError(file, `vulnerabilities[${i}] must be an object`)
    const analysis = isObject(v.analysis) ? v.analysis : {}
    const state = str(analysis.state)
    if (!state || !SUPPRESSING_CDX_STATES.has(state)) return
    const id = str(v.id)
    if (!id) throw vexError(file, `vulnerabilities[${i}].id is missing`)
    const purls: string[] = []
    if (Array.isArray(v.affects))
      for (const a of v.affects) if (isObject(a) && str(a.ref)) purls.push(bomRefOf(a.ref as string))
    const ex: Exception = {
      ref: `${file.file}#vulnerabilities[${i}]`,
      origin: 'cyclonedx-vex',
      vulnerability: id,
      purls: purls.filter((p) => p.startsWith('pkg:')),
      justification: str(analysis.justification) ?? state,
    }
    if (purls.length > 0 && ex.purls.length === 0) return // refs that are not purls cannot be matched safely
    const detail = str(analysis.detail)
    if (detail) ex.statement = detail
    if (Array.isArray(v.properties))
      for (const p of v.properties)
        if (isObject(p) && p.name === 'detbuild:expires' && str(p.value)) ex.expires = p.value as string
    out.push(ex)
  })
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
      else if (ex.origin === 'policy' && rules.requireExpiry && ex.expires === undefined)
        entry = {
          status: 'invalid',
          note: 'the policy requires an expiry date (exceptionRules.requireExpiry)',
        }
      else if (ex.origin === 'policy' && rules.requireApprover && ex.approvedBy === undefined)
        entry = {
          status: 'invalid',
          note: 'the policy requires an approver (exceptionRules.requireApprover)',
        }
      else if (
        ex.origin === 'policy' &&
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
