/**
 * Pure: what both npm tree readers (Arborist's, read-inventory.ts, and the direct lockfile reader,
 * lockfile-reader.ts) derive from a node the same way: its kind, its manifest and the quick semver check.
 */
import semver from 'semver'
import type { DependencyKind, Manifest } from '../inventory.ts'

/** The part of a tree node `kindOf` reads. */
export interface RawNode {
  location: string
  resolved: string | null
  version: string
  isRoot: boolean
  isWorkspace: boolean
}

export function kindOf(node: Pick<RawNode, 'location' | 'resolved' | 'isWorkspace'>): DependencyKind {
  if (node.isWorkspace) return 'workspace'
  const r = node.resolved
  if (!r)
    return node.location.startsWith('node_modules/') || node.location.includes('/node_modules/')
      ? 'registry'
      : 'directory'
  if (/^git\+|^git:|^github:|^gitlab:|^bitbucket:|^gist:/.test(r)) return 'git'
  if (r.startsWith('file:'))
    return r.endsWith('.tgz') || r.endsWith('.tar.gz') || r.endsWith('.tar') ? 'file' : 'directory'
  if (/^https?:\/\//.test(r)) return /\/-\/[^/]+\.tgz$/.test(r) ? 'registry' : 'remote'
  return 'registry'
}

const MANIFEST_KEYS = [
  'name',
  'version',
  'description',
  'license',
  'licenses',
  'author',
  'contributors',
  'maintainers',
  'repository',
  'homepage',
  'bugs',
  'engines',
  'os',
  'cpu',
  'private',
] as const

export function pickManifest(pkg: Record<string, unknown>): Manifest {
  const out: Manifest = {}
  for (const k of MANIFEST_KEYS) if (pkg[k] !== undefined) (out as Record<string, unknown>)[k] = pkg[k]
  return out
}

const PLAIN_RANGE = /^[\d\s^~<>=|.*xX-]*$/

/** Parsed plain ranges (a lockfile repeats a few hundred ranges thousands of times); bounded. */
const RANGES = new Map<string, semver.Range | null>()

/**
 * Whether `version` satisfies a plain semver range (nearly every edge), checked with semver exactly as
 * Arborist's dep-valid does (loose); undefined for any other spec (git, file, alias, tag), which each
 * reader decides as Arborist does. Arborist works every spec out through npm-package-arg and
 * hosted-git-info, which is most of its load time on large trees. `new Range(spec, true)` is what
 * semver's validRange (null when it throws) and satisfies (false when it throws) both build.
 */
export function satisfiesPlainRange(rawSpec: string, version: string): boolean | undefined {
  const spec = rawSpec.trim()
  if (spec === '' || spec === '*') return true
  if (!PLAIN_RANGE.test(spec)) return undefined
  let range = RANGES.get(spec)
  if (range === undefined) {
    try {
      range = new semver.Range(spec, true)
    } catch {
      range = null
    }
    if (RANGES.size >= 10_000) RANGES.clear()
    RANGES.set(spec, range)
  }
  return range === null ? undefined : range.test(version)
}
