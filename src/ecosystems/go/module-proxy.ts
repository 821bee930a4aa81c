/**
 * Edge (network, file system): Go module downloads through a module proxy (the GOPROXY protocol:
 * `<proxy>/<escaped module>/@v/<escaped version>.{mod,zip}`), each verified against the `h1:` it must
 * have (a go.sum line, or detbuild.lock's pin for a toolchain) before it is kept, and the checks Go's
 * own module zip reader makes (golang.org/x/mod/zip: every name under `<module>@<version>/`, no
 * directory entries, no `..`, no case-folding duplicates, 500 MiB at most). Everything a proxy sends is
 * hostile: a reply is read with a byte cap, hashed, and refused with a GO_* code when it does not match.
 *
 * The prefetched modules are kept in Go's own download-cache layout
 * (`<GOMODCACHE>/cache/download/<escaped module>/@v/<escaped version>.{mod,zip,ziphash}`), which the go
 * command reads with `GOPROXY=off`: no module code runs while downloading (this code only fetches and
 * hashes), and the build itself never reaches a network.
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { CheckFailedError, IncompleteError, InputError } from '../../errors.ts'
import { readCappedBody } from '../../util/http-body.ts'
import { withoutCredentials } from '../../util/redact.ts'
import { readZipEntries, type ZipFail } from '../../util/zip.ts'
import { hashGoMod, hashZip } from './dirhash.ts'
import { type GoSumEntry, parseGoSumEntries } from './gosum.ts'

/** The public Go module proxy (GOPROXY's default). */
export const DEFAULT_GOPROXY = 'https://proxy.golang.org'

/** Go's own limits (golang.org/x/mod/zip): a module zip's size, uncompressed, and a go.mod's. */
export const MAX_ZIP_BYTES = 500 * 1024 * 1024
export const MAX_GO_MOD_BYTES = 16 * 1024 * 1024

/**
 * A module path or version as the proxy protocol and the module cache spell it: every upper-case
 * letter becomes `!` + its lower case (golang.org/x/mod/module.EscapePath). `!` itself is not allowed.
 */
export function escapeModulePath(value: string): string {
  if (value.includes('!')) throw new InputError('GO_MODULE_PATH_INVALID', `${value}: "!" is not allowed`)
  return value.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)
}

/** A module path a proxy URL and a cache path may hold (conservative: Go's own rule is stricter still). */
export function modulePathProblem(p: string): string | null {
  if (p === '' || p.length > 1024) return 'is empty or too long'
  if (!/^[A-Za-z0-9._~/+-]+$/.test(p)) return 'holds a character a module path may not'
  if (p.startsWith('/') || p.endsWith('/') || p.includes('//')) return 'has an empty path element'
  if (p.split('/').some((e) => e === '.' || e === '..' || e.startsWith('.'))) return 'has a dot path element'
  return null
}

/** A module version a proxy URL and a cache path may hold (`v1.2.3`, pseudo-versions, `+incompatible`). */
export function versionProblem(v: string): string | null {
  return /^v[0-9A-Za-z.+-]{1,200}$/.test(v) && !v.includes('..') ? null : 'is not a module version'
}

/** One go.sum line: the module, its version, whether it is the go.mod's hash, and the `h1:`. */
export type GoSumLine = GoSumEntry

/**
 * The `h1:` lines of a go.sum, for prefetching: go.sum's one reader (gosum.ts), and every module path and
 * version checked again as a proxy URL and a cache path may hold them. A malformed line is bad input
 * naming the file and line (GO_SUM_SYNTAX).
 */
export function parseGoSumLines(text: string, file: string): GoSumLine[] {
  const entries = parseGoSumEntries(text, file)
  for (const e of entries) {
    const why = modulePathProblem(e.path)
      ? `module path ${JSON.stringify(e.path)} ${modulePathProblem(e.path)}`
      : versionProblem(e.version)
        ? `${JSON.stringify(e.version)} ${versionProblem(e.version)}`
        : null
    if (why)
      throw new InputError('GO_SUM_SYNTAX', `${file}:${e.line}: ${why}`, { file, details: { line: e.line } })
  }
  return entries
}

/** Where a module file sits in a module cache's download folder (Go's layout). */
export function downloadCachePath(modCache: string, mod: string, version: string, ext: string): string {
  return path.join(
    modCache,
    'cache',
    'download',
    ...escapeModulePath(mod).split('/'),
    '@v',
    `${escapeModulePath(version)}.${ext}`,
  )
}

/** The URL of a module file on a proxy. */
export function proxyUrl(proxy: string, mod: string, version: string, ext: 'mod' | 'zip' | 'info'): string {
  return `${proxy.replace(/\/+$/, '')}/${escapeModulePath(mod)}/@v/${escapeModulePath(version)}.${ext}`
}

/**
 * GOPROXY's value as detbuild uses it: the first entry of the list that is a URL (`direct` is the go
 * command's own fetcher from version control, which detbuild does not run); `off` (before any URL) uses
 * detbuild's verified cache alone; unset or empty is the public proxy.
 */
export function resolveGoProxy(value: string | undefined): string {
  if (value === undefined || value.trim() === '') return DEFAULT_GOPROXY
  for (const item of value.split(/[,|]/)) {
    const v = item.trim()
    if (/^https?:\/\//.test(v)) return v.replace(/\/+$/, '')
    // off: only what detbuild's cache holds, verified (a fetch it would need is GO_PROXY_INVALID)
    if (v === 'off') return 'off'
  }
  throw new InputError(
    'GO_PROXY_INVALID',
    `GOPROXY=${JSON.stringify(value)} names no http(s) proxy (detbuild does not fetch "direct" from version control)`,
  )
}

const FETCH_TIMEOUT_MS = 10 * 60 * 1000

/**
 * Fetches one module file from the proxy, capped at `max` bytes. 404/410 is GO_MODULE_NOT_FOUND
 * (exit 2: the proxy does not have it); any other failure GO_PROXY_UNAVAILABLE (exit 3: could not look).
 */
export async function fetchFromProxy(url: string, max: number, what: string): Promise<Buffer> {
  if (!/^https?:\/\//.test(url))
    throw new InputError(
      'GO_PROXY_INVALID',
      `GOPROXY=off: ${what} is not in detbuild's verified cache, and it may not be fetched`,
    )
  // a GET is safe to repeat: a dropped connection (a keep-alive socket the server closed) or a 5xx is
  // tried again twice before the proxy counts as unreachable
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetchOnce(url, max, what)
    } catch (e) {
      if (!(e instanceof IncompleteError) || attempt >= FETCH_ATTEMPTS) throw e
      await new Promise((resolve) => setTimeout(resolve, 250 * attempt))
    }
  }
}

const FETCH_ATTEMPTS = 3

/** The reason under fetch's "fetch failed" (ECONNRESET, ENOTFOUND, …), when there is one. */
function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause
  const detail =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : null
  return `${(e as Error).message}${detail ? ` (${detail})` : ''}`
}

async function fetchOnce(url: string, max: number, what: string): Promise<Buffer> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), FETCH_TIMEOUT_MS)
  // messages never show a proxy URL's credentials
  const shown = withoutCredentials(url)
  try {
    let res: Response
    try {
      // fetch refuses a URL with credentials: a GOPROXY's user:password@ becomes basic authentication
      const u = new URL(url)
      const headers: Record<string, string> = {}
      if (u.username || u.password) {
        headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`
        u.username = ''
        u.password = ''
      }
      res = await fetch(u, { signal: abort.signal, redirect: 'follow', headers })
    } catch (e) {
      throw new IncompleteError(
        'GO_PROXY_UNAVAILABLE',
        `cannot fetch ${what} from ${shown}: ${networkReason(e)}`,
        {
          cause: e,
        },
      )
    }
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel().catch(() => {})
      throw new InputError(
        'GO_MODULE_NOT_FOUND',
        `${what} is not on the module proxy (${shown}: ${res.status})`,
      )
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {})
      throw new IncompleteError(
        'GO_PROXY_UNAVAILABLE',
        `cannot fetch ${what} from ${shown}: HTTP ${res.status}`,
      )
    }
    try {
      return await readCappedBody(
        res,
        abort,
        max,
        () => new InputError('GO_MODULE_TOO_LARGE', `${what} from ${shown} is larger than ${max} bytes`),
      )
    } catch (e) {
      if (e instanceof InputError) throw e
      throw new IncompleteError(
        'GO_PROXY_UNAVAILABLE',
        `cannot read ${what} from ${shown}: ${networkReason(e)}`,
        {
          cause: e,
        },
      )
    }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Go's module zip rules (golang.org/x/mod/zip CheckZip), for a zip about to be trusted: every entry a
 * file under `<module>@<version>/`, a clean relative path, no two names equal when case is folded, the
 * uncompressed total within 500 MiB. Returns the relative names. Calls `fail` with the first problem.
 */
export function checkModuleZip(zip: Buffer, prefix: string, fail: ZipFail): string[] {
  const entries = readZipEntries(zip, fail)
  const seen = new Set<string>()
  const names: string[] = []
  let total = 0
  for (const e of entries) {
    if (!e.name.startsWith(prefix)) fail(`entry ${JSON.stringify(e.name)} is not under ${prefix}`)
    const rel = e.name.slice(prefix.length)
    if (rel === '' || rel.endsWith('/')) fail(`entry ${JSON.stringify(e.name)} is a directory entry`)
    const parts = rel.split('/')
    if (
      rel.startsWith('/') ||
      rel.includes('\\') ||
      parts.some((s) => s === '' || s === '.' || s === '..') ||
      /[\u0000-\u001f\u007f]/.test(rel)
    )
      fail(`entry ${JSON.stringify(e.name)} is not a clean relative path`)
    const folded = rel.toLowerCase()
    if (seen.has(folded)) fail(`entry ${JSON.stringify(e.name)} is there twice (case folded)`)
    seen.add(folded)
    total += e.size
    if (total > MAX_ZIP_BYTES) fail(`the files are larger than ${MAX_ZIP_BYTES} bytes uncompressed`)
    names.push(rel)
  }
  return names
}

/** Writes a file through a temporary name and a rename (a reader never sees half of it). */
async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  await writeFile(tmp, data)
  await rename(tmp, file)
}

async function readIfPresent(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file)
  } catch {
    return null
  }
}

/** One module of go.sum as it was verified: its `h1:` values and the sha256 of the zip detbuild holds. */
export interface VerifiedModule {
  path: string
  version: string
  /** the zip's h1: (absent when go.sum has only the go.mod line) */
  h1?: string
  /** sha256 (hex) of the verified zip's bytes */
  zipSha256?: string
  goModH1?: string
}

/** What a prefetch did: modules (zips) and go.mod files now verified in the cache, and how many came from the proxy. */
export interface ModulePrefetch {
  zips: number
  mods: number
  fetched: number
  /** every module of go.sum, sorted by path then version */
  modules: VerifiedModule[]
}

/**
 * Makes every module of go.sum's `h1:` lines present and verified in `modCache`'s download folder: a
 * cached file is hashed again (the cache is not trusted: anything may have changed it) and fetched
 * again when it does not match; a file from the proxy that does not match go.sum is refused
 * (GO_MODULE_CHECKSUM_MISMATCH, exit 1) and never written. `sumFile` names go.sum in messages.
 */
export async function prefetchModules(
  lines: readonly GoSumLine[],
  modCache: string,
  proxy: string,
  sumFile: string,
  /** a private folder that receives a copy of every verified file, in the same layout (the build's own module cache) */
  seed: string,
  concurrency = 4,
): Promise<ModulePrefetch> {
  const result: ModulePrefetch = { zips: 0, mods: 0, fetched: 0, modules: [] }
  const byModule = new Map<string, VerifiedModule>()
  const record = async (l: GoSumLine, data: Buffer, file: string): Promise<void> => {
    const rel = path.relative(modCache, file)
    // the bytes that were verified, not the cache file again: nothing can change them in between
    await writeAtomic(path.join(seed, rel), data)
    if (!l.goMod)
      await writeAtomic(
        path.join(seed, path.relative(modCache, downloadCachePath(modCache, l.path, l.version, 'ziphash'))),
        l.h1,
      )
    const key = `${l.path}\0${l.version}`
    const m = byModule.get(key) ?? { path: l.path, version: l.version }
    if (l.goMod) m.goModH1 = l.h1
    else {
      m.h1 = l.h1
      m.zipSha256 = createHash('sha256').update(data).digest('hex')
    }
    byModule.set(key, m)
  }
  const queue = [...lines]
  const one = async (l: GoSumLine): Promise<void> => {
    const what = `${l.path}@${l.version}${l.goMod ? ' (go.mod)' : ''}`
    const ext = l.goMod ? 'mod' : 'zip'
    const file = downloadCachePath(modCache, l.path, l.version, ext)
    const prefix = `${l.path}@${l.version}/`
    const hashOf = (data: Buffer): string => {
      if (l.goMod) return hashGoMod(data)
      const fail: ZipFail = (why) => {
        throw new CheckFailedError('GO_MODULE_ZIP_INVALID', `${what}: the module zip ${why}`, {
          details: { module: l.path, version: l.version },
        })
      }
      checkModuleZip(data, prefix, fail)
      return hashZip(data, fail)
    }
    const cached = await readIfPresent(file)
    if (cached !== null) {
      let h: string | null = null
      try {
        h = hashOf(cached)
      } catch {}
      if (h === l.h1) {
        await record(l, cached, file)
        if (l.goMod) result.mods++
        else result.zips++
        return
      }
    }
    const data = await fetchFromProxy(
      proxyUrl(proxy, l.path, l.version, ext),
      l.goMod ? MAX_GO_MOD_BYTES : MAX_ZIP_BYTES,
      what,
    )
    const got = hashOf(data)
    if (got !== l.h1)
      throw new CheckFailedError(
        'GO_MODULE_CHECKSUM_MISMATCH',
        `${what} from the module proxy has ${got}, but ${sumFile} line ${l.line} says ${l.h1}: refused`,
        { file: sumFile, details: { module: l.path, version: l.version, expected: l.h1, found: got } },
      )
    await writeAtomic(file, data)
    await record(l, data, file)
    result.fetched++
    if (l.goMod) result.mods++
    else result.zips++
  }
  const workers = Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let l = queue.shift(); l !== undefined; l = queue.shift()) await one(l)
  })
  await Promise.all(workers)
  result.modules = [...byModule.values()].sort((a, b) =>
    a.path < b.path ? -1 : a.path > b.path ? 1 : a.version < b.version ? -1 : a.version > b.version ? 1 : 0,
  )
  return result
}
