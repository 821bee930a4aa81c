/**
 * Pure: matched OSV records → findings. Records that name each other (id or alias) are merged into
 * one finding per component; severity, fix advice and paths are attached; the list is sorted.
 */
import type { ProjectLock, VersionOrder } from '../ecosystems/index.ts'
import type { FailOn } from '../flags/index.ts'
import { compareCodePoint, uniqueSorted } from '../util/sort.ts'
import { toUpgrades } from './fix-advice.ts'
import type { RecordMatch } from './osv-index.ts'
import { toRecordSeverity } from './severity.ts'
import {
  type Finding,
  type Rating,
  type ScanComponent,
  Severities,
  type Severity,
  type SeverityCounts,
  SeverityRank,
} from './types.ts'

/** Groups records whose identifiers overlap (union-find over ids and aliases). */
export function groupByAlias(matches: RecordMatch[]): RecordMatch[][] {
  const parent = matches.map((_, i) => i)
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]!]!
      i = parent[i]!
    }
    return i
  }
  const owner = new Map<string, number>()
  matches.forEach((m, i) => {
    for (const id of [m.record.id, ...(m.record.aliases ?? [])]) {
      const j = owner.get(id)
      if (j === undefined) owner.set(id, i)
      else parent[find(i)] = find(j)
    }
  })
  const groups = new Map<number, RecordMatch[]>()
  matches.forEach((m, i) => {
    const r = find(i)
    const g = groups.get(r)
    if (g) g.push(m)
    else groups.set(r, [m])
  })
  return [...groups.values()]
}

/** The id a merged finding goes by: the Go vulnerability database's (`GO-`) for Go packages, else GitHub's. */
function primaryOf(group: RecordMatch[], ecosystem: string | null): RecordMatch {
  const sorted = [...group].sort((a, b) => compareCodePoint(a.record.id, b.record.id))
  const go = ecosystem === 'Go' ? sorted.find((m) => m.record.id.startsWith('GO-')) : undefined
  return go ?? sorted.find((m) => m.record.id.startsWith('GHSA-')) ?? sorted[0]!
}

function severityBetter(a: Severity, b: Severity): boolean {
  if (a === 'unknown') return false
  if (b === 'unknown') return true
  return SeverityRank[a] > SeverityRank[b]
}

/** The version that fixes every merged record (null when one of them has no fix), in `order`. */
function groupFix(group: RecordMatch[], version: string, order: VersionOrder): string | null {
  let needed: string | null = null
  for (const m of group) {
    const candidates = m.fixed.filter((f) => order.isValidVersion(f) && order.compareVersions(f, version) > 0)
    if (candidates.length === 0) return null
    const lowest = candidates.sort(order.compareVersions)[0]!
    if (needed === null || order.compareVersions(lowest, needed) > 0) needed = lowest
  }
  return needed
}

/**
 * The findings of one component; fix advice orders versions by `order`, the component's ecosystem's;
 * `directs` are the project's direct dependencies that pull the component in (fix advice names them).
 */
export function toFindings(
  component: ScanComponent,
  matches: RecordMatch[],
  lock: ProjectLock | null,
  order: VersionOrder,
  directs: readonly ScanComponent[],
): Finding[] {
  const out: Finding[] = []
  for (const group of groupByAlias(matches)) {
    const primary = primaryOf(group, component.ecosystem)
    const ids = new Set<string>()
    for (const m of group) for (const id of [m.record.id, ...(m.record.aliases ?? [])]) ids.add(id)
    ids.delete(primary.record.id)

    let severity: Severity = 'unknown'
    let score: number | null = null
    let source = 'none'
    const ratings: Rating[] = []
    for (const m of [primary, ...group.filter((g) => g !== primary)]) {
      const s = toRecordSeverity(m.record)
      ratings.push(...s.ratings)
      if (severity === 'unknown' ? s.severity !== 'unknown' : severityBetter(s.severity, severity)) {
        severity = s.severity
        score = s.score
        source = s.source
      }
    }
    const fixed = groupFix(group, component.version, order)
    let fixInRange: boolean | null = null
    if (lock && fixed) fixInRange = lock.fixWithinDeclared(fixed, component)
    const cwes = uniqueSorted(
      group.flatMap((m) => {
        const c = m.record.database_specific?.cwe_ids
        return Array.isArray(c) ? c.filter((x): x is string => typeof x === 'string') : []
      }),
    )
    const references: string[] = []
    for (const m of [primary, ...group.filter((g) => g !== primary)]) {
      for (const r of m.record.references ?? [])
        if (r?.url && !references.includes(r.url)) references.push(r.url)
    }
    const summary = primary.record.summary ?? primary.record.details?.split('\n')[0]?.slice(0, 200) ?? ''
    out.push({
      id: primary.record.id,
      aliases: uniqueSorted(ids),
      summary,
      purl: component.purl,
      bomRef: component.bomRef,
      name: component.name,
      version: component.version,
      severity,
      score,
      severitySource: source,
      ratings: dedupeRatings(ratings),
      cwes,
      fixed,
      fixInRange,
      direct: component.direct,
      dev: component.dev,
      paths: component.paths,
      suppressed: null,
      references: references.slice(0, 20),
      modified: group.map((m) => m.record.modified).sort(compareCodePoint)[group.length - 1]!,
      records: uniqueSorted(group.map((m) => m.record.id)),
      line: lock?.lineOf(component.name, component.installPaths) ?? null,
      upgrade: toUpgrades(component, fixed, fixInRange, directs),
    })
  }
  return out
}

function dedupeRatings(ratings: Rating[]): Rating[] {
  const seen = new Set<string>()
  return ratings.filter((r) => {
    const k = `${r.method}\u0000${r.vector}\u0000${r.severity}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}

/**
 * Worst first: critical, high, unknown (detbuild does not guess an unrated vulnerability is harmless, but
 * does not rank it above a rated high one), medium, low, none.
 */
const WorstFirst: Readonly<Record<Severity, number>> = {
  critical: 0,
  high: 1,
  unknown: 2,
  medium: 3,
  low: 4,
  none: 5,
}

type Sortable = Pick<Finding, 'severity' | 'score' | 'id' | 'name' | 'version' | 'purl' | 'bomRef'>

/**
 * The order of findings in every output: worst first — by severity, then score (highest first; none
 * last), then advisory id, then package (name, version, purl, SBOM ref), by code point: deterministic.
 */
export function compareWorstFirst(a: Sortable, b: Sortable): number {
  const score = (f: Sortable) => (typeof f.score === 'number' ? f.score : -1)
  return (
    (WorstFirst[a.severity] ?? 2) - (WorstFirst[b.severity] ?? 2) ||
    score(b) - score(a) ||
    compareCodePoint(a.id, b.id) ||
    compareCodePoint(a.name, b.name) ||
    compareCodePoint(a.version, b.version) ||
    compareCodePoint(a.purl, b.purl) ||
    compareCodePoint(a.bomRef ?? '', b.bomRef ?? '')
  )
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(compareWorstFirst)
}

/** Whether a finding is open: not suppressed, and not proven `not_affected` (Go reachability). */
export function isOpen(f: Pick<Finding, 'suppressed' | 'analysis'>): boolean {
  return !f.suppressed && f.analysis?.state !== 'not_affected'
}

/** Counts of the open findings (see `isOpen`), by severity. */
export function countFindings(findings: Finding[]): SeverityCounts {
  const counts = Object.fromEntries(Severities.map((s) => [s, 0])) as SeverityCounts
  for (const f of findings) if (isOpen(f)) counts[f.severity]++
  return counts
}

export type { FailOn } from '../flags/index.ts'

/**
 * Whether a finding fails `--fail-on`: it is open (not suppressed, not `not_affected`) and its severity
 * is at or above the threshold. An `unknown`
 * severity fails every threshold: detbuild does not guess an unrated vulnerability is harmless.
 */
export function failsThreshold(f: Finding, failOn: FailOn): boolean {
  if (!isOpen(f)) return false
  if (failOn === 'any') return true
  if (f.severity === 'unknown') return true
  return SeverityRank[f.severity] >= SeverityRank[failOn]
}
