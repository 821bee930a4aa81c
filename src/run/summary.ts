/** Pure: a run report → the one summary printed at the end (plain text, no colours, no timestamps). */
import { plural } from '../util/plural.ts'
import { STEP_NAMES } from './steps.ts'
import type { RunFacts, RunReport, StepRecord } from './types.ts'

export const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low', 'none', 'unknown'] as const

const MARK: Record<StepRecord['status'], string> = {
  ok: 'ok',
  failed: 'FAIL',
  skipped: 'skip',
  'not-run': '-',
}

/** `critical 0, high 1, …` in severity order. */
export function toCountsLine(counts: Record<string, number>): string {
  return SEVERITY_ORDER.map((s) => `${s} ${counts[s] ?? 0}`).join(', ')
}

/** The signer of a list of signatures, once (they usually share one). */
export function signersOf(facts: NonNullable<RunFacts['sign']>): string[] {
  return [...new Set(facts.signatures.map((s) => s.signer))]
}

/** `workspace` is relative to the project; `rel` turns a workspace file into a project-relative path. */
function inWorkspace(report: RunReport, file: string): string {
  return report.workspace === '.' ? file : `${report.workspace}/${file}`
}

export function toSummaryText(report: RunReport): string {
  const lines: string[] = []
  const ran = report.steps.filter((s) => s.status !== 'not-run').length
  lines.push(
    report.failedStep === null
      ? `detbuild run: ${plural(ran, 'step')} done, exit 0`
      : `detbuild run: FAILED at ${report.failedStep} (exit ${report.exitCode})`,
  )
  const width = Math.max(...[...report.steps, ...report.notSelected].map((s) => s.name.length))
  // every step of the pipeline, in its order: the ones left out on purpose say why
  const left = new Map(report.notSelected.map((s) => [s.name, s.reason]))
  for (const name of STEP_NAMES) {
    const s = report.steps.find((r) => r.name === name)
    if (!s) {
      const reason = left.get(name)
      if (reason !== undefined)
        lines.push(`  ${MARK.skipped.padEnd(4)} ${name.padEnd(width)}  not selected: ${reason}`)
      continue
    }
    const code = s.error && s.status === 'failed' ? ` [${s.error.code}]` : ''
    lines.push(`  ${MARK[s.status].padEnd(4)} ${s.name.padEnd(width)}  ${s.detail}${code}`)
  }
  const f = report.facts
  if (f.build) {
    lines.push('artifacts:')
    for (const a of f.build.artifacts)
      lines.push(`  sha256:${a.sha256}  ${inWorkspace(report, a.path)} (${a.size} bytes)`)
  }
  if (f.sbom)
    lines.push(
      `sbom: ${inWorkspace(report, f.sbom.file)}: ${plural(f.sbom.components, 'component')}, ${plural(f.sbom.dependencyEdges, 'dependency edge')} (CycloneDX ${f.sbom.specVersion}${f.sbom.validated ? ', schema-valid' : ''})`,
    )
  if (f.scan) {
    lines.push(
      `findings: ${f.scan.open} open, ${f.scan.suppressed} suppressed (${toCountsLine(f.scan.counts)}) from ${f.scan.source}${
        f.scan.complete ? '' : `; INCOMPLETE: ${plural(f.scan.unchecked, 'package')} not checked`
      }`,
    )
  }
  if (f.policy) {
    const c = f.policy.counts
    lines.push(
      `policy: ${f.policy.name}: ${f.policy.verdict.toUpperCase()} (${c.pass ?? 0} passed, ${c.warn ?? 0} warned, ${c.fail ?? 0} failed)`,
    )
    for (const r of f.policy.rules.filter((x) => x.status === 'fail'))
      lines.push(`  fail ${r.id}: ${r.summary}`)
  }
  if (f.sign) {
    lines.push(`signatures: ${f.sign.signatures.length} (${f.sign.mode}, ${signersOf(f.sign).join('; ')})`)
    for (const s of f.sign.signatures)
      lines.push(`  ${inWorkspace(report, s.file)} (${s.kind} over ${s.subject})`)
  }
  if (f.evidence)
    lines.push(
      `evidence: ${inWorkspace(report, f.evidence.file)}${f.evidence.sha256 ? ` sha256:${f.evidence.sha256}` : ''}`,
    )
  if (f.verify) lines.push(`verify: ${f.verify.verified ? 'evidence verified' : 'evidence did NOT verify'}`)
  return `${lines.join('\n')}\n`
}
