/**
 * Edge (network, file system): a pinned Go toolchain, as the go command itself fetches one when
 * `GOTOOLCHAIN` asks for it: the module `golang.org/toolchain@v0.0.1-go<version>.<goos>-<goarch>` from
 * a module proxy, a zip holding a whole GOROOT under `golang.org/toolchain@<module version>/`. The zip
 * is verified against the `h1:` pinned in detbuild.lock (the first fetch records it, as a node pin
 * records its registry integrity; a later one that differs is refused, GO_TOOLCHAIN_CHECKSUM_MISMATCH,
 * exit 1), checked by Go's module zip rules, unpacked into detbuild's cache with the executable bits Go
 * sets (bin/ and pkg/tool/), made read-only, and re-verified before every use against a record of the
 * unpacked tree (a changed file makes it unpacked again from the verified zip).
 *
 * Every zip fetched from the proxy is also checked with the Go checksum database (GOSUMDB, default
 * sum.golang.org; sumdb.ts): its signed tree head and the record's inclusion proof are verified and its
 * h1: must equal the zip's, so the first pin does not rest on the proxy's word alone (GO_SUMDB_MISMATCH,
 * exit 1). `GOSUMDB=off` skips it, said in build.json (`checksumDatabase: "off"`); a toolchain taken
 * from detbuild's verified cache fetches nothing and is protected by the pin (`"cached"`).
 */
import { createHash } from 'node:crypto'
import { chmodSync, lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { CheckFailedError } from '../../errors.ts'
import { withoutCredentials } from '../../util/redact.ts'
import { readZipEntries, readZipEntry, type ZipFail } from '../../util/zip.ts'
import { hashZip } from './dirhash.ts'
import { checkModuleZip, fetchFromProxy, MAX_ZIP_BYTES, proxyUrl } from './module-proxy.ts'
import { type ChecksumDatabase, lookupChecksumDatabase } from './sumdb.ts'

export const TOOLCHAIN_MODULE = 'golang.org/toolchain'

/** GOOS/GOARCH of a Node platform/arch (`linux`/`x64` → `linux`/`amd64`). */
export function goPlatform(platform: string, arch: string): { goos: string; goarch: string } {
  const goos = platform === 'win32' ? 'windows' : platform
  const goarch =
    (
      {
        x64: 'amd64',
        ia32: '386',
        arm64: 'arm64',
        arm: 'arm',
        ppc64: 'ppc64le',
        s390x: 's390x',
        riscv64: 'riscv64',
      } as Record<string, string>
    )[arch] ?? arch
  return { goos, goarch }
}

/** The toolchain module's version for a Go release: `1.26.10` → `v0.0.1-go1.26.10.linux-amd64`. */
export function toolchainModuleVersion(goVersion: string, goos: string, goarch: string): string {
  return `v0.0.1-go${goVersion}.${goos}-${goarch}`
}

/** A pinned toolchain's lock entry: the zip's `h1:` and where it was fetched from. */
export interface GoToolchainLockEntry {
  h1: string
  resolved: string
}

interface TreeRecord {
  schemaVersion: 1
  h1: string
  tree: string
}

/** One line per entry of an unpacked tree, sorted, naming its identity (see builder/toolchain.ts). */
function fingerprintTree(root: string): string {
  const hash = createHash('sha256')
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(root, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`
      const st = lstatSync(path.join(root, r), { bigint: true })
      const type = st.isDirectory() ? 'd' : st.isFile() ? 'f' : st.isSymbolicLink() ? 'l' : 'o'
      const target = type === 'l' ? readlinkSync(path.join(root, r)) : ''
      hash.update(
        `${[r, type, type === 'f' ? String(st.size) : '', [st.dev, st.ino, st.mode, st.mtimeNs, st.ctimeNs].join(':'), target].join('\0')}\n`,
      )
      if (type === 'd') walk(r)
    }
  }
  walk('')
  return hash.digest('hex')
}

async function isUnchanged(dir: string, recordFile: string, h1: string): Promise<boolean> {
  try {
    const rec = JSON.parse(await readFile(recordFile, 'utf8')) as Partial<TreeRecord>
    return rec.schemaVersion === 1 && rec.h1 === h1 && rec.tree === fingerprintTree(dir)
  } catch {
    return false
  }
}

/** Go makes these executable when it unpacks a toolchain zip (cmd/go/internal/toolchain). */
const isExecutable = (rel: string): boolean =>
  /^bin\/[^/]+$/.test(rel) || /^pkg\/tool\/[^/]+\/[^/]+$/.test(rel)

/** Makes a tree read-only (directories last, so their files can still be changed before). */
function makeReadOnly(root: string): void {
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const abs = path.join(dir, name)
      const st = lstatSync(abs)
      if (st.isDirectory()) walk(abs)
      else if (st.isFile()) chmodSync(abs, st.mode & 0o111 ? 0o555 : 0o444)
    }
    chmodSync(dir, 0o555)
  }
  walk(root)
}

/** Makes a read-only tree writable again so it can be removed. */
function makeWritable(root: string): void {
  try {
    const walk = (dir: string): void => {
      chmodSync(dir, 0o755)
      for (const name of readdirSync(dir)) {
        const abs = path.join(dir, name)
        if (lstatSync(abs).isDirectory()) walk(abs)
      }
    }
    walk(root)
  } catch {}
}

export interface GoToolchainOptions {
  /** detbuild's cache root: the toolchain is kept under `<cacheDir>/go-toolchains/` */
  cacheDir: string
  proxy: string
  goVersion: string
  goos: string
  goarch: string
  /** the pin from detbuild.lock, or null (the first fetch records it, unless frozen) */
  locked: GoToolchainLockEntry | null
  /** the checksum database a fetched zip is checked with (GOSUMDB), or null (GOSUMDB=off) */
  checksumDatabase: ChecksumDatabase | null
  /** told when a cached toolchain no longer matches its record and is unpacked again */
  onTampered?: (dir: string) => void
}

export interface GoToolchain {
  /** GOROOT on the host (read-only) */
  goroot: string
  /** `golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64` */
  spec: string
  entry: GoToolchainLockEntry
  /** true when the pin was added now */
  added: boolean
  /**
   * the checksum database the zip was checked with in this run (`sum.golang.org`), `"off"` (GOSUMDB=off),
   * or `"cached"`: nothing was fetched, the verified cache and detbuild.lock's pin were used
   */
  checksumDatabase: string
}

/**
 * Returns a verified, read-only GOROOT for the pinned Go version, fetching the toolchain zip from the
 * module proxy when the cache does not hold it unchanged.
 */
export async function ensureGoToolchain(options: GoToolchainOptions): Promise<GoToolchain> {
  const version = toolchainModuleVersion(options.goVersion, options.goos, options.goarch)
  const spec = `${TOOLCHAIN_MODULE}@${version}`
  const root = path.join(options.cacheDir, 'go-toolchains')
  const key = options.locked
    ? createHash('sha256').update(options.locked.h1).digest('hex').slice(0, 16)
    : null
  const dirFor = (k: string) =>
    path.join(root, `go${options.goVersion}.${options.goos}-${options.goarch}-${k}`)
  if (options.locked && key) {
    const dir = dirFor(key)
    if (await isUnchanged(dir, `${dir}.tree.json`, options.locked.h1))
      return { goroot: dir, spec, entry: options.locked, added: false, checksumDatabase: 'cached' }
  }
  // the verified zip is kept beside the trees: a changed tree is unpacked again without the network
  const zipFile = path.join(root, 'zips', `${spec.replace(/[/@]/g, '_')}.zip`)
  const url = proxyUrl(options.proxy, TOOLCHAIN_MODULE, version, 'zip')
  const prefix = `${spec}/`
  const fail: ZipFail = (why) => {
    throw new CheckFailedError('GO_TOOLCHAIN_ZIP_INVALID', `${spec}: the toolchain zip ${why}`, {
      details: { module: spec },
    })
  }
  let zip: Buffer | null = null
  let h1: string | null = null
  let checksumDatabase = 'cached'
  if (options.locked) {
    try {
      const cached = await readFile(zipFile)
      checkModuleZip(cached, prefix, fail)
      if (hashZip(cached, fail) === options.locked.h1) {
        zip = cached
        h1 = options.locked.h1
      }
    } catch {}
  }
  if (zip === null) {
    zip = await fetchFromProxy(url, MAX_ZIP_BYTES, spec)
    checkModuleZip(zip, prefix, fail)
    h1 = hashZip(zip, fail)
    if (options.locked && h1 !== options.locked.h1)
      throw new CheckFailedError(
        'GO_TOOLCHAIN_CHECKSUM_MISMATCH',
        `${spec} from ${withoutCredentials(options.proxy)} has ${h1}, but detbuild.lock pins ${options.locked.h1}: refusing to use it`,
        { file: 'detbuild.lock', details: { module: spec, expected: options.locked.h1, found: h1 } },
      )
    checksumDatabase = await checkWithDatabase(options, version, h1)
    await mkdir(path.dirname(zipFile), { recursive: true })
    await writeFile(`${zipFile}.${process.pid}`, zip)
    await rename(`${zipFile}.${process.pid}`, zipFile)
  }
  // the lock is committed: a proxy URL's credentials never reach it
  const entry: GoToolchainLockEntry = options.locked ?? {
    h1: h1 as string,
    resolved: withoutCredentials(url),
  }
  const dir = dirFor(createHash('sha256').update(entry.h1).digest('hex').slice(0, 16))
  const record = `${dir}.tree.json`
  // a first pin whose zip was unpacked before (another project, a deleted lock): the same verified tree
  if (!options.locked && (await isUnchanged(dir, record, entry.h1)))
    return { goroot: dir, spec, entry, added: true, checksumDatabase }
  if (options.locked) {
    const stale = await readFile(record, 'utf8').then(
      () => true,
      () => false,
    )
    if (stale) options.onTampered?.(dir)
  }
  await rm(record, { force: true })
  makeWritable(dir)
  await rm(dir, { recursive: true, force: true })
  const tmp = `${dir}.tmp-${process.pid}`
  makeWritable(tmp)
  await rm(tmp, { recursive: true, force: true })
  await unpack(zip, prefix, tmp, fail)
  await checkVersionFile(tmp, options.goVersion, spec)
  makeReadOnly(tmp)
  await chmod(tmp, 0o755)
  await rename(tmp, dir)
  await chmod(dir, 0o555)
  const rec: TreeRecord = { schemaVersion: 1, h1: entry.h1, tree: fingerprintTree(dir) }
  await writeFile(`${record}.${process.pid}`, `${JSON.stringify(rec)}\n`)
  await rename(`${record}.${process.pid}`, record)
  return { goroot: dir, spec, entry, added: options.locked === null, checksumDatabase }
}

/** The zip just fetched must be the one the checksum database recorded; returns the database's name. */
async function checkWithDatabase(options: GoToolchainOptions, version: string, h1: string): Promise<string> {
  if (!options.checksumDatabase) return 'off'
  const spec = `${TOOLCHAIN_MODULE}@${version}`
  const rec = await lookupChecksumDatabase(options.checksumDatabase, options.proxy, TOOLCHAIN_MODULE, version)
  if (rec.h1 !== h1)
    throw new CheckFailedError(
      'GO_SUMDB_MISMATCH',
      `${spec} from ${withoutCredentials(options.proxy)} has ${h1}, but the checksum database ${rec.database} records ${rec.h1}: refusing to use it`,
      { details: { module: spec, database: rec.database, expected: rec.h1, found: h1 } },
    )
  return rec.database
}

async function unpack(zip: Buffer, prefix: string, dest: string, fail: ZipFail): Promise<void> {
  await mkdir(dest, { recursive: true })
  const made = new Set<string>()
  for (const e of readZipEntries(zip, fail)) {
    const rel = e.name.slice(prefix.length)
    const file = path.join(dest, ...rel.split('/'))
    const parent = path.dirname(file)
    if (!made.has(parent)) {
      await mkdir(parent, { recursive: true })
      made.add(parent)
    }
    await writeFile(file, readZipEntry(zip, e, fail, { checkCrc: true }), {
      mode: isExecutable(rel) ? 0o755 : 0o644,
    })
  }
}

/** The unpacked GOROOT's VERSION file must name the pinned release (`go1.26.10` on its first line). */
async function checkVersionFile(goroot: string, goVersion: string, spec: string): Promise<void> {
  const text = await readFile(path.join(goroot, 'VERSION'), 'utf8').catch(() => null)
  const first = text?.split('\n')[0]?.trim()
  if (first !== `go${goVersion}`)
    throw new CheckFailedError(
      'GO_TOOLCHAIN_ZIP_INVALID',
      `${spec}: its VERSION file says ${JSON.stringify(first ?? null)}, not go${goVersion}`,
      { details: { module: spec } },
    )
  try {
    lstatSync(path.join(goroot, 'bin', 'go'))
  } catch {
    throw new CheckFailedError('GO_TOOLCHAIN_ZIP_INVALID', `${spec}: the toolchain zip has no bin/go`, {
      details: { module: spec },
    })
  }
}
