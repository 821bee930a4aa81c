/**
 * Pure: semantic-version ordering (node-semver, as npm orders versions). npm's version order; also the
 * best-effort order for fix advice on ecosystems that only the OSV API matches (see registry.ts).
 */
import semver from 'semver'
import type { VersionOrder } from './ecosystem.ts'
import { inRangeWith, type ParsedOrder } from './osv-range.ts'

/** OSV writes `introduced: "0"` for "every version": the lowest semver version there is. */
const ZERO = '0.0.0-0'

/**
 * Parsed versions, memoised: a large export repeats the same event versions across thousands of
 * records. The SemVer objects are only read (compared), never changed; the memo is bounded.
 */
const memo = new Map<string, semver.SemVer | null>()
const MEMO_LIMIT = 100_000

function parse(v: string): semver.SemVer | null {
  let p = memo.get(v)
  if (p === undefined) {
    // event versions are read leniently (advisories are written by hand); component versions are
    // checked strictly first by isValidVersion
    p =
      v === '0'
        ? new semver.SemVer(ZERO)
        : (semver.parse(v, { loose: false }) ?? semver.parse(v, { loose: true }))
    if (memo.size >= MEMO_LIMIT) memo.clear()
    memo.set(v, p)
  }
  return p
}

const parsedOrder: ParsedOrder<semver.SemVer> = { parse, compare: (a, b) => semver.compare(a, b) }

/** Semver ordering and OSV range evaluation. */
export const semverOrder: VersionOrder = Object.freeze({
  scheme: 'semver',
  isValidVersion: (version: string): boolean => semver.valid(version) !== null,
  compareVersions: (a: string, b: string): number => semver.compare(a, b),
  inRange: inRangeWith(parsedOrder),
})
