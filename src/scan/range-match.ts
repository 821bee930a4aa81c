/**
 * Pure: does an OSV `affected` entry cover a version? Explicit `versions` lists are compared as
 * strings; `ECOSYSTEM` and `SEMVER` ranges are evaluated by the component's ecosystem
 * (`VersionOrder.inRange`: npm's is semver ordering).
 */
import type { VersionOrder } from '../ecosystems/index.ts'
import type { OsvAffected } from './types.ts'

/** Result of matching one affected entry. */
export interface AffectedMatch {
  affected: boolean
  /** fixed versions of the ranges that cover the version (for fix advice) */
  fixed: string[]
  /** a range could not be evaluated (unparsable event version); treated as affected, fail closed */
  unparsable: boolean
}

/** Matches a version against one affected entry (the package name is checked by the caller). */
export function matchAffected(entry: OsvAffected, version: string, order: VersionOrder): AffectedMatch {
  const out: AffectedMatch = { affected: false, fixed: [], unparsable: false }
  if (entry.versions?.includes(version)) out.affected = true
  for (const range of entry.ranges ?? []) {
    const r = order.inRange(version, range)
    if (r.affected) {
      out.affected = true
      if (r.fixed) out.fixed.push(r.fixed)
      if (r.unparsable) out.unparsable = true
    }
  }
  return out
}
