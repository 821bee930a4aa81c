/**
 * Pure: what scan needs from `package-lock.json` (lockfile v2/v3 `packages`): the line of each
 * `"node_modules/…"` key (SARIF locations), the ranges dependents declare (fix advice) and how the
 * lockfile spells names; `toProjectLock` offers them to scan as the npm `ProjectLock`.
 */
import semver from 'semver'
import { InputError } from '../../errors.ts'
import { parseJson } from '../../util/json-parse.ts'
import type { ProjectLock } from '../ecosystem.ts'
import { nameFromInstallPath } from './names.ts'

interface LockEntry {
  name?: string
  version?: string
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  devDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

export interface LockInfo {
  file: string
  /** 1-based line of the `"node_modules/<name>"` key */
  lines: Map<string, number>
  packages: Map<string, LockEntry>
}

export function toLockInfo(text: string, file: string): LockInfo {
  const raw = parseJson(text, file, 'SCAN_LOCKFILE_INVALID') as {
    lockfileVersion?: unknown
    packages?: unknown
  }
  if (typeof raw !== 'object' || raw === null || typeof raw.packages !== 'object' || raw.packages === null) {
    throw new InputError('SCAN_LOCKFILE_INVALID', 'no "packages" section (lockfile v2 or v3 expected)', {
      file,
    })
  }
  const packages = new Map(Object.entries(raw.packages as Record<string, LockEntry>))
  const lines = new Map<string, number>()
  const keyRe = /^\s*"((?:[^"\\]|\\.)*node_modules\/(?:[^"\\]|\\.)*)"\s*:\s*\{/
  const all = text.split('\n')
  for (let i = 0; i < all.length; i++) {
    const m = keyRe.exec(all[i]!)
    if (m && packages.has(m[1]!) && !lines.has(m[1]!)) lines.set(m[1]!, i + 1)
  }
  return { file, lines, packages }
}

/**
 * How the lockfile spells a package that an SBOM names only in lowercase: the one name (the entry's
 * own `name`, for aliases, else its `node_modules/` key) equal to `name` but for letter case, at
 * `version`. Null when the lockfile has none, or several spellings (then it cannot decide either).
 */
function lockfileSpelling(lock: LockInfo, name: string, version: string): string | null {
  const lower = name.toLowerCase()
  const found = new Set<string>()
  for (const [key, entry] of lock.packages) {
    if (!key.includes('node_modules/') || entry?.version !== version) continue
    const spelled = typeof entry.name === 'string' ? entry.name : nameFromInstallPath(key)
    if (spelled.toLowerCase() === lower) found.add(spelled)
  }
  return found.size === 1 ? [...found][0]! : null
}

/** Where npm resolves `name` required from the package at `from` (walks up node_modules folders). */
function resolveFrom(lock: LockInfo, from: string, name: string): string | null {
  let base = from
  for (;;) {
    const candidate = base === '' ? `node_modules/${name}` : `${base}/node_modules/${name}`
    if (lock.packages.has(candidate)) return candidate
    if (base === '') return null
    const i = base.lastIndexOf('/node_modules/')
    base = i === -1 ? '' : base.slice(0, i)
  }
}

/** Ranges declared for the package installed at `installPath` by the dependents that resolve to it. */
function declaredRanges(lock: LockInfo, installPath: string): string[] {
  const name = nameFromInstallPath(installPath)
  const out: string[] = []
  for (const [from, entry] of lock.packages) {
    for (const deps of [
      entry.dependencies,
      entry.optionalDependencies,
      entry.devDependencies,
      entry.peerDependencies,
    ]) {
      const range = deps?.[name]
      if (range === undefined) continue
      if (resolveFrom(lock, from, name) === installPath) out.push(range)
    }
  }
  return out
}

/**
 * Whether `fixed` satisfies every range the dependents declare (an `npm update` can pick it):
 * true / false, or null when no range is known or a range is not a semver range (git, file, alias).
 */
function fixWithinRanges(fixed: string | null, ranges: string[]): boolean | null {
  if (fixed === null || ranges.length === 0) return null
  for (const r of ranges) {
    if (semver.validRange(r) === null) return null
    if (!semver.satisfies(fixed, r, { includePrerelease: false })) return false
  }
  return true
}

/** The lockfile as scan sees it: SARIF lines, name spellings and fix-within-range advice, npm's way. */
export function toProjectLock(lock: LockInfo): ProjectLock {
  return {
    file: lock.file,
    lineOf: (name, installPaths = []) => {
      for (const p of installPaths) {
        const line = lock.lines.get(p)
        if (line !== undefined) return line
      }
      return lock.lines.get(`node_modules/${name}`) ?? null
    },
    spelling: (name, version) => lockfileSpelling(lock, name, version),
    fixWithinDeclared: (fixed, component) => {
      // a component without install paths is looked for where npm would hoist it
      const paths =
        component.installPaths.length > 0 ? component.installPaths : [`node_modules/${component.name}`]
      return fixWithinRanges(
        fixed,
        paths.flatMap((p) => declaredRanges(lock, p)),
      )
    },
  }
}
