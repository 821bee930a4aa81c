/**
 * Edge: the main module's version, as the go command stamps a build from version control (Go ≥ 1.24):
 * the highest semver tag at HEAD that belongs to the module (with the module folder's prefix, and the
 * major version the module path says), else a pseudo-version from HEAD's commit time (UTC) and hash over
 * the highest such tag reachable from HEAD (`v1.2.4-0.20240102150405-abcdef123456` after v1.2.3,
 * `v1.2.3-pre.0.…` after a pre-release, `v0.0.0-…` without any), either with `+dirty` when the working
 * tree has changes, else nothing: the caller records
 * `(devel)`, explicitly unknown. Git is asked with the step's environment only; no git, not a
 * repository or no commit gives `(devel)`, never an error.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import semver from 'semver'
import { isCanonicalVersion } from './gomod.ts'

export interface MainVersion {
  version: string
  /** where the version came from */
  source: 'git-tag' | 'pseudo-version' | 'unknown'
  /** HEAD's commit hash, when git gave one */
  revision?: string
  /** the working tree has changes HEAD does not hold (`+dirty`) */
  dirty?: boolean
}

/** The major version a module path allows: `/v2` → 2, `gopkg.in/x.v3` → 3, else 0 or 1. */
function pathMajor(modulePath: string): number | null {
  const gopkg = /^gopkg\.in\/.*\.v(\d+)(?:-unstable)?$/.exec(modulePath)
  if (gopkg) return Number(gopkg[1])
  const m = /\/v(\d+)$/.exec(modulePath)
  return m ? Number(m[1]) : null
}

/** Whether a tag's version belongs to the module (its major version), as Go's CheckPathMajor says. */
function fitsMajor(version: string, modulePath: string): boolean {
  if (version.endsWith('+incompatible')) return false
  const major = semver.major(version.slice(1))
  const want = pathMajor(modulePath)
  if (want === null) return major <= 1
  // gopkg.in/x.v0 and .v1 allow both v0 and v1
  if (modulePath.startsWith('gopkg.in/') && want <= 1) return major <= 1
  return major === want
}

/** Go's pseudo-version (module/pseudo.go) over `base` (a canonical version or '') at `time`, `rev`. */
export function pseudoVersion(major: number, base: string, time: Date, rev: string): string {
  const stamp = time
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, '')
  const short = rev.slice(0, 12)
  if (base === '') return `v${major}.0.0-${stamp}-${short}`
  const v = semver.parse(base.slice(1))!
  if (v.prerelease.length > 0) return `${base.replace(/\+.*$/, '')}.0.${stamp}-${short}`
  return `v${v.major}.${v.minor}.${v.patch + 1}-0.${stamp}-${short}`
}

type Git = (args: string[]) => Promise<string>

function gitIn(cwd: string, env: Readonly<Record<string, string | undefined>>): Git {
  const run = promisify(execFile)
  return async (args) =>
    (
      await run('git', ['-c', 'core.quotepath=off', ...args], {
        cwd,
        env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
        timeout: 10_000,
        maxBuffer: 16 * 1024 * 1024,
      })
    ).stdout
}

function highest(tags: string[], prefix: string, modulePath: string): string {
  let best = ''
  for (const tag of tags) {
    if (!tag.startsWith(prefix)) continue
    const v = tag.slice(prefix.length)
    if (!isCanonicalVersion(v) || !fitsMajor(v, modulePath)) continue
    if (best === '' || semver.compare(v.slice(1), best.slice(1)) > 0) best = v
  }
  return best
}

/** The main module's version from the git repository `projectDir` is in (see the file's comment). */
export async function readMainVersion(
  projectDir: string,
  modulePath: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<MainVersion> {
  const git = gitIn(projectDir, env)
  let head: string
  let prefix: string
  try {
    const [log, top] = await Promise.all([
      git(['log', '-1', '--no-show-signature', '--format=%H %ct', 'HEAD']),
      git(['rev-parse', '--show-prefix']),
    ])
    head = log.trim()
    prefix = top.trim()
  } catch {
    return { version: '(devel)', source: 'unknown' }
  }
  const m = /^([0-9a-f]{40,64}) (\d{1,12})$/.exec(head)
  if (!m) return { version: '(devel)', source: 'unknown' }
  const [, revision, seconds] = m as unknown as [string, string, string]
  const lines = (s: string) => s.split('\n').filter(Boolean)
  let atHead: string[] = []
  let merged: string[] = []
  try {
    ;[atHead, merged] = await Promise.all([
      git(['tag', '--points-at', 'HEAD']).then(lines),
      git(['tag', '--merged', 'HEAD']).then(lines),
    ])
  } catch {
    // tags unreadable: a pseudo-version over no tag
  }
  // as Go: a working tree with changes (untracked files too) is `+dirty`; detbuild's own workspace and node_modules are left out (the build never stages them either)
  let dirty = false
  try {
    dirty = (await git(['status', '--porcelain', '--', ':/', ...NEVER_COUNTED])).trim() !== ''
  } catch {
    dirty = true
  }
  const tagged = highest(atHead, prefix, modulePath)
  if (tagged !== '')
    return { version: dirty ? `${tagged}+dirty` : tagged, source: 'git-tag', revision, dirty }
  const major = pathMajor(modulePath) ?? 0
  const base = highest(merged, prefix, modulePath)
  const pseudo = pseudoVersion(major, base, new Date(Number(seconds) * 1000), revision)
  return { version: dirty ? `${pseudo}+dirty` : pseudo, source: 'pseudo-version', revision, dirty }
}

/** What a working tree may hold without being `+dirty`: detbuild's workspace and installed packages. */
const NEVER_COUNTED = [':(exclude,glob)**/.detbuild/**', ':(exclude,glob)**/node_modules/**']
