/**
 * Edge: the registry and the npm cache. Before an offline install, everything `npm ci --offline` will
 * read from the npm cache is put there (tarballs verified by their lockfile integrity), so the install
 * runs with no network. What npm reads (npm 11: @npmcli/arborist reify + pacote + make-fetch-happen):
 * - a tarball, by the digest of its lockfile integrity (cacache `content-v2/<algo>/<hex>`, the
 *   strongest algorithm of the entry: a package listed with sha1 in one entry and sha512 in another is
 *   read by both digests);
 * - for an entry without `resolved` (npm's `omit-lockfile-registry-resolved`), the package's corgi
 *   packument (`make-fetch-happen:request-cache:<registry>/<name>`, accept = corgi), to find the
 *   tarball; and for a lockfile v1, the corgi packument of every registry package (arborist inflates
 *   an old lockfile from the registry before it installs).
 * What is already there costs a stat (and one small read per packument), not a registry round trip.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { format as formatUrl } from 'node:url'
import ssri from 'ssri'
import { CheckFailedError, IncompleteError, InputError } from '../errors.ts'
import type { FetchOptions } from './fetch-options.ts'

/** pacote (and the npm fetch stack under it) takes ~0.3 s to load: only builds that fetch pay for it. */
const loadPacote = async () => (await import('pacote')).default

/** The Accept header npm sends for the abbreviated ("corgi") packument it installs from. */
const CORGI_ACCEPT = 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*'

export interface PrefetchItem {
  /** what pacote fetches: a tarball URL, `name@version` (registry, no `resolved`), or `name@<git url>` */
  resolved: string
  /** every hash the lockfile gives for this package, merged (null: the lockfile gives none) */
  integrity: string | null
  /** the registry package whose corgi packument npm reads for it, or null */
  packument: { name: string; version: string } | null
}

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
const SEMVER = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]*)?$/
const GIT = /^(?:git\+|git:|github:|gitlab:|bitbucket:|gist:)/
/** git hosts pacote fetches a commit of as a plain https tarball (hosted-git-info), cacheable by URL */
const HOSTED_GIT =
  /^(?:(?:git\+(?:ssh|https?)|git):\/\/(?:git@)?(?:github\.com|gitlab\.com|bitbucket\.org)[/:]|(?:github|gitlab|bitbucket):)[^#]+#[0-9a-f]{40}$/

/**
 * What a package-lock (v1, v2, v3) or npm-shrinkwrap makes `npm ci --offline` read from the cache:
 * skips the root, links (workspaces, `file:` folders), bundled entries (they ship inside their parent)
 * and local `file:` tarballs (read from the source); one item per tarball, with the integrities of
 * every entry that lists it merged. Throws BUILD_LOCKFILE_INVALID (exit 2, naming the JSON path) for
 * an entry that is not an object, an integrity ssri reads no hash from, or a lockfile without
 * `packages` or `dependencies`; BUILD_PREFETCH_UNSUPPORTED (exit 2) for a git dependency that only a
 * `git clone` could fetch (a host other than GitHub, GitLab or Bitbucket, or no commit pinned).
 */
export function toPrefetchList(lock: unknown, file = 'package-lock.json'): PrefetchItem[] {
  const invalid = (where: string, why: string) =>
    new InputError('BUILD_LOCKFILE_INVALID', `${where} ${why}`, { file, details: { path: `$.${where}` } })
  if (!isObject(lock)) throw new InputError('BUILD_LOCKFILE_INVALID', 'expected a JSON object', { file })
  const items = new Map<string, PrefetchItem>()
  const integrityOf = (p: Json, where: string): string | null => {
    if (p.integrity === undefined) return null
    if (
      typeof p.integrity !== 'string' ||
      !hashesOf(p.integrity).some((h) => /^sha(?:1|256|384|512)$/.test(h.algorithm))
    )
      throw invalid(`${where}.integrity`, 'must be an SRI integrity string such as "sha512-<base64>"')
    return p.integrity
  }
  const add = (where: string, item: PrefetchItem) => {
    if (GIT.test(item.resolved.slice(item.resolved.indexOf('@', 1) + 1)) || GIT.test(item.resolved)) {
      const url = item.resolved.slice(item.resolved.indexOf('@', 1) + 1)
      if (!HOSTED_GIT.test(url))
        throw new InputError(
          'BUILD_PREFETCH_UNSUPPORTED',
          `${where}: the git dependency ${url} can only be fetched by "git clone", which an offline install cannot do (use network: "allow", or depend on a published version)`,
          { file, details: { path: `$.${where}`, resolved: url } },
        )
    }
    const seen = items.get(item.resolved)
    if (!seen) {
      items.set(item.resolved, item)
      return
    }
    // one tarball listed twice (sha1 in one entry, sha512 in another): npm reads it by each
    if (!mergeInto(seen, item))
      throw invalid(`${where}.integrity`, `contradicts another entry for ${item.resolved}`)
  }
  const registryItem = (name: string, version: string, integrity: string | null, packument: boolean) => ({
    resolved: `${name}@${version}`,
    integrity,
    packument: packument ? { name, version } : null,
  })

  if (lock.packages !== undefined) {
    if (!isObject(lock.packages)) throw invalid('packages', 'must be an object')
    for (const [key, p] of Object.entries(lock.packages)) {
      const where = `packages[${JSON.stringify(key)}]`
      if (!isObject(p)) throw invalid(where, 'must be an object')
      const at = key.lastIndexOf('node_modules/')
      // the root, workspace folders (link targets), links and bundled packages fetch nothing
      if (at < 0 || p.link === true || p.inBundle === true) continue
      const integrity = integrityOf(p, where)
      const name = typeof p.name === 'string' ? p.name : key.slice(at + 'node_modules/'.length)
      if (typeof p.resolved === 'string') {
        if (/^https?:/.test(p.resolved)) add(where, { resolved: p.resolved, integrity, packument: null })
        else if (GIT.test(p.resolved))
          add(where, { resolved: `${name}@${p.resolved}`, integrity: null, packument: null })
        // file: tarballs and folders come from the source
        continue
      }
      if (typeof p.version === 'string' && SEMVER.test(p.version))
        add(where, registryItem(name, p.version, integrity, true))
    }
  } else if (lock.dependencies !== undefined) {
    // lockfile v1: a tree of `dependencies`; `version` is a semver, `npm:real@v`, a URL, git or file:
    const walk = (deps: unknown, where: string): void => {
      if (!isObject(deps)) throw invalid(where, 'must be an object')
      for (const [key, d] of Object.entries(deps)) {
        const at = `${where}[${JSON.stringify(key)}]`
        if (!isObject(d)) throw invalid(at, 'must be an object')
        if (d.bundled === true) continue
        const integrity = integrityOf(d, at)
        const version = typeof d.version === 'string' ? d.version : ''
        const alias = /^npm:((?:@[^@/]+\/)?[^@/]+)@(.+)$/.exec(version)
        const [name, v] = alias ? [alias[1] as string, alias[2] as string] : [key, version]
        if (SEMVER.test(v)) {
          const item = registryItem(name, v, integrity, true)
          if (typeof d.resolved === 'string' && /^https?:/.test(d.resolved)) item.resolved = d.resolved
          add(at, item)
        } else if (/^https?:/.test(version)) {
          add(at, { resolved: version, integrity, packument: null })
        } else if (GIT.test(version)) {
          add(at, { resolved: `${key}@${version}`, integrity: null, packument: null })
        }
        if (d.dependencies !== undefined) walk(d.dependencies, `${at}.dependencies`)
      }
    }
    walk(lock.dependencies, 'dependencies')
  } else if (lock.lockfileVersion !== undefined) {
    throw invalid('packages', 'is missing (and there are no v1 "dependencies")')
  }
  return [...items.values()].sort((a, b) => compare(a.resolved, b.resolved))
}

interface Hash {
  algorithm: string
  digest: string
  hexDigest(): string
}

function hashesOf(integrity: string): Hash[] {
  const parsed = ssri.parse(integrity)
  if (parsed === null) return []
  return (Object.values(parsed) as unknown as Hash[][]).flat()
}

const contentPath = (cache: string, h: Hash) => {
  const hex = h.hexDigest()
  return path.join(cache, 'content-v2', h.algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4))
}

const exists = (file: string) =>
  stat(file).then(
    () => true,
    () => false,
  )

/**
 * Whether cacache already holds the content of `integrity` (its `content-v2/<algo>/<hex>` layout)
 * under any of its hashes. npm reads a locked tarball by that digest and verifies it as it reads, so a
 * stat is enough here: a damaged entry fails the offline install, it is never used.
 */
export async function hasCachedContent(cache: string, integrity: string): Promise<boolean> {
  for (const h of hashesOf(integrity)) if (await exists(contentPath(cache, h))) return true
  return false
}

/**
 * Makes the content readable under every hash of `integrity` (npm reads the strongest one of the
 * entry at hand). `data` is the tarball when just fetched; else it is read from a hash already there.
 * Each hash is checked against the bytes before they are filed under it.
 */
async function fileUnderEveryHash(cache: string, integrity: string, data?: Buffer): Promise<void> {
  const hashes = hashesOf(integrity)
  const missing: Hash[] = []
  let bytes = data
  for (const h of hashes) {
    const file = contentPath(cache, h)
    if (!(await exists(file))) missing.push(h)
    else if (!bytes) {
      const read = await readFile(file)
      if (ssri.checkData(read, `${h.algorithm}-${h.digest}`)) bytes = read
    }
  }
  if (missing.length === 0 || !bytes) return
  for (const h of missing) {
    if (!ssri.checkData(bytes, `${h.algorithm}-${h.digest}`))
      throw Object.assign(new Error(`content does not match ${h.algorithm}-${h.digest}`), {
        code: 'EINTEGRITY',
      })
    const file = contentPath(cache, h)
    await mkdir(path.dirname(file), { recursive: true })
    const tmp = `${file}.detbuild-${process.pid}`
    await writeFile(tmp, bytes, { mode: 0o444 })
    await rename(tmp, file)
  }
}

/** The cacache index bucket of `key` (index-v5, sha256 of the key). */
function bucketPath(cache: string, key: string): string {
  const hex = createHash('sha256').update(key).digest('hex')
  return path.join(cache, 'index-v5', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4))
}

/** make-fetch-happen's cache key for a URL (its cacheKey: no credentials, no fragment). */
export function requestCacheKey(url: string): string {
  const u = new URL(url)
  return `make-fetch-happen:request-cache:${formatUrl({
    protocol: u.protocol,
    slashes: true,
    port: u.port,
    hostname: u.hostname,
    pathname: u.pathname,
    search: u.search,
  })}`
}

/**
 * The scoped registries of a project's `.npmrc` (`@scope:registry=<url>`), which npm in the build reads
 * too (the environment sets only the default registry). A value with a `${VAR}` reference is left out:
 * its URL depends on the host's environment, which the build does not get.
 */
export function toScopeRegistries(npmrc: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of npmrc.split(/\r?\n/)) {
    const line = raw.trim()
    const m = /^(@[a-z0-9][\w.-]*):registry\s*=\s*"?([^"\s]+)"?$/i.exec(line)
    if (!m || (m[2] as string).includes('${') || !/^https?:\/\//.test(m[2] as string)) continue
    out[m[1] as string] = m[2] as string
  }
  return out
}

/** The packument URL npm reads for `name` (pacote: registry without trailing slashes + escaped name). */
export function packumentUrl(registry: string, name: string): string {
  return `${registry.replace(/\/+$/, '')}/${name.replace('/', '%2f')}`
}

/**
 * The integrity of the newest corgi response cacache holds for `url` whose content is there, or null.
 * Lines are `<sha1 of json>\t<json>`; the last valid one wins, as in cacache.
 */
async function cachedCorgi(cache: string, url: string): Promise<string | null> {
  const key = requestCacheKey(url)
  let text: string
  try {
    text = await readFile(bucketPath(cache, key), 'utf8')
  } catch {
    return null
  }
  let found: string | null = null
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t')
    if (tab < 0) continue
    const json = line.slice(tab + 1)
    if (createHash('sha1').update(json).digest('hex') !== line.slice(0, tab)) continue
    try {
      const e = JSON.parse(json) as {
        key?: unknown
        integrity?: unknown
        metadata?: { reqHeaders?: { accept?: unknown } }
      }
      if (e.key === key && typeof e.integrity === 'string' && e.metadata?.reqHeaders?.accept === CORGI_ACCEPT)
        found = e.integrity
      else if (e.key === key) found = null
    } catch {}
  }
  if (found === null || !(await hasCachedContent(cache, found))) return null
  return found
}

/**
 * The versions a cached packument lists, remembered beside the cache by the packument's own digest
 * (parsing a big packument costs more than its whole lookup); a packument that changes has another
 * digest. A wrong record can only make the offline install fail, never install other bytes: npm
 * verifies every tarball against the lockfile.
 */
async function packumentVersions(cache: string, integrity: string): Promise<Set<string> | null> {
  const record = path.join(
    cache,
    '..',
    '_detbuild',
    'packument-versions',
    createHash('sha256').update(integrity).digest('hex'),
  )
  try {
    const list = JSON.parse(await readFile(record, 'utf8')) as unknown
    if (Array.isArray(list) && list.every((v) => typeof v === 'string')) return new Set(list)
  } catch {}
  for (const h of hashesOf(integrity)) {
    try {
      const bytes = await readFile(contentPath(cache, h))
      if (!ssri.checkData(bytes, `${h.algorithm}-${h.digest}`)) continue
      const doc = JSON.parse(bytes.toString('utf8')) as { versions?: unknown }
      if (!isObject(doc.versions)) return null
      const versions = Object.keys(doc.versions).sort(compare)
      await mkdir(path.dirname(record), { recursive: true })
      await writeFile(`${record}.${process.pid}`, JSON.stringify(versions))
      await rename(`${record}.${process.pid}`, record)
      return new Set(versions)
    } catch {}
  }
  return null
}

export interface PrefetchResult {
  /** items fetched from the registry (the rest were in the cache already) */
  fetched: number
  /** packuments fetched from the registry */
  packuments: number
}

/**
 * Adds what a second listing of one tarball knows to the first: every digest (npm reads it by each) and
 * the packument. False when the two give different digests of one algorithm (`seen` is then unchanged).
 */
function mergeInto(seen: PrefetchItem, item: PrefetchItem): boolean {
  if (item.integrity && seen.integrity) {
    const merged = ssri.parse(seen.integrity)
    try {
      merged.merge(ssri.parse(item.integrity))
    } catch {
      return false
    }
    seen.integrity = merged.toString()
  } else seen.integrity ??= item.integrity
  seen.packument ??= item.packument
  return true
}

/**
 * The items of several lockfiles as one list (a lerna repository installs each package from its own
 * lockfile): one item per tarball, the integrities of every lockfile that lists it merged. Two lockfiles
 * that give one tarball different digests of one algorithm: BUILD_LOCKFILE_INVALID (exit 2).
 */
export function mergePrefetchLists(
  lists: ReadonlyArray<{ file: string; items: readonly PrefetchItem[] }>,
): PrefetchItem[] {
  const byKey = new Map<string, PrefetchItem>()
  for (const { file, items } of lists)
    for (const item of items) {
      const seen = byKey.get(item.resolved)
      if (!seen) {
        byKey.set(item.resolved, { ...item })
        continue
      }
      if (!mergeInto(seen, item))
        throw new InputError(
          'BUILD_LOCKFILE_INVALID',
          `the integrity of ${item.resolved} contradicts another lockfile's`,
          { file, details: { resolved: item.resolved } },
        )
    }
  return [...byKey.values()].sort((a, b) => compare(a.resolved, b.resolved))
}

/**
 * Fetches every item into `<npmCache>/_cacache` as npm will read it offline. An item whose content
 * (under each of its hashes) and packument (listing its version) are cached costs stats and one small
 * read: no pacote round trip. Integrity mismatch: BUILD_PREFETCH_INTEGRITY (exit 1); a registry that
 * cannot be read: BUILD_PREFETCH_FAILED (exit 3).
 */
export async function prefetchPackages(
  items: readonly PrefetchItem[],
  npmCache: string,
  registry: string,
  fetchOptions: FetchOptions = {},
  /** `@scope` → registry URL, from the project's `.npmrc` (toScopeRegistries) */
  scopes: Readonly<Record<string, string>> = {},
): Promise<PrefetchResult> {
  const cache = path.join(npmCache, '_cacache')
  const registryOf = (name: string) =>
    (name.startsWith('@') ? scopes[name.slice(0, name.indexOf('/'))] : undefined) ?? registry
  // npm's own fetch-retries (2): a registry that drops one connection is not a failed build
  const opts = {
    cache,
    registry,
    // pacote (npm-registry-fetch) picks a scoped package's registry from `<scope>:registry`
    ...Object.fromEntries(Object.entries(scopes).map(([scope, url]) => [`${scope}:registry`, url])),
    ...fetchOptions,
    packumentCache: new Map(),
    retry: { retries: 2, factor: 3, minTimeout: 500, maxTimeout: 3000 },
  }
  // one packument per package name, looked up (and fetched) once
  const packuments = new Map<string, Promise<Set<string> | null>>()
  const refreshed = new Map<string, Promise<void>>()
  const result: PrefetchResult = { fetched: 0, packuments: 0 }
  const listed = (name: string, version: string) => {
    let p = packuments.get(name)
    if (!p) {
      p = cachedCorgi(cache, packumentUrl(registryOf(name), name)).then((i) =>
        i === null ? null : packumentVersions(cache, i),
      )
      packuments.set(name, p)
    }
    return p.then((v) => v?.has(version) === true)
  }
  // once per name, awaited by every item of that name (a tarball resolved through a stale packument
  // would not be found)
  const refreshPackument = (name: string, version: string): Promise<void> => {
    let p = refreshed.get(name)
    if (!p) {
      p = (async () => {
        // revalidate: a cached packument older than the lockfile does not list its version
        await (await loadPacote()).manifest(`${name}@${version}`, { ...opts, preferOnline: true })
        packuments.delete(name)
        result.packuments++
      })()
      refreshed.set(name, p)
    }
    return p
  }
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as PrefetchItem
      try {
        const haveContent =
          item.integrity !== null &&
          (await Promise.all(hashesOf(item.integrity).map((h) => exists(contentPath(cache, h))))).every(
            Boolean,
          )
        const havePackument =
          item.packument === null || (await listed(item.packument.name, item.packument.version))
        if (haveContent && havePackument) continue
        if (!havePackument && item.packument) {
          await refreshPackument(item.packument.name, item.packument.version)
        }
        if (haveContent) continue
        if (item.integrity !== null && (await hasCachedContent(cache, item.integrity))) {
          // cached under another of its hashes: filed under the missing ones from the bytes there
          await fileUnderEveryHash(cache, item.integrity)
          if (await allFiled(cache, item.integrity)) continue
        }
        const data = await (await loadPacote()).tarball(item.resolved, {
          ...opts,
          ...(item.integrity ? { integrity: item.integrity } : {}),
          preferOffline: true,
        })
        if (item.integrity) await fileUnderEveryHash(cache, item.integrity, data)
        result.fetched++
      } catch (e) {
        if (e instanceof InputError) throw e
        const code = (e as { code?: string }).code
        if (code === 'EINTEGRITY')
          throw new CheckFailedError(
            'BUILD_PREFETCH_INTEGRITY',
            `${item.resolved} does not match its lockfile integrity`,
            { details: { resolved: item.resolved, expected: item.integrity }, cause: e },
          )
        throw new IncompleteError(
          'BUILD_PREFETCH_FAILED',
          `cannot prefetch ${item.resolved}: ${(e as Error).message}`,
          { cause: e },
        )
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker))
  return result
}

async function allFiled(cache: string, integrity: string): Promise<boolean> {
  for (const h of hashesOf(integrity)) if (!(await exists(contentPath(cache, h)))) return false
  return true
}

/** The folders install commands install on their own: `cd <dir> && npm ci|install`, `npm ci --prefix <dir>`. */
export function installFolders(commands: readonly string[]): string[] {
  const dirs: string[] = []
  const clean = (d: string) => path.posix.normalize(d.replace(/^(['"])(.*)\1$/, '$2')).replace(/\/$/, '')
  for (const c of commands) {
    for (const m of c.matchAll(/\bcd\s+('[^']+'|"[^"]+"|[^\s&;|]+)\s*&&\s*npm\s+(?:ci|install|i)\b/g))
      dirs.push(clean(m[1] as string))
    for (const m of c.matchAll(/\bnpm\s+(?:ci|install|i)\b[^&;|]*--prefix[=\s]+('[^']+'|"[^"]+"|[^\s&;|]+)/g))
      dirs.push(clean(m[1] as string))
  }
  // a folder outside the project is no package of it
  return dirs.filter((d) => d !== '.' && !d.startsWith('..') && !path.posix.isAbsolute(d))
}
