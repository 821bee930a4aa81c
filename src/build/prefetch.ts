/**
 * Edge: the registry. Before an offline install, every package the lockfile pins is fetched into the
 * build's npm cache (verified by its lockfile integrity), so `npm ci --offline` can run with no network.
 */
import { stat } from 'node:fs/promises'
import path from 'node:path'
import ssri from 'ssri'
import { CheckFailedError, IncompleteError, InputError } from '../errors.ts'

/** pacote (and the npm fetch stack under it) takes ~0.3 s to load: only builds that fetch pay for it. */
const loadPacote = async () => (await import('pacote')).default

export interface PrefetchItem {
  /** tarball URL, or `name@version` when the lockfile omits `resolved` (npm's omit-lockfile-registry-resolved) */
  resolved: string
  integrity: string
}

/**
 * The downloadable packages of a package-lock (v2/v3): skips links, bundled and workspace entries.
 * Throws BUILD_LOCKFILE_INVALID (exit 2, naming the JSON path) for an entry that is not an object or an
 * integrity ssri reads no hash from: pacote would fetch such a package without checking it.
 */
export function toPrefetchList(lock: unknown, file = 'package-lock.json'): PrefetchItem[] {
  const invalid = (where: string, why: string) =>
    new InputError('BUILD_LOCKFILE_INVALID', `${where} ${why}`, { file, details: { path: `$.${where}` } })
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
  if (!isObject(lock)) throw new InputError('BUILD_LOCKFILE_INVALID', 'expected a JSON object', { file })
  const packages = lock.packages ?? {}
  if (!isObject(packages)) throw invalid('packages', 'must be an object')
  const seen = new Set<string>()
  const out: PrefetchItem[] = []
  for (const [key, p] of Object.entries(packages)) {
    const where = `packages[${JSON.stringify(key)}]`
    if (!isObject(p)) throw invalid(where, 'must be an object')
    if (key === '' || p.link || p.inBundle) continue
    if (p.integrity === undefined) continue
    if (typeof p.integrity !== 'string' || ssri.parse(p.integrity) === null)
      throw invalid(`${where}.integrity`, 'must be an SRI integrity string such as "sha512-<base64>"')
    const name =
      typeof p.name === 'string'
        ? p.name
        : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)
    const spec =
      typeof p.resolved === 'string'
        ? p.resolved
        : typeof p.version === 'string'
          ? `${name}@${p.version}`
          : null
    if (!spec || (typeof p.resolved === 'string' && !/^https?:/.test(p.resolved)) || seen.has(spec)) continue
    seen.add(spec)
    out.push({ resolved: spec, integrity: p.integrity })
  }
  return out.sort((a, b) => (a.resolved < b.resolved ? -1 : a.resolved > b.resolved ? 1 : 0))
}

/**
 * Whether cacache already holds the content of `integrity` (its `content-v2/<algo>/<hex>` layout).
 * npm reads a locked tarball by that digest and verifies it as it reads, so a stat is enough here: a
 * damaged entry fails the offline install, it is never used.
 */
export async function hasCachedContent(cache: string, integrity: string): Promise<boolean> {
  const parsed = ssri.parse(integrity)
  if (parsed === null) return false
  for (const hashes of Object.values(parsed) as unknown as { algorithm: string; hexDigest(): string }[][]) {
    for (const h of hashes) {
      const hex = h.hexDigest()
      try {
        await stat(
          path.join(cache, 'content-v2', h.algorithm, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)),
        )
        return true
      } catch {}
    }
  }
  return false
}

/**
 * Fetches every item into `<npmCache>/_cacache`. Items with a tarball URL whose content is already
 * cached are skipped without reading them (pacote would read and re-verify every tarball).
 */
export async function prefetchPackages(
  items: readonly PrefetchItem[],
  npmCache: string,
  registry: string,
): Promise<number> {
  const cache = path.join(npmCache, '_cacache')
  let next = 0
  let fetched = 0
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as PrefetchItem
      if (/^https?:/.test(item.resolved) && (await hasCachedContent(cache, item.integrity))) continue
      try {
        await (await loadPacote()).tarball(item.resolved, {
          cache,
          integrity: item.integrity,
          registry,
          preferOffline: true,
        })
        fetched++
      } catch (e) {
        const code = (e as { code?: string }).code
        if (code === 'EINTEGRITY')
          throw new CheckFailedError(
            'BUILD_PREFETCH_INTEGRITY',
            `${item.resolved} does not match its lockfile integrity`,
            {
              details: { resolved: item.resolved, expected: item.integrity },
              cause: e,
            },
          )
        throw new IncompleteError(
          'BUILD_PREFETCH_FAILED',
          `cannot prefetch ${item.resolved}: ${(e as Error).message}`,
          {
            cause: e,
          },
        )
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker))
  return fetched
}
