/** A rule in the making: violations are collected, exceptions applied, then a status is decided. */
import type { ExceptionBook } from './exceptions.ts'
import type { ExceptedViolation, Level, RuleResult, Violation } from './types.ts'

export interface RuleDraft {
  id: string
  title: string
  level: Level
  /** the input is missing: `warn` unless required, then `fail` */
  notEvaluated?: { reason: string; required: boolean }
  violations: Violation[]
  /** violations the rule itself set aside (e.g. suppressed by the scan), already with a reason */
  excepted: ExceptedViolation[]
  /** what passing means, e.g. "12 components checked" */
  passSummary: string
  evidence: Record<string, unknown>
}

export function draft(id: string, title: string, level: Level | undefined, passSummary = ''): RuleDraft {
  return { id, title, level: level ?? 'fail', violations: [], excepted: [], passSummary, evidence: {} }
}

export function notEvaluated(d: RuleDraft, reason: string, required: boolean | undefined): RuleDraft {
  d.notEvaluated = { reason, required: required === true }
  return d
}

/** Applies rule and vulnerability exceptions, then decides the status. */
export function finalize(d: RuleDraft, book: ExceptionBook): RuleResult {
  if (d.notEvaluated) {
    return {
      id: d.id,
      title: d.title,
      status: d.notEvaluated.required ? 'fail' : 'warn',
      summary: `not evaluated: ${d.notEvaluated.reason}${d.notEvaluated.required ? ' (required by the policy)' : ''}`,
      evidence: { ...d.evidence, evaluated: false, reason: d.notEvaluated.reason },
    }
  }
  const remaining: Violation[] = []
  const excepted: ExceptedViolation[] = [...d.excepted]
  for (const v of d.violations) {
    const ids = Array.isArray(v.ids) ? (v.ids as string[]) : undefined
    const m = book.match(d.id, { ...(v.purl ? { purl: v.purl } : {}), ...(ids ? { ids } : {}) })
    if (m.active) {
      book.use(m.active)
      excepted.push({ ...v, exception: m.active.ref })
    } else if (m.expired) {
      remaining.push({
        ...v,
        expiredException: `${m.expired.ref} (${book.note(m.expired) ?? 'not in force'})`,
      })
    } else remaining.push(v)
  }
  const status = remaining.length > 0 ? d.level : 'pass'
  const exceptedNote = excepted.length > 0 ? `; ${excepted.length} excepted` : ''
  let summary: string
  if (remaining.length === 0) summary = `${d.passSummary || 'ok'}${exceptedNote}`
  else {
    const first = remaining[0]!.message
    summary = `${remaining.length} violation${remaining.length === 1 ? '' : 's'}: ${first}${remaining.length > 1 ? ', …' : ''}${exceptedNote}`
  }
  return {
    id: d.id,
    title: d.title,
    status,
    summary,
    evidence: { ...d.evidence, violations: remaining, excepted },
  }
}
