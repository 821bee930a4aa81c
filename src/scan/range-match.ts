/**
 * Pure: does an OSV `affected` entry cover a version? Implements the OSV schema's evaluation of
 * `ECOSYSTEM` and `SEMVER` ranges (introduced / fixed / last_affected / limit) and explicit
 * `versions` lists, with npm's semver ordering.
 */
import semver from 'semver'
import type { OsvAffected, OsvEvent, OsvRange } from './types.ts'

/** Result of matching one affected entry. */
export interface AffectedMatch {
  affected: boolean
  /** fixed versions of the ranges that cover the version (for fix advice) */
  fixed: string[]
  /** a range could not be evaluated (unparsable event version); treated as affected, fail closed */
  unparsable: boolean
}

const ZERO = '0.0.0-0'

/**
 * Parsed versions, memoised: a large export repeats the same event versions across thousands of
 * records. The SemVer objects are only read (compared), never changed; the memo is bounded.
 */
const parsed = new Map<string, semver.SemVer | null>()
const MEMO_LIMIT = 100_000

function parse(v: string): semver.SemVer | null {
  let p = parsed.get(v)
  if (p === undefined) {
    p =
      v === '0'
        ? new semver.SemVer(ZERO)
        : (semver.parse(v, { loose: false }) ?? semver.parse(v, { loose: true }))
    if (parsed.size >= MEMO_LIMIT) parsed.clear()
    parsed.set(v, p)
  }
  return p
}

function eventVersion(e: OsvEvent): string | undefined {
  return e.introduced ?? e.fixed ?? e.last_affected ?? e.limit
}

/**
 * Evaluates one range per the OSV algorithm: sort events by version, walk them, track
 * "affected" state; `limit` events bound the range from above.
 */
export function rangeCovers(
  range: OsvRange,
  version: semver.SemVer,
): { affected: boolean; fixed: string | null; unparsable: boolean } {
  if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER')
    return { affected: false, fixed: null, unparsable: false }
  const parsed: Array<{ e: OsvEvent; v: semver.SemVer }> = []
  for (const e of range.events ?? []) {
    const raw = eventVersion(e)
    if (raw === undefined) continue
    if (e.limit === '*') continue
    const v = parse(raw)
    if (!v) return { affected: true, fixed: null, unparsable: true }
    parsed.push({ e, v })
  }
  const limits = parsed.filter((p) => p.e.limit !== undefined)
  if (limits.length > 0 && !limits.some((l) => semver.lt(version, l.v))) {
    return { affected: false, fixed: null, unparsable: false }
  }
  const events = parsed.filter((p) => p.e.limit === undefined).sort((a, b) => semver.compare(a.v, b.v))
  let affected = false
  let fixed: string | null = null
  for (const { e, v } of events) {
    if (e.introduced !== undefined) {
      if (semver.gte(version, v)) affected = true
    } else if (e.fixed !== undefined) {
      if (semver.gte(version, v)) affected = false
      else if (affected && fixed === null) fixed = e.fixed
    } else if (e.last_affected !== undefined) {
      if (semver.gt(version, v)) affected = false
    }
  }
  return { affected, fixed: affected ? fixed : null, unparsable: false }
}

/** Matches a version against one affected entry (the package name is checked by the caller). */
export function matchAffected(entry: OsvAffected, version: string): AffectedMatch {
  const out: AffectedMatch = { affected: false, fixed: [], unparsable: false }
  if (entry.versions?.includes(version)) out.affected = true
  const v = parse(version)
  if (!v) return out
  for (const range of entry.ranges ?? []) {
    const r = rangeCovers(range, v)
    if (r.affected) {
      out.affected = true
      if (r.fixed) out.fixed.push(r.fixed)
      if (r.unparsable) out.unparsable = true
    }
  }
  return out
}

/** Whether a version string can be evaluated against ranges at all. */
export function isComparableVersion(version: string): boolean {
  return semver.valid(version) !== null
}
