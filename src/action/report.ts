/**
 * Pure: a run report → the job summary (markdown), the annotations and the step outputs. Every value
 * from the run (names, paths, finding texts, messages) is escaped: none of it becomes markup.
 */
import type { FindingFact, RunReport } from '../run/index.ts'
import { toAdviceText } from '../scan/index.ts'
import { mdCode, mdText } from '../util/markdown.ts'
import { plural } from '../util/plural.ts'
import { redactSecrets } from '../util/redact.ts'
import type { Annotation } from './workflow-commands.ts'

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'none', 'unknown'] as const
/** annotations per run are capped by GitHub (10 errors and 10 warnings per step are shown) */
export const MAX_FINDING_ANNOTATIONS = 10
export const MAX_FINDING_ROWS = 50

/** Untrusted text in the summary: names, paths, finding texts, messages. Redacted before escaping. */
export const cell = (value: string): string => mdText(redactSecrets(value))
const code = (value: string): string => mdCode(redactSecrets(value))

const ICON: Record<string, string> = { ok: '✅', failed: '❌', skipped: '⏭️', 'not-run': '⚪' }

/** `path` relative to the project → relative to the repository (the working directory's prefix). */
export interface ReportPaths {
  /** the workspace, relative to GITHUB_WORKSPACE when inside it, POSIX */
  workspace: string
}

export function toJobSummary(report: RunReport, paths: ReportPaths): string {
  const f = report.facts
  const ws = (file: string) => `${paths.workspace}/${file}`
  const out: string[] = []
  out.push(
    report.failedStep === null
      ? '## detbuild: ✅ all steps passed'
      : `## detbuild: ❌ ${cell(report.failedStep)} failed (exit ${report.exitCode})`,
    '',
    '| Step | Result | Details |',
    '| --- | --- | --- |',
  )
  for (const s of report.steps) {
    const why = s.status === 'failed' && s.error ? ` (${code(s.error.code)})` : ''
    out.push(`| ${cell(s.name)} | ${ICON[s.status]} ${cell(s.status)} | ${cell(s.detail)}${why} |`)
  }
  if (f.build) {
    out.push('', '### Build', '')
    out.push(
      `Build room: ${f.build.sealed ? 'sealed' : 'NOT sealed'} (${cell(f.build.mechanism)}); network: ${cell(f.build.network)}; reproducibility: ${
        f.build.reproducible === null
          ? 'not checked'
          : cell(f.build.verdict ?? (f.build.reproducible ? 'reproducible' : 'NOT reproducible'))
      }`,
      '',
      '| Artifact | Size | SHA-256 |',
      '| --- | ---: | --- |',
    )
    for (const a of f.build.artifacts) out.push(`| ${code(ws(a.path))} | ${a.size} | ${code(a.sha256)} |`)
  }
  if (f.sbom) {
    out.push(
      '',
      '### SBOM',
      '',
      `${code(ws(f.sbom.file))}: CycloneDX ${cell(f.sbom.specVersion)}, ${plural(f.sbom.components, 'component')}, ${plural(f.sbom.dependencyEdges, 'dependency edge')}${f.sbom.validated ? ', schema-valid' : ''}`,
    )
  }
  if (f.scan) {
    const s = f.scan
    out.push(
      '',
      '### Vulnerabilities',
      '',
      `Source: ${cell(s.source)}${s.failOn ? `; fail on: ${cell(s.failOn)}` : ''}`,
    )
    if (!s.complete)
      out.push(
        '',
        `> [!WARNING]\n> Incomplete scan: ${plural(s.unchecked, 'package')} ${s.unchecked === 1 ? 'was' : 'were'} not checked.`,
      )
    out.push(
      '',
      `| ${SEVERITIES.join(' | ')} | suppressed |`,
      `| ${SEVERITIES.map(() => '---:').join(' | ')} | ---: |`,
    )
    out.push(`| ${SEVERITIES.map((k) => s.counts[k] ?? 0).join(' | ')} | ${s.suppressed} |`)
    const open = s.findings.filter((x) => !x.suppressed)
    if (open.length > 0) {
      out.push(
        '',
        '| Severity | Package | Advisory | Fixed in | Upgrade | Summary |',
        '| --- | --- | --- | --- | --- | --- |',
      )
      // worst first, as the scan lists them
      for (const x of open.slice(0, MAX_FINDING_ROWS))
        out.push(
          `| ${cell(x.severity)} | ${code(`${x.name}@${x.version}`)}${x.dev ? ' (dev)' : ''} | ${cell(x.id)} | ${x.fixed ? cell(x.fixed) : 'no fix'} | ${cell(upgradeText(x) || '—')} | ${cell(x.summary)} |`,
        )
      if (open.length > MAX_FINDING_ROWS)
        out.push('', `…and ${open.length - MAX_FINDING_ROWS} more (see vulns.md).`)
    }
  }
  if (f.policy) {
    const p = f.policy
    const c = p.counts
    out.push(
      '',
      '### Policy',
      '',
      `**${cell(p.name)}: ${cell(p.verdict.toUpperCase())}** (${c.pass ?? 0} passed, ${c.warn ?? 0} warned, ${c.fail ?? 0} failed)`,
    )
    if (p.rules.length > 0) {
      out.push('', '| Rule | Status | Summary |', '| --- | --- | --- |')
      for (const r of p.rules) out.push(`| ${code(r.id)} | ${cell(r.status)} | ${cell(r.summary)} |`)
    }
  }
  if (f.sign) {
    out.push('', '### Signatures', '', '| Bundle | Kind | Subject | Signer |', '| --- | --- | --- | --- |')
    for (const s of f.sign.signatures)
      out.push(`| ${code(ws(s.file))} | ${cell(s.kind)} | ${code(s.subject)} | ${cell(s.signer)} |`)
  }
  if (f.evidence || f.verify) {
    out.push('', '### Evidence', '')
    if (f.evidence)
      out.push(
        `${code(ws(f.evidence.file))}${f.evidence.sha256 ? ` (sha256 ${code(f.evidence.sha256)})` : ''}`,
      )
    if (f.verify)
      out.push(
        '',
        f.verify.verified ? 'Verified with `detbuild verify --evidence`.' : '**Verification failed.**',
      )
  }
  return `${out.join('\n')}\n`
}

/** The direct dependencies to upgrade for a finding, in a few words (the scan's wording); '' when none is known. */
const upgradeText = (x: FindingFact): string => toAdviceText(x).replace(/^upgrade /, '')

/**
 * Error annotations for the failed step and failing rules; findings as errors (at/above fail-on) or
 * warnings, worst first, on the line of the package's entry in the lock file (`file`: from the
 * repository's top folder, as the runner and GitHub read an annotation's path).
 */
export function toAnnotations(report: RunReport): Annotation[] {
  const out: Annotation[] = []
  for (const s of report.steps)
    if (s.status === 'failed')
      out.push({
        level: 'error',
        title: `detbuild ${s.name} failed${s.error ? ` [${s.error.code}]` : ''}`,
        message: s.error?.message ?? s.detail,
        ...(s.error?.file ? { file: s.error.file } : {}),
      })
  const p = report.facts.policy
  if (p)
    for (const r of p.rules)
      out.push({
        level: r.status === 'fail' ? 'error' : 'warning',
        title: `policy ${r.id}`,
        message: r.summary,
      })
  const s = report.facts.scan
  if (s) {
    // worst first, as the scan lists them
    const open = s.findings.filter((x) => !x.suppressed)
    for (const x of open.slice(0, MAX_FINDING_ANNOTATIONS)) {
      const upgrade = upgradeText(x)
      out.push({
        level: x.failing ? 'error' : 'warning',
        title: `${x.severity} ${x.id} in ${x.name}@${x.version}`,
        message: `${x.summary}${x.fixed ? ` (fixed in ${x.fixed})` : ' (no fix yet)'}${upgrade ? `; upgrade ${upgrade}` : ''}`,
        ...(s.file ? { file: s.file } : {}),
        ...(typeof x.line === 'number' ? { line: x.line } : {}),
      })
    }
    if (open.length > MAX_FINDING_ANNOTATIONS)
      out.push({
        level: 'warning',
        title: 'more findings',
        message: `${plural(open.length - MAX_FINDING_ANNOTATIONS, 'more open finding')}: see the job summary and vulns.md`,
      })
  }
  return out
}
