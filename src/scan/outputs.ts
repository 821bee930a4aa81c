/**
 * Pure: the scan's output documents — SARIF 2.1.0, the markdown summary, the SBOM enriched with
 * CycloneDX `vulnerabilities`, and the in-toto statement with the vulnerability-scan predicate.
 */
import { mdCode, mdText } from '../util/markdown.ts'
import { plural } from '../util/plural.ts'
import { compareCodePoint } from '../util/sort.ts'
import { VERSION } from '../version.ts'
import { compareWorstFirst } from './findings.ts'
import type { Finding, Rating, Severity, Upgrade, VulnsReport } from './types.ts'

export function advisoryUrl(id: string): string {
  // ids come from the advisory source: encoded, so an id cannot change the URL's path or query
  const safe = encodeURIComponent(id)
  if (id.startsWith('GHSA-')) return `https://github.com/advisories/${safe}`
  if (id.startsWith('CVE-')) return `https://nvd.nist.gov/vuln/detail/${safe}`
  if (id.startsWith('GO-')) return `https://pkg.go.dev/vuln/${safe}`
  return `https://osv.dev/vulnerability/${safe}`
}

// ---------------------------------------------------------------- SARIF

const sarifLevel = (s: Severity): 'error' | 'warning' | 'note' =>
  s === 'critical' || s === 'high' ? 'error' : s === 'medium' || s === 'unknown' ? 'warning' : 'note'

/**
 * `security-severity` for a finding rated by a label only (no CVSS score, e.g. GitHub's
 * `database_specific.severity`): a value inside the band GitHub code scanning maps to that label
 * (docs "SARIF support for code scanning", reportingDescriptor `properties.security-severity`: over 9.0
 * critical, 7.0–8.9 high, 4.0–6.9 medium, 0.1–3.9 low) — about its middle, so no rounding moves it
 * across a border. `none` and `unknown` get none: GitHub reads 0.0 as "no security severity", and
 * detbuild does not invent a rating (an `unknown` result is still a `warning`).
 */
export const LabelSecuritySeverity: Readonly<Partial<Record<Severity, string>>> = {
  critical: '9.5',
  high: '8.0',
  medium: '5.5',
  low: '2.0',
}

/** The rule's `security-severity`: the CVSS score when there is one, else the label's band value. */
function securitySeverity(f: Finding): string | undefined {
  if (typeof f.score === 'number') return f.score > 0 ? f.score.toFixed(1) : undefined
  return LabelSecuritySeverity[f.severity]
}

/**
 * SARIF's base for every location: `%SRCROOT%`, the repository's top folder (git's top level; the
 * project folder outside git). Its own location is left out on purpose: it would be an absolute host path.
 * GitHub code scanning takes a relative URI as relative to the repository root.
 */
const SRCROOT = '%SRCROOT%'

/** How many unchecked packages get a notification of their own (every one is in vulns.json). */
const MAX_UNCHECKED_NOTIFICATIONS = 50

/** A repository-relative POSIX path as a relative URI reference: each segment percent-encoded. */
function toUriPath(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/')
}

/** The reason's leading `CODE:` (as uncheckedReasons write it), or null. */
function reasonCode(reason: string): string | null {
  return /^([A-Z][A-Z0-9_]+):/.exec(reason)?.[1] ?? null
}

/**
 * The run's invocation. An incomplete scan is an unsuccessful execution (SARIF 2.1.0 §3.20.14, and
 * Appendix "detecting incomplete result sets"), with an error notification saying what was not checked:
 * GitHub code scanning answers such an upload with an "unsuccessful execution" processing error and
 * keeps the open alerts, rather than closing every alert the missing results would have kept open.
 */
function toInvocation(report: VulnsReport): Record<string, unknown> {
  if (report.complete) return { executionSuccessful: true }
  const notifications: unknown[] = []
  if (report.source.problem)
    notifications.push({
      level: 'error',
      descriptor: { id: report.source.problem.code },
      message: { text: report.source.problem.message },
    })
  notifications.push({
    level: 'error',
    descriptor: { id: 'SCAN_INCOMPLETE' },
    message: {
      text: `INCOMPLETE: ${plural(report.unchecked.length, 'package')} could not be checked; the results cover only the packages that were: this is not a clean result.`,
    },
  })
  for (const u of report.unchecked.slice(0, MAX_UNCHECKED_NOTIFICATIONS)) {
    const reason = report.uncheckedReasons[u] ?? 'not checked'
    const code = reasonCode(reason)
    notifications.push({
      level: 'error',
      ...(code ? { descriptor: { id: code } } : {}),
      message: { text: `${u} was not checked: ${reason}` },
    })
  }
  if (report.unchecked.length > MAX_UNCHECKED_NOTIFICATIONS)
    notifications.push({
      level: 'error',
      descriptor: { id: 'SCAN_INCOMPLETE' },
      message: {
        text: `… and ${plural(report.unchecked.length - MAX_UNCHECKED_NOTIFICATIONS, 'more package', 'more packages')} not checked: every one is listed in vulns.json`,
      },
    })
  return { executionSuccessful: false, toolExecutionNotifications: notifications }
}

/**
 * SARIF 2.1.0 for code scanning. Locations are relative to `%SRCROOT%`, the repository's top folder
 * (`report.location.file`: `sub/package-lock.json` for a project in `sub/`); an incomplete scan is marked
 * as an unsuccessful execution (see {@link toInvocation}).
 */
export function toSarif(report: VulnsReport): unknown {
  const rules = new Map<string, unknown>()
  for (const f of report.findings) {
    if (rules.has(f.id)) continue
    rules.set(f.id, {
      id: f.id,
      name: f.id.replace(/[^A-Za-z0-9]/g, ''),
      shortDescription: { text: f.summary || f.id },
      fullDescription: {
        text:
          [f.summary, f.aliases.length ? `Aliases: ${f.aliases.join(', ')}` : '']
            .filter(Boolean)
            .join('. ') || f.id,
      },
      helpUri: advisoryUrl(f.id),
      help: {
        text: `${f.summary || f.id}. ${f.fixed ? `Fixed in ${f.fixed}.` : 'No fixed version is known.'} ${advisoryUrl(f.id)}`,
      },
      defaultConfiguration: { level: sarifLevel(f.severity) },
      properties: {
        tags: ['security', 'vulnerability', ...f.cwes],
        ...(securitySeverity(f) !== undefined ? { 'security-severity': securitySeverity(f) } : {}),
      },
    })
  }
  const uri = toUriPath(report.location.file)
  const results = [...report.findings].sort(compareWorstFirst).map((f) => {
    const line = f.line ?? null
    const advice = toAdviceText(f)
    return {
      ruleId: f.id,
      level: sarifLevel(f.severity),
      message: {
        text: `${f.name}@${f.version} is affected by ${f.id}${f.aliases.length ? ` (${f.aliases.join(', ')})` : ''}: ${f.summary}. Severity ${f.severity}${f.score !== null ? ` (${f.score})` : ''}. ${fixText(f)}${advice ? ` ${capitalize(advice)}.` : ''}`,
      },
      locations: [
        {
          physicalLocation: {
            artifactLocation: { uri, uriBaseId: SRCROOT },
            ...(line !== null ? { region: { startLine: line } } : {}),
          },
          logicalLocations: [{ name: f.purl, kind: 'package' }],
        },
      ],
      partialFingerprints: { 'detbuild/v1': `${f.id}:${f.purl}` },
      ...(f.suppressed
        ? {
            suppressions: [
              {
                kind: 'external',
                status: 'accepted',
                justification: `${f.suppressed.reason}${f.suppressed.until ? ` (until ${f.suppressed.until})` : ''}`,
              },
            ],
          }
        : f.analysis?.state === 'not_affected'
          ? {
              // Go reachability: the vulnerable code is not in the program (vulns.openvex.json)
              suppressions: [
                { kind: 'external', status: 'accepted', justification: `not affected: ${f.analysis.detail}` },
              ],
            }
          : {}),
    }
  })
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'detbuild',
            version: VERSION,
            informationUri: 'https://github.com/detbuild/detbuild',
            rules: [...rules.values()],
          },
        },
        originalUriBaseIds: {
          [SRCROOT]: {
            description: {
              text: 'The top folder of the git repository that holds the project (the project folder when it is in none).',
            },
          },
        },
        invocations: [toInvocation(report)],
        results,
        properties: { complete: report.complete, unchecked: report.unchecked },
      },
    ],
  }
}

const capitalize = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1)

/** How many direct dependencies the text advice names one by one (vulns.json has every one). */
const MAX_UPGRADES_SHOWN = 5

const majorWord = (m: boolean | null): string =>
  m === true ? 'MAJOR' : m === false ? 'not major' : 'major: unknown'

/** One direct dependency to upgrade, in a few words. */
function toUpgradeText(f: Pick<Finding, 'fixed'>, u: Upgrade): string {
  if (u.to !== null) return `${u.name} ${u.version} → ${u.to} (${majorWord(u.major)})`
  if (f.fixed === null) return `${u.name} ${u.version} (no fix known)`
  return u.major === false
    ? `${u.name} ${u.version} (npm update brings the fix; not major)`
    : `${u.name} ${u.version} (to a version that brings ${f.fixed}; major: unknown)`
}

/** The fix advice of a finding, in one line: the direct dependencies to upgrade; '' when none is known. */
export function toAdviceText(f: Pick<Finding, 'fixed' | 'upgrade'>): string {
  const list = f.upgrade ?? []
  if (list.length === 0) return ''
  const shown = list.slice(0, MAX_UPGRADES_SHOWN).map((u) => toUpgradeText(f, u))
  const more = list.length > MAX_UPGRADES_SHOWN ? `; and ${list.length - MAX_UPGRADES_SHOWN} more` : ''
  return `upgrade ${shown.join('; ')}${more}`
}

function fixText(f: Finding): string {
  if (!f.fixed) return 'No fixed version is known.'
  if (f.fixInRange === true) return `Fixed in ${f.fixed}, within the declared range: npm update fixes it.`
  if (f.fixInRange === false) return `Fixed in ${f.fixed}, outside the declared range: change the dependency.`
  return `Fixed in ${f.fixed}.`
}

// ---------------------------------------------------------------- markdown

// every text from a record, an SBOM or a server is untrusted: shown as text, never as markdown or HTML
const md = mdText

export function toMarkdown(report: VulnsReport): string {
  const lines: string[] = ['# Vulnerability scan', '']
  const src =
    report.source.kind === 'api'
      ? `OSV API (${md(report.source.url ?? '')})`
      : `offline OSV export ${mdCode(report.source.export ?? '')} (sha256 ${report.source.exportSha256?.slice(0, 12)}…)`
  lines.push(`- SBOM: ${mdCode(report.sbom.file)} (sha256 ${report.sbom.sha256.slice(0, 12)}…)`)
  lines.push(
    `- Source: ${src}; data as of ${report.source.lastUpdate ? mdCode(report.source.lastUpdate) : 'unknown'}`,
  )
  lines.push(`- Components checked: ${report.componentsChecked}`)
  if (report.source.problem)
    lines.push('', `> **${report.source.problem.code}** — ${md(report.source.problem.message)}`)
  if (!report.complete) {
    lines.push(
      '',
      `> **INCOMPLETE** — ${plural(report.unchecked.length, 'package')} ${report.unchecked.length === 1 ? 'was' : 'were'} not checked; this is not a clean result:`,
    )
    for (const u of report.unchecked)
      lines.push(`> - ${mdCode(u)}: ${md(report.uncheckedReasons[u] ?? 'not checked')}`)
  }
  lines.push(
    '',
    '| Critical | High | Medium | Low | None | Unknown | Suppressed |',
    '|---:|---:|---:|---:|---:|---:|---:|',
  )
  const c = report.counts
  lines.push(
    `| ${c.critical} | ${c.high} | ${c.medium} | ${c.low} | ${c.none} | ${c.unknown} | ${report.suppressedCount} |`,
  )
  lines.push('')
  if (report.findings.length === 0) {
    lines.push(
      report.complete ? 'No known vulnerabilities.' : 'No findings among the packages that were checked.',
    )
  } else {
    lines.push('| Severity | Package | ID | Aliases | Fixed in | Fix | Upgrade | Dependency | Status |')
    lines.push('|---|---|---|---|---|---|---|---|---|')
    for (const f of [...report.findings].sort(compareWorstFirst)) {
      const fix = !f.fixed
        ? 'none known'
        : f.fixInRange === true
          ? 'npm update'
          : f.fixInRange === false
            ? 'bump range'
            : '—'
      const dep = `${f.direct ? 'direct' : 'transitive'}${f.dev ? ', dev' : ''}${f.paths[0] && f.paths[0].length > 2 ? ` (${f.paths[0].join(' › ')})` : ''}`
      const status = f.suppressed
        ? `suppressed${f.suppressed.until ? ` until ${f.suppressed.until}` : ''}: ${f.suppressed.reason}`
        : f.analysis?.state === 'not_affected'
          ? `not affected: ${f.analysis.detail}`
          : 'open'
      lines.push(
        `| ${f.severity}${f.score !== null ? ` (${f.score})` : ''} | ${mdCode(`${f.name}@${f.version}`)} | [${md(f.id)}](${advisoryUrl(f.id)}) | ${md(f.aliases.join(', '))} | ${md(f.fixed ?? '—')} | ${fix} | ${md(toAdviceText(f).replace(/^upgrade /, '') || '—')} | ${md(dep)} | ${md(status)} |`,
      )
    }
  }
  if (report.expiredSuppressions.length > 0) {
    lines.push('', 'Expired suppressions (no longer applied):', '')
    for (const e of report.expiredSuppressions)
      lines.push(`- ${md(e.id)} (${md(e.source)}, expired ${md(e.until)})`)
  }
  return `${lines.join('\n')}\n`
}

// ---------------------------------------------------------------- CycloneDX enrichment

function cdxMethod(r: Rating, specVersion: string): string {
  if (r.method === 'CVSSv4' && specVersion === '1.4') return 'other'
  return r.method
}

/** The SBOM with a `vulnerabilities` array; the original object is not modified. */
export function toEnrichedSbom(sbom: Record<string, unknown>, report: VulnsReport): Record<string, unknown> {
  const specVersion = String(sbom.specVersion)
  const byId = new Map<string, Finding[]>()
  for (const f of report.findings) {
    const list = byId.get(f.id)
    if (list) list.push(f)
    else byId.set(f.id, [f])
  }
  const vulnerabilities = [...byId.keys()].sort(compareCodePoint).map((id) => {
    const list = byId.get(id)!
    const f = list[0]!
    const ratings = f.ratings.map((r) => ({
      source: { name: r.method === 'other' ? 'GitHub Advisory Database' : 'OSV', url: advisoryUrl(f.id) },
      ...(r.score !== null ? { score: r.score } : {}),
      severity: r.severity,
      method: cdxMethod(r, specVersion),
      ...(r.vector ? { vector: r.vector } : {}),
    }))
    const cwes = f.cwes.map((c) => Number(/^CWE-(\d+)$/.exec(c)?.[1])).filter((n) => Number.isInteger(n))
    const suppressed = list.filter((x) => x.suppressed)
    // Go reachability: not affected where every package it was found in was proven so
    const notAffected =
      suppressed.length === 0 && list.every((x) => x.analysis?.state === 'not_affected') ? list : []
    return {
      'bom-ref': `vulnerability:${id}`,
      id,
      source: { name: 'OSV', url: `https://osv.dev/vulnerability/${id}` },
      ...(f.aliases.length
        ? {
            references: f.aliases.map((a) => ({
              id: a,
              source: { name: a.split('-')[0], url: advisoryUrl(a) },
            })),
          }
        : {}),
      ...(ratings.length ? { ratings } : {}),
      ...(cwes.length ? { cwes } : {}),
      ...(f.summary ? { description: f.summary } : {}),
      ...(f.fixed ? { recommendation: `Upgrade ${f.name} to ${f.fixed} or later.` } : {}),
      advisories: [
        { url: advisoryUrl(f.id) },
        ...f.references
          .filter((u) => u !== advisoryUrl(f.id))
          .slice(0, 20)
          .map((url) => ({ url })),
      ],
      updated: f.modified,
      ...(suppressed.length
        ? {
            analysis: {
              state: 'in_triage',
              detail: suppressed
                .map(
                  (x) =>
                    `suppressed for ${x.purl} (${x.suppressed!.source}${x.suppressed!.until ? `, until ${x.suppressed!.until}` : ''}): ${x.suppressed!.reason}`,
                )
                .join('\n'),
            },
          }
        : notAffected.length > 0
          ? {
              analysis: {
                state: 'not_affected',
                justification: 'code_not_reachable',
                detail: notAffected.map((x) => `${x.purl}: ${x.analysis!.detail}`).join('\n'),
              },
            }
          : {}),
      affects: list
        .map((x) => ({ ref: x.bomRef, versions: [{ version: x.version, status: 'affected' }] }))
        .sort((a, b) => compareCodePoint(a.ref, b.ref)),
    }
  })
  return { ...sbom, vulnerabilities }
}

// ---------------------------------------------------------------- in-toto statement

export const VulnsPredicateType = 'https://in-toto.io/attestation/vulns/v0.1'

export interface StatementOptions {
  /** sha256 of vulns.json as written */
  vulnsSha256: string
  scanTime: string
  parameters: Record<string, unknown>
}

export function toStatement(report: VulnsReport, options: StatementOptions): unknown {
  const db =
    report.source.kind === 'api'
      ? { uri: report.source.url, ...(report.source.lastUpdate ? { version: report.source.lastUpdate } : {}) }
      : { uri: `file:${report.source.export}`, version: `sha256:${report.source.exportSha256}` }
  return {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: report.sbom.file, digest: { sha256: report.sbom.sha256 } }],
    predicateType: VulnsPredicateType,
    predicate: {
      invocation: { parameters: options.parameters },
      scanner: {
        uri: `pkg:npm/detbuild@${VERSION}`,
        version: VERSION,
        db: { ...db, lastUpdate: report.source.lastUpdate ?? options.scanTime },
        result: report.findings.map((f) => ({
          id: f.id,
          severity: [
            { method: 'severity', score: f.severity },
            ...(f.score !== null ? [{ method: 'cvss_score', score: String(f.score) }] : []),
          ],
          annotations: [
            { purl: f.purl },
            { aliases: f.aliases.join(',') },
            { fixed: f.fixed ?? '' },
            { suppressed: f.suppressed ? `${f.suppressed.source}: ${f.suppressed.reason}` : '' },
          ],
        })),
      },
      metadata: { scanStartedOn: options.scanTime, scanFinishedOn: options.scanTime },
      detbuild: {
        complete: report.complete,
        unchecked: report.unchecked,
        counts: report.counts,
        vulns: { file: 'vulns.json', digest: { sha256: options.vulnsSha256 } },
      },
    },
  }
}
