/**
 * Pure: Go's version order, for module versions and for Go releases, as a semver order (node-semver)
 * over a normalised spelling:
 *  - module versions are semver with a `v` (`v1.2.3`, `v2.0.0+incompatible`, pseudo-versions such as
 *    `v0.0.0-20191109021931-daa7c04131f5`, which are semver pre-releases and order by time by design);
 *    OSV's Go records write them without the `v` (`1.2.3`), and both spellings are read;
 *  - Go releases (the `stdlib` and `toolchain` pseudo-modules) are spelled `go1.21.3`, `go1.21rc2`,
 *    `go1.9beta2`, `go1.20` (before 1.21 the first release had no `.0`), or as OSV writes them, `1.21.3`
 *    and `1.21.0-0` (below every 1.21 pre-release). They map to semver the way Go's own vulnerability
 *    database does: `go1.21rc2` → `1.21.0-rc.2`, `go1.20` → `1.20.0`.
 * Build metadata (`+incompatible`) does not order, as in Go.
 */
import semver from 'semver'
import type { VersionOrder } from '../ecosystem.ts'
import { inRangeWith, type ParsedOrder } from '../osv-range.ts'

const ZERO = '0.0.0-0'

/** `go1.21rc2` / `1.21rc2` / `go1.20` / `go1.9beta2` → semver text; null when it is not a Go release. */
function goRelease(version: string): string | null {
  const m = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?(?:(rc|beta|alpha)(\d+))?$/.exec(version)
  if (!m) return null
  const [, major, minor, patch, pre, preNumber] = m
  if (pre !== undefined && patch !== undefined) return null // go1.21.1rc1 is not a Go version
  const core = `${major}.${minor}.${patch ?? '0'}`
  return pre === undefined ? core : `${core}-${pre}.${preNumber}`
}

/**
 * The semver spelling of a Go module version or Go release, or null when it is neither. Strict: a
 * module version must be canonical semver (with or without the `v`); a Go release must look like one.
 */
export function goSemver(version: string): string | null {
  if (version.startsWith('go')) return goRelease(version)
  if (version.startsWith('v')) return semver.valid(version.slice(1)) === null ? null : version.slice(1)
  return semver.valid(version) === null ? goRelease(version) : version
}

const memo = new Map<string, semver.SemVer | null>()
const MEMO_LIMIT = 100_000

function parse(v: string): semver.SemVer | null {
  let p = memo.get(v)
  if (p === undefined) {
    const text = v === '0' ? ZERO : goSemver(v)
    p = text === null ? null : new semver.SemVer(text)
    if (memo.size >= MEMO_LIMIT) memo.clear()
    memo.set(v, p)
  }
  return p
}

const parsedOrder: ParsedOrder<semver.SemVer> = { parse, compare: (a, b) => semver.compare(a, b) }

function compareVersions(a: string, b: string): number {
  const pa = parse(a)
  const pb = parse(b)
  if (pa === null || pb === null) throw new TypeError(`not a Go version: ${pa === null ? a : b}`)
  return semver.compare(pa, pb)
}

/** Go's version order and OSV range evaluation over it (OSV's `Go` ranges are `SEMVER`). */
export const goVersionOrder: VersionOrder = Object.freeze({
  scheme: 'Go module version',
  isValidVersion: (version: string): boolean => version !== '0' && parse(version) !== null,
  compareVersions,
  inRange: inRangeWith(parsedOrder),
})
