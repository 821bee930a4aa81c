/**
 * Pure: fix advice — which of the project's direct dependencies to upgrade for a finding, to which
 * version when that is known, and whether it is a major (breaking) bump.
 *
 * "Major" is npm's caret rule, written with `semver` (the library npm uses): a bump is major when the
 * fixed version is outside `^<current>` — another major for 1.x and later, another minor for 0.x,
 * another patch for 0.0.x. Versions that are not semver give null (not known).
 */
import semver from 'semver'
import { compareCodePoint } from '../util/sort.ts'
import type { ScanComponent, Upgrade } from './types.ts'

/** Whether `from` → `to` is a major bump in npm's caret sense; null when either is not a semver version. */
export function isMajorBump(from: string, to: string): boolean | null {
  const a = semver.parse(from, { loose: true })
  const b = semver.parse(to, { loose: true })
  if (a === null || b === null) return null
  if (semver.lte(b, a)) return false
  return !semver.satisfies(b, `^${a.version}`, { includePrerelease: true })
}

/**
 * The direct dependencies to upgrade for a finding on `component`, sorted by name then version:
 * - the component itself when it is a direct dependency: to the fixed version, major as the versions say;
 * - every other direct dependency that pulls it in: to a version not known here; not a major bump when
 *   the fix is within every range its dependents declare (`npm update` brings it, no direct dependency
 *   changes), else not known.
 */
export function toUpgrades(
  component: Pick<ScanComponent, 'bomRef'>,
  fixed: string | null,
  fixInRange: boolean | null,
  directs: readonly ScanComponent[],
): Upgrade[] {
  return directs
    .map((d): Upgrade => {
      if (d.bomRef === component.bomRef)
        return {
          name: d.name,
          version: d.version,
          to: fixed,
          major: fixed === null ? null : isMajorBump(d.version, fixed),
        }
      return {
        name: d.name,
        version: d.version,
        to: null,
        major: fixed !== null && fixInRange === true ? false : null,
      }
    })
    .sort((a, b) => compareCodePoint(a.name, b.name) || compareCodePoint(a.version, b.version))
}
