/** Licence rules: allow/deny lists on whole SPDX expressions, and components without a usable licence. */
import { compareCodePoint } from '../util/sort.ts'
import type { RuleContext } from './context.ts'
import { type ComponentView, isObject, str } from './model.ts'
import { draft, type RuleDraft } from './rule.ts'
import { judgeLicense, parseSpdx } from './spdx.ts'

export type LicenseReading =
  | { known: true; expression: string; source: string }
  | { known: false; reason: string; raw?: string }

const NO_ASSERTION = new Set(['NOASSERTION', 'NONE', 'UNKNOWN', 'UNLICENSED'])

/**
 * The licence of a CycloneDX component as one SPDX expression: `licenses[].expression`, `.license.id`, or
 * `.license.name` when it happens to be valid SPDX. Several entries are combined with AND (fail closed).
 */
export function readLicense(c: ComponentView): LicenseReading {
  const list = Array.isArray(c.raw.licenses) ? c.raw.licenses.filter(isObject) : []
  if (list.length === 0) return { known: false, reason: 'no licence' }
  const parts: string[] = []
  const sources: string[] = []
  for (const entry of list) {
    const expression = str(entry.expression)
    const license = isObject(entry.license) ? entry.license : undefined
    const id = str(license?.id)
    const name = str(license?.name)
    const value = expression ?? id ?? name
    if (value === undefined) return { known: false, reason: 'a licence entry without id, name or expression' }
    if (NO_ASSERTION.has(value.trim().toUpperCase()))
      return { known: false, reason: `licence is ${value}`, raw: value }
    const parsed = parseSpdx(value)
    if (!parsed.ok)
      return { known: false, reason: `not an SPDX expression: ${JSON.stringify(value)}`, raw: value }
    parts.push(list.length > 1 && parsed.branches.length > 1 ? `(${value})` : value)
    sources.push(expression ? 'expression' : id ? 'license.id' : 'license.name')
  }
  return { known: true, expression: parts.join(' AND '), source: [...new Set(sources)].join(', ') }
}

export function licenseRules(ctx: RuleContext): RuleDraft[] {
  const p = ctx.policy.licenses
  if (!p) return []
  const allow = p.allow ?? []
  const deny = p.deny ?? []
  const unknownMode = p.unknown ?? 'warn'
  const listed = allow.length > 0 || deny.length > 0
  const allowed = listed
    ? draft('licenses.allowed', 'Licences are allowed by the policy', p.level)
    : undefined
  const known =
    unknownMode === 'allow'
      ? undefined
      : draft('licenses.known', 'Every component has an SPDX licence', unknownMode)
  let checked = 0
  let skippedDev = 0
  const byLicense = new Map<string, number>()
  for (const c of ctx.sbom.components) {
    if (c.dev && !p.includeDev) {
      skippedDev++
      continue
    }
    checked++
    const reading = readLicense(c)
    if (!reading.known) {
      byLicense.set('(unknown)', (byLicense.get('(unknown)') ?? 0) + 1)
      known?.violations.push({
        message: `${c.label}: ${reading.reason}`,
        ...(c.purl ? { purl: c.purl } : { component: c.label }),
        reason: reading.reason,
      })
      continue
    }
    byLicense.set(reading.expression, (byLicense.get(reading.expression) ?? 0) + 1)
    if (!allowed) continue
    const parsed = parseSpdx(reading.expression)
    if (!parsed.ok) continue // readLicense only returns parseable expressions
    const plain = judgeLicense(parsed, allow, deny)
    if (plain.allowed) continue
    const ex = ctx.book.licenseExceptions(c.purl)
    const accepted = ex.active.map((e) => e.license!)
    const judged = accepted.length > 0 ? judgeLicense(parsed, allow, deny, accepted) : plain
    const base = {
      ...(c.purl ? { purl: c.purl } : { component: c.label }),
      license: reading.expression,
      denied: plain.denied,
      notAllowed: plain.notAllowed,
    }
    if (judged.allowed) {
      const used = ex.active.filter((e) => judged.branch?.includes(e.license!) ?? false)
      const first = used[0] ?? ex.active[0]!
      ctx.book.use(first)
      allowed.excepted.push({ ...base, message: `${c.label}: ${reading.expression}`, exception: first.ref })
      continue
    }
    const why =
      plain.denied.length > 0
        ? `denied ${plain.denied.join(', ')}`
        : `not allowed ${plain.notAllowed.join(', ')}`
    allowed.violations.push({
      ...base,
      message: `${c.label}: ${reading.expression} (${why})`,
      ...(ex.expired.length > 0
        ? {
            expiredException: ex.expired
              .map((e) => `${e.ref} (${ctx.book.note(e) ?? 'not in force'})`)
              .join('; '),
          }
        : {}),
    })
  }
  const summary = `${checked} component${checked === 1 ? '' : 's'} checked${skippedDev ? `, ${skippedDev} dev-only skipped` : ''}`
  const licenses = Object.fromEntries([...byLicense.entries()].sort((a, b) => compareCodePoint(a[0], b[0])))
  const out: RuleDraft[] = []
  if (allowed) {
    allowed.passSummary = summary
    allowed.evidence = { checked, skippedDev, allow, deny, licenses }
    out.push(allowed)
  }
  if (known) {
    known.passSummary = summary
    known.evidence = { checked, skippedDev }
    out.push(known)
  }
  return out
}
