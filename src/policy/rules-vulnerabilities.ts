/** Vulnerability rules over vulns.json: maximum severity (direct/transitive, unfixed) and scan completeness. */

import type { RuleContext } from './context.ts'
import { expiryInstant } from './exceptions.ts'
import { draft, notEvaluated, type RuleDraft } from './rule.ts'
import { SEVERITIES, type Severity } from './types.ts'

const rank = (s: Severity): number => SEVERITIES.indexOf(s)

function toSeverity(value: string, unknownAs: Severity): Severity {
  return (SEVERITIES as readonly string[]).includes(value) ? (value as Severity) : unknownAs
}

export function vulnerabilityRules(ctx: RuleContext): RuleDraft[] {
  const p = ctx.policy.vulnerabilities
  if (!p) return []
  const max = p.maxSeverity ?? 'medium'
  const directMax = p.direct?.maxSeverity ?? max
  const transitiveMax = p.transitive?.maxSeverity ?? max
  const unknownAs = p.unknownSeverity ?? 'high'
  const sev = draft(
    'vulnerabilities.severity',
    `No vulnerabilities above ${directMax === transitiveMax ? max : `${directMax} (direct) / ${transitiveMax} (transitive)`}`,
    p.level,
  )
  const out = [sev]
  const incompleteLevel = p.incompleteScan ?? 'fail'
  const scan =
    incompleteLevel === 'ignore'
      ? undefined
      : draft('vulnerabilities.scan-complete', 'The scan covers every package of this SBOM', incompleteLevel)
  if (scan) out.push(scan)

  const vulns = ctx.vulns
  if (!vulns) {
    for (const d of out) notEvaluated(d, 'no vulns.json', p.required)
    return out
  }
  sev.evidence.maxSeverity = { direct: directMax, transitive: transitiveMax, unknownAs }
  let ignoredDev = 0
  let ignoredUnfixed = 0
  let checked = 0
  const now = ctx.now.getTime()
  for (const f of vulns.findings) {
    if (f.dev && !p.includeDev) {
      ignoredDev++
      continue
    }
    checked++
    const severity = toSeverity(f.severity, unknownAs)
    const limit = f.direct ? directMax : transitiveMax
    if (rank(severity) <= rank(limit)) continue
    if (f.fixed === null && p.countUnfixed === false) {
      ignoredUnfixed++
      continue
    }
    const v = {
      message: `${f.id} (${f.severity}) in ${f.purl ?? `${f.name}@${f.version}`}`,
      id: f.id,
      ids: [f.id, ...f.aliases],
      severity: f.severity,
      score: f.score,
      fixed: f.fixed,
      direct: f.direct,
      ...(f.purl ? { purl: f.purl } : {}),
      ...(f.summary ? { summary: f.summary } : {}),
    }
    const na = f.notAffected
    if (na && p.honorReachability !== false) {
      sev.excepted.push({ ...v, exception: `not affected (${na.justification}): ${na.detail}` })
      continue
    }
    const s = f.suppressed
    if (s && p.honorScanSuppressions !== false) {
      const until = s.until !== undefined ? expiryInstant(s.until) : undefined
      if (until === undefined || (!Number.isNaN(until) && now < until)) {
        sev.excepted.push({
          ...v,
          exception: `scan suppression (${s.source ?? 'scan'}): ${s.reason ?? 'no reason'}`,
        })
        continue
      }
      sev.violations.push({ ...v, expiredException: `scan suppression expired on ${s.until}` })
      continue
    }
    sev.violations.push(v)
  }
  sev.passSummary = `${checked} finding${checked === 1 ? '' : 's'} checked, none above the limit`
  sev.evidence.checked = checked
  sev.evidence.ignored = { dev: ignoredDev, unfixed: ignoredUnfixed }

  if (scan) {
    if (!vulns.complete) scan.violations.push({ message: 'the scan reports itself incomplete' })
    if (vulns.unchecked.length > 0)
      scan.violations.push({
        message: `${vulns.unchecked.length} package${vulns.unchecked.length === 1 ? ' was' : 's were'} not checked`,
        unchecked: vulns.unchecked,
      })
    if (vulns.sbomSha256 !== undefined && vulns.sbomSha256 !== ctx.sbom.file.sha256)
      scan.violations.push({
        message: 'vulns.json was produced from another SBOM',
        expected: ctx.sbom.file.sha256,
        found: vulns.sbomSha256,
      })
    scan.passSummary = 'complete, and for this SBOM'
  }
  return out
}
