/**
 * Edge: the registry and the toolchain cache. Fetches pinned `node-<os>-<arch>` and `npm` packages with
 * pacote, verifies them against `detbuild.lock`, caches them, and makes a bin folder that puts them
 * first on PATH. An integrity mismatch is refused, never replaced.
 */
import { createHash } from 'node:crypto'
import { lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { chmod, lstat, mkdir, readFile, realpath, rename, rm, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { BuildConfig, ToolPin } from '../config/index.ts'
import {
  type ChecksumDatabase,
  ensureGoToolchain,
  goPlatform,
  resolveChecksumDatabase,
} from '../ecosystems/index.ts'
import { CheckFailedError, IncompleteError, InputError } from '../errors.ts'
import { settleAll } from '../util/settle.ts'
import { SYSTEM_PATH } from './env.ts'
import type { FetchOptions } from './fetch-options.ts'
import { type LockEntry, nodePackageName, type ToolchainLock } from './lockfile.ts'
import { captureOutput, findOnPath } from './run.ts'
import { cachedToolDigest, readNpmVersion } from './tool-digest.ts'

/** pacote (and the npm fetch stack under it) takes ~0.3 s to load: only builds that fetch pay for it. */
const loadPacote = async () => (await import('pacote')).default

export interface ToolRecord {
  version: string
  pinned: boolean
  integrity: string | null
  /** package spec fetched from the registry, when pinned */
  package: string | null
  resolved: string | null
}

/** A Go build's toolchain (config `toolchain.go`). */
export interface GoToolRecord {
  /** the Go release, e.g. `1.26.10` (`go env GOVERSION` without `go` for a system go) */
  version: string
  pinned: boolean
  /** `golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64` when pinned */
  module: string | null
  /** the toolchain zip's h1: (detbuild.lock's pin) when pinned */
  h1: string | null
  resolved: string | null
  /** sha256 of the bin/go binary */
  sha256: string
  /**
   * pinned: the checksum database that confirmed the fetched zip in this run (`sum.golang.org`), `off`
   * (GOSUMDB=off) or `cached` (nothing fetched: the verified cache and the lock's pin); null: system go
   */
  checksumDatabase: string | null
  /** GOROOT on the host */
  goroot: string
  /**
   * a system GOROOT outside /usr: the host folders the room mounts read-only at their own path (GOROOT,
   * and where its top-level links lead, as Debian's src -> ../../share/go-1.26/src)
   */
  hostMounts: string[]
}

export interface ResolvedToolchain {
  node: ToolRecord & { sha256: string }
  npm: ToolRecord
  /** null: not a Go build */
  go: GoToolRecord | null
  /** folders to put first on PATH */
  pathDirs: string[]
  /** the node binary (host path), mounted into the build room */
  nodeBin: string
  /** the npm package folder (host path) the build uses, mounted into the build room; null: none found */
  npmRoot: string | null
  /** true when new entries were added to the lock */
  lockChanged: boolean
  lock: ToolchainLock
}

export interface ToolchainOptions {
  cacheDir: string
  registry: string
  lock: ToolchainLock
  /** refuse to add entries to the lock (CI) */
  frozenLock: boolean
  hostPath: string | undefined
  /** a fresh folder for this build's shims */
  binDir: string
  platform: string
  arch: string
  /** proxy and CAs for the registry (see fetch-options.ts) */
  fetchOptions?: FetchOptions
  /** told when a cached toolchain no longer matches its record and is replaced */
  onTampered?: (dir: string) => void
  /** the Go module proxy for `toolchain.go` (GOPROXY, resolved) */
  goProxy?: string
  /** the Go checksum database a fetched toolchain is checked with (GOSUMDB, resolved; null: off) */
  goSumdb?: ChecksumDatabase | null
}

function integrityError(spec: string, expected: string, found: string, cause?: unknown): CheckFailedError {
  return new CheckFailedError(
    'BUILD_TOOLCHAIN_INTEGRITY',
    `${spec} does not match detbuild.lock (expected ${expected}, found ${found}); refusing to use it`,
    { file: 'detbuild.lock', details: { package: spec, expected, found }, cause },
  )
}

/** Resolves a spec's lock entry: from the lock, or (unless frozen) from the registry's manifest. */
export async function resolveLockEntry(
  spec: string,
  options: Pick<ToolchainOptions, 'lock' | 'frozenLock' | 'registry' | 'cacheDir' | 'fetchOptions'>,
): Promise<{ entry: LockEntry; added: boolean }> {
  const locked = options.lock.packages[spec]
  if (locked) return { entry: locked, added: false }
  if (options.frozenLock)
    throw new InputError(
      'BUILD_LOCK_MISSING',
      `detbuild.lock has no entry for ${spec} (run "detbuild lock")`,
      {
        file: 'detbuild.lock',
        details: { package: spec },
      },
    )
  try {
    const manifest = await (await loadPacote()).manifest(spec, {
      ...options.fetchOptions,
      registry: options.registry,
      cache: path.join(options.cacheDir, '_cacache'),
    })
    if (!manifest._integrity || !manifest._resolved)
      throw new IncompleteError('BUILD_TOOLCHAIN_UNAVAILABLE', `the registry gave no integrity for ${spec}`)
    return { entry: { integrity: manifest._integrity, resolved: manifest._resolved }, added: true }
  } catch (e) {
    if (e instanceof IncompleteError) throw e
    const code = (e as { code?: string }).code
    if (code === 'E404' || code === 'ETARGET')
      throw new InputError('BUILD_TOOLCHAIN_NOT_FOUND', `${spec} is not published on ${options.registry}`, {
        cause: e,
      })
    throw new IncompleteError(
      'BUILD_TOOLCHAIN_UNAVAILABLE',
      `cannot fetch ${spec} from ${options.registry}: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
}

/**
 * What the extracted tree looked like right after pacote extracted it from the tarball it verified
 * against the lock: every entry's path, type, size, symlink target and identity (device, inode,
 * mtime and ctime in nanoseconds). ctime cannot be set by a user and moves on every change of content
 * or mode, and a file replaced by rename has another inode: a tree whose entries all still match was
 * not changed since. Checking it costs one lstat per entry, no hashing.
 */
interface TreeRecord {
  schemaVersion: 1
  integrity: string
  /** sha256 of the fingerprint lines */
  tree: string
}

const digestTree = (lines: readonly string[]) => createHash('sha256').update(lines.join('\n')).digest('hex')

/**
 * One line per entry, sorted by path: `<path>\0<type>\0<size>\0<dev:ino:mode:mtime:ctime>\0<link>`.
 * Synchronous on purpose: a node package has ~3,500 entries, and one async lstat each (a thread-pool
 * round trip) costs 0.4-2 s on a loaded machine where the synchronous walk takes a few dozen ms.
 */
function fingerprintTree(root: string): string[] {
  const out: string[] = []
  const walk = (rel: string): void => {
    const names = readdirSync(path.join(root, rel)).sort()
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`
      const abs = path.join(root, r)
      const st = lstatSync(abs, { bigint: true })
      const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : 'o'
      const id = [st.dev, st.ino, st.mode, st.mtimeNs, st.ctimeNs].join(':')
      const target = type === 'l' ? readlinkSync(abs) : ''
      out.push([r, type, type === 'f' ? String(st.size) : '', id, target].join('\0'))
      if (type === 'd') walk(r)
    }
  }
  walk('')
  return out
}

/** Whether `dir` is, entry for entry, the tree recorded at its verified extraction for `integrity`. */
async function isUnchanged(dir: string, recordFile: string, integrity: string): Promise<boolean> {
  let rec: Partial<TreeRecord>
  try {
    rec = JSON.parse(await readFile(recordFile, 'utf8')) as Partial<TreeRecord>
  } catch {
    return false
  }
  if (rec.schemaVersion !== 1 || rec.integrity !== integrity || typeof rec.tree !== 'string') return false
  try {
    return digestTree(fingerprintTree(dir)) === rec.tree
  } catch {
    return false
  }
}

/**
 * Returns the cached, verified package folder for `spec`, fetching it if needed. Before a cached
 * folder is used it is re-verified against the record made when it was extracted from the tarball
 * pacote checked against the lock's integrity (the root of trust): a file changed, added or removed
 * since (build code, another process) makes it refused and extracted again from the content-addressed
 * tarball (verified again by its integrity), or fetched; if neither works the build stops, the
 * changed tree is never run. The record sits beside the folder, outside what a build can see.
 */
export async function ensurePackage(
  spec: string,
  entry: LockEntry,
  options: Pick<ToolchainOptions, 'cacheDir' | 'registry' | 'fetchOptions' | 'onTampered'>,
): Promise<string> {
  const key = createHash('sha256').update(entry.integrity).digest('hex').slice(0, 16)
  const root = path.join(options.cacheDir, 'toolchains')
  const dir = path.join(root, `${spec.replace(/[/@]/g, '_')}-${key}`)
  const record = `${dir}.tree.json`
  if (await isUnchanged(dir, record, entry.integrity)) return dir
  if (
    options.onTampered &&
    (await lstat(dir).then(
      () => true,
      () => false,
    ))
  )
    options.onTampered(dir)
  // never left in place: a changed tree must not run even if the re-fetch below fails
  await rm(record, { force: true })
  await rm(dir, { recursive: true, force: true })
  await mkdir(root, { recursive: true })
  const tmp = `${dir}.tmp-${process.pid}`
  await rm(tmp, { recursive: true, force: true })
  try {
    await (await loadPacote()).extract(spec, tmp, {
      ...options.fetchOptions,
      registry: options.registry,
      integrity: entry.integrity,
      cache: path.join(options.cacheDir, '_cacache'),
      resolved: entry.resolved,
    })
  } catch (e) {
    await rm(tmp, { recursive: true, force: true })
    const err = e as { code?: string; expected?: unknown; found?: unknown }
    if (err.code === 'EINTEGRITY')
      throw integrityError(spec, entry.integrity, String(err.found ?? 'another digest'), e)
    throw new IncompleteError(
      'BUILD_TOOLCHAIN_UNAVAILABLE',
      `cannot fetch ${spec}: ${(e as Error).message}`,
      { cause: e },
    )
  }
  await rename(tmp, dir)
  // recorded after the rename (which keeps inodes and ctimes of the entries below it)
  const rec: TreeRecord = {
    schemaVersion: 1,
    integrity: entry.integrity,
    tree: digestTree(fingerprintTree(dir)),
  }
  await writeFile(`${record}.${process.pid}`, `${JSON.stringify(rec)}\n`)
  await rename(`${record}.${process.pid}`, record)
  return dir
}

async function pinnedSpec(
  spec: string,
  options: ToolchainOptions,
  lock: ToolchainLock,
): Promise<{ dir: string; entry: LockEntry; added: boolean }> {
  const { entry, added } = await resolveLockEntry(spec, { ...options, lock })
  const dir = await ensurePackage(spec, entry, options)
  if (added) lock.packages[spec] = entry
  return { dir, entry, added }
}

function versionOf(pin: ToolPin): string | null {
  return pin.kind === 'version' ? pin.version : null
}

/** Where the digest of a system binary is remembered: one small record per binary path. */
function systemDigestRecord(cacheDir: string, bin: string): string {
  return path.join(
    cacheDir,
    'system-tools',
    `${createHash('sha256').update(bin).digest('hex').slice(0, 16)}.json`,
  )
}

/**
 * Resolves node and npm per the config (both at once); writes shims into `binDir`. The node binary's
 * sha256 is computed once per cached package (or system binary) and remembered, not on every build.
 */
export async function resolveToolchain(
  config: BuildConfig,
  options: ToolchainOptions,
): Promise<ResolvedToolchain> {
  const lock: ToolchainLock = {
    lockfileVersion: 1,
    packages: { ...options.lock.packages },
    ...(options.lock.goToolchains ? { goToolchains: { ...options.lock.goToolchains } } : {}),
  }
  await mkdir(options.binDir, { recursive: true })
  const [nodeGot, npmGot, goGot] = await settleAll([
    resolveNode(config, options, lock),
    resolveNpm(config, options, lock),
    config.toolchain.go ? resolveGo(config.toolchain.go, options, lock) : Promise.resolve(null),
  ])
  const pathDirs = [options.binDir, ...(goGot ? [path.join(goGot.go.goroot, 'bin')] : []), ...npmGot.pathDirs]
  return {
    node: nodeGot.node,
    npm: npmGot.npm,
    go: goGot?.go ?? null,
    pathDirs: [...new Set(pathDirs)],
    nodeBin: nodeGot.bin,
    npmRoot: npmGot.root,
    lockChanged: nodeGot.added || npmGot.added || goGot?.added === true,
    lock,
  }
}

async function resolveNode(
  config: BuildConfig,
  options: ToolchainOptions,
  lock: ToolchainLock,
): Promise<{ node: ResolvedToolchain['node']; bin: string; added: boolean }> {
  const nodeVersion = versionOf(config.toolchain.node)
  if (nodeVersion) {
    const spec = `${nodePackageName(options.platform, options.arch)}@${nodeVersion}`
    const got = await pinnedSpec(spec, options, lock)
    const bin = path.join(got.dir, 'bin', 'node')
    // beside the package folder: a file inside it would change the verified tree
    const digest = await cachedToolDigest(bin, `${got.dir}.node-digest.json`)
    await symlink(bin, path.join(options.binDir, 'node'))
    return {
      node: {
        version: nodeVersion,
        pinned: true,
        integrity: got.entry.integrity,
        package: spec,
        resolved: got.entry.resolved,
        sha256: digest.sha256,
      },
      bin,
      added: got.added,
    }
  }
  const found = await findOnPath('node', options.hostPath)
  if (!found)
    throw new InputError('BUILD_TOOLCHAIN_NOT_FOUND', 'toolchain.node is "system" but no node is on PATH')
  const bin = await realpath(found)
  const digest = await cachedToolDigest(bin, systemDigestRecord(options.cacheDir, bin), async () => {
    const out = await captureOutput(bin, ['--version'], {}, options.binDir)
    return out ? out.replace(/^v/, '') : null
  })
  if (!digest.version) throw new InputError('BUILD_TOOLCHAIN_NOT_FOUND', `cannot run ${bin} --version`)
  await symlink(bin, path.join(options.binDir, 'node'))
  return {
    node: {
      version: digest.version,
      pinned: false,
      integrity: null,
      package: null,
      resolved: null,
      sha256: digest.sha256,
    },
    bin,
    added: false,
  }
}

async function resolveNpm(
  config: BuildConfig,
  options: ToolchainOptions,
  lock: ToolchainLock,
): Promise<{ npm: ToolRecord; pathDirs: string[]; root: string | null; added: boolean }> {
  const npmVersion = versionOf(config.toolchain.npm)
  if (npmVersion) {
    const spec = `npm@${npmVersion}`
    const got = await pinnedSpec(spec, options, lock)
    for (const [name, script] of [
      ['npm', 'npm-cli.js'],
      ['npx', 'npx-cli.js'],
    ] as const) {
      const shim = path.join(options.binDir, name)
      await writeFile(
        shim,
        `#!/bin/sh\nexec "${path.join(options.binDir, 'node')}" "${path.join(got.dir, 'bin', script)}" "$@"\n`,
      )
      await chmod(shim, 0o755)
    }
    return {
      npm: {
        version: npmVersion,
        pinned: true,
        integrity: got.entry.integrity,
        package: spec,
        resolved: got.entry.resolved,
      },
      pathDirs: [],
      root: got.dir,
      added: got.added,
    }
  }
  // the build finds the host's npm (its folder goes on PATH) or the system one; its version comes from
  // its package.json, or (UNKNOWN_NPM_VERSION) is asked by running it in the build environment
  const found = await findOnPath('npm', options.hostPath)
  const used = found ?? (await findOnPath('npm', SYSTEM_PATH.join(':')))
  const version = used ? await readNpmVersion(used) : null
  return {
    npm: {
      version: version ?? UNKNOWN_NPM_VERSION,
      pinned: false,
      integrity: null,
      package: null,
      resolved: null,
    },
    pathDirs: found ? [path.dirname(found)] : [],
    root: used ? await npmPackageRoot(used) : null,
    added: false,
  }
}

/**
 * `toolchain.go`: a release fetched as golang.org/toolchain from the module proxy and pinned by its h1:
 * in detbuild.lock (added on first use unless the lock is frozen), or the system go (version, GOROOT and
 * the binary's digest recorded, not pinned).
 */
async function resolveGo(
  pin: ToolPin,
  options: ToolchainOptions,
  lock: ToolchainLock,
): Promise<{ go: GoToolRecord; added: boolean }> {
  if (pin.kind === 'version') {
    const { goos, goarch } = goPlatform(options.platform, options.arch)
    const spec = `golang.org/toolchain@v0.0.1-go${pin.version}.${goos}-${goarch}`
    const locked = lock.goToolchains?.[spec] ?? null
    if (!locked && options.frozenLock)
      throw new InputError(
        'BUILD_LOCK_MISSING',
        `detbuild.lock has no entry for ${spec} (run "detbuild lock")`,
        {
          file: 'detbuild.lock',
          details: { package: spec },
        },
      )
    const got = await ensureGoToolchain({
      cacheDir: options.cacheDir,
      proxy: options.goProxy ?? 'https://proxy.golang.org',
      goVersion: pin.version,
      goos,
      goarch,
      locked,
      checksumDatabase: options.goSumdb === undefined ? resolveChecksumDatabase(undefined) : options.goSumdb,
      ...(options.onTampered ? { onTampered: options.onTampered } : {}),
    })
    if (got.added) lock.goToolchains = { ...(lock.goToolchains ?? {}), [spec]: got.entry }
    const bin = path.join(got.goroot, 'bin', 'go')
    const digest = await cachedToolDigest(bin, `${got.goroot}.go-digest.json`)
    return {
      go: {
        version: pin.version,
        pinned: true,
        module: spec,
        h1: got.entry.h1,
        resolved: got.entry.resolved,
        sha256: digest.sha256,
        checksumDatabase: got.checksumDatabase,
        goroot: got.goroot,
        hostMounts: [],
      },
      added: got.added,
    }
  }
  const found = await findOnPath('go', options.hostPath)
  if (!found)
    throw new InputError('BUILD_TOOLCHAIN_NOT_FOUND', 'toolchain.go is "system" but no go is on PATH')
  const bin = await realpath(found)
  // the go command reports its own GOROOT and release; nothing of the host's go env file is read
  const goEnv = { PATH: SYSTEM_PATH.join(':'), GOTOOLCHAIN: 'local', GOENV: 'off', HOME: options.binDir }
  const printed = await captureOutput(bin, ['env', 'GOROOT', 'GOVERSION'], goEnv, options.binDir)
  const [goroot, goVersion] = (printed ?? '').split('\n').map((l) => l.trim())
  if (!goroot || !goVersion?.startsWith('go'))
    throw new InputError('BUILD_TOOLCHAIN_NOT_FOUND', `cannot run ${bin} env GOROOT GOVERSION`)
  const digest = await cachedToolDigest(bin, systemDigestRecord(options.cacheDir, bin))
  return {
    go: {
      version: goVersion.replace(/^go/, '').split(/\s/)[0] as string,
      pinned: false,
      module: null,
      h1: null,
      resolved: null,
      sha256: digest.sha256,
      checksumDatabase: null,
      goroot: await realpath(goroot),
      hostMounts: await systemGoMounts(goroot),
    },
    added: false,
  }
}

/** A system GOROOT outside the room's /usr: it and where its top-level links lead, mounted at their own path. */
async function systemGoMounts(goroot: string): Promise<string[]> {
  const real = await realpath(goroot)
  if (real === '/usr' || real.startsWith('/usr/')) return []
  const out = new Set<string>()
  for (const name of readdirSync(real)) {
    const abs = path.join(real, name)
    if (!lstatSync(abs).isSymbolicLink()) continue
    try {
      const target = await realpath(abs)
      if (!target.startsWith('/usr/') && !target.startsWith(`${real}/`)) out.add(target)
    } catch {}
  }
  // GOROOT first, then the link targets
  return [real, ...[...out].sort()]
}

/** The npm package folder of an npm found on PATH (its bin is a link into the package), or null. */
async function npmPackageRoot(npmOnPath: string): Promise<string | null> {
  try {
    const root = path.dirname(path.dirname(await realpath(npmOnPath)))
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { name?: unknown }
    return pkg.name === 'npm' ? root : null
  } catch {
    return null
  }
}

/** The npm version before it is known: the build then runs `npm --version` in its environment. */
export const UNKNOWN_NPM_VERSION = 'unknown'
