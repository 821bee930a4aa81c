/** Result → text for the terminal and a markdown section for summaries. Pure. */
import { mdCode, mdText } from '../util/markdown.ts'
import type { PolicyResult, RuleResult, RuleStatus } from './types.ts'

const MAX_DETAILS = 20

function paint(color: boolean, status: RuleStatus, text: string): string {
  if (!color) return text
  const code = status === 'pass' ? '32' : status === 'fail' ? '31' : '33'
  return `\u001b[${code}m${text}\u001b[0m`
}

function truncate(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, width - 1)}…`
}

/** A readable table: one line per rule, then the violations of each rule that did not pass. */
export function toText(result: PolicyResult, options: { color?: boolean; warnOnly?: boolean } = {}): string {
  const color = options.color === true
  const lines: string[] = []
  lines.push(
    `policy ${result.policy.name} (${result.policy.source}, sha256:${result.policy.sha256.slice(0, 12)}) at ${result.evaluatedAt}`,
  )
  const idWidth = Math.max(4, ...result.rules.map((r) => r.id.length))
  lines.push('')
  lines.push(`STATUS  ${'RULE'.padEnd(idWidth)}  SUMMARY`)
  for (const r of result.rules) {
    lines.push(
      `${paint(color, r.status, r.status.toUpperCase().padEnd(6))}  ${r.id.padEnd(idWidth)}  ${truncate(r.summary, 100)}`,
    )
  }
  for (const r of result.rules.filter((x) => x.status !== 'pass')) {
    const details = violationsOf(r)
    if (details.length === 0) continue
    lines.push('', `${r.id}:`)
    for (const m of details.slice(0, MAX_DETAILS)) lines.push(`  - ${m}`)
    if (details.length > MAX_DETAILS)
      lines.push(`  … and ${details.length - MAX_DETAILS} more (see policy.json)`)
  }
  for (const c of coverageOf(result)) {
    lines.push('', `coverage ${c.profile}:`)
    for (const e of c.coverage) lines.push(`  ${e.element.padEnd(24)}  ${e.text}`)
  }
  const { pass, warn, fail } = result.counts
  lines.push(
    '',
    `verdict: ${paint(color, result.verdict, result.verdict.toUpperCase())} (${pass} passed, ${warn} warned, ${fail} failed)${
      options.warnOnly && result.verdict === 'fail' ? ' — not failing because of --warn-only' : ''
    }`,
  )
  return `${lines.join('\n')}\n`
}

interface CoverageView {
  profile: string
  coverage: Array<{ element: string; name: string; cite: string; text: string }>
}

/** policy.json's `coverage` (score.ts coverageSummary), as the renderers read it. */
function coverageOf(result: PolicyResult): CoverageView[] {
  return (result.coverage ?? []) as unknown as CoverageView[]
}

function violationsOf(r: RuleResult): string[] {
  const v = r.evidence.violations
  if (!Array.isArray(v)) return []
  return v.map((x) => {
    const o = x as { message?: unknown; expiredException?: unknown; code?: unknown }
    const code = typeof o.code === 'string' ? `[${o.code}] ` : ''
    return `${code}${String(o.message ?? '')}${o.expiredException ? ` [${String(o.expiredException)}]` : ''}`
  })
}

const ICON: Record<RuleStatus, string> = { pass: '✅ pass', warn: '⚠️ warn', fail: '❌ fail' }

// names, messages and notes come from the SBOM, the policy file, VEX documents and server texts: shown as
// text, never as markdown or HTML
const cell = mdText

/** A markdown section (GitHub-flavoured) for job summaries and evidence bundles. */
export function toMarkdown(result: PolicyResult): string {
  const out: string[] = []
  out.push(`## Policy: ${cell(result.policy.name)} — ${ICON[result.verdict]}`, '')
  out.push(
    `Policy \`${result.policy.source}\` (sha256 \`${result.policy.sha256}\`), evaluated at ${result.evaluatedAt}: ` +
      `${result.counts.pass} passed, ${result.counts.warn} warned, ${result.counts.fail} failed.`,
    '',
  )
  out.push('| Status | Rule | Summary |', '| --- | --- | --- |')
  for (const r of result.rules) out.push(`| ${ICON[r.status]} | \`${r.id}\` | ${cell(r.summary)} |`)
  const failing = result.rules.filter((r) => r.status !== 'pass' && violationsOf(r).length > 0)
  for (const r of failing) {
    const details = violationsOf(r)
    out.push('', `### \`${r.id}\` — ${cell(r.title)}`, '')
    for (const m of details.slice(0, MAX_DETAILS)) out.push(`- ${cell(m)}`)
    if (details.length > MAX_DETAILS)
      out.push(`- … and ${details.length - MAX_DETAILS} more (see policy.json)`)
  }
  for (const c of coverageOf(result)) {
    out.push(
      '',
      `### SBOM profile \`${c.profile}\`: coverage`,
      '',
      '| Element | Cited | Coverage |',
      '| --- | --- | --- |',
    )
    for (const e of c.coverage) out.push(`| ${cell(e.name)} | ${cell(e.cite)} | ${cell(e.text)} |`)
  }
  if (result.exceptions.length > 0) {
    out.push(
      '',
      '### Exceptions',
      '',
      '| Exception | About | Status | Used | Expires | Approved by |',
      '| --- | --- | --- | --- | --- | --- |',
    )
    for (const e of result.exceptions) {
      const about = e.vulnerability ?? e.license ?? e.rule ?? ''
      const where = e.purls.length > 0 ? ` in ${e.purls.join(', ')}` : ''
      out.push(
        `| ${mdCode(e.ref)} | ${cell(about + where)} | ${e.status}${e.note ? ` (${cell(e.note)})` : ''} | ${e.used} | ${e.expires ?? '—'} | ${cell(e.approvedBy ?? '—')} |`,
      )
    }
  }
  return `${out.join('\n')}\n`
}
