/**
 * Edge (files): the on-disk package index of offline OSV exports, one file per export named by the
 * export's sha256 (`<dir>/<sha256>.json`). It is found and invalidated by content only: a changed
 * export has another digest, so it never meets an index built for other bytes; file times play no
 * part. Each file is sealed (util/cache-seal.ts: an HMAC under a key kept outside the cache): an index
 * someone else wrote into the folder — one that lists no record for your packages would hide them — is
 * not used. A damaged, foreign or unsealed file is ignored and rebuilt; a cache that cannot be written
 * costs only time.
 */
import { readdir, readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import type { CacheSeal } from '../util/cache-seal.ts'
import { writeFileAtomic } from '../util/fs.ts'
import { type IndexCache, toValidIndexCache, type ValidIndexCache } from './offline-collect.ts'

const INDEX_FILE = /^[0-9a-f]{64}\.json$/

export function indexCacheFile(dir: string, exportSha256: string): string {
  return path.join(dir, `${exportSha256}.json`)
}

/**
 * The one well-formed index in `dir` made for an export of `entries` records, with the digest its
 * name gives, or null (none, or more than one). It is only a candidate: the loader uses it only when
 * the export it reads has that digest.
 */
export async function findIndexCache(
  dir: string,
  entries: number,
  seal: CacheSeal,
): Promise<{ sha256: string; cache: ValidIndexCache } | null> {
  let files: string[]
  try {
    files = (await readdir(dir)).filter((f) => INDEX_FILE.test(f)).sort()
  } catch {
    return null
  }
  const found: Array<{ sha256: string; cache: ValidIndexCache }> = []
  for (const f of files) {
    const sha256 = f.slice(0, 64)
    try {
      // JSON.parse alone, without parseJsonText's pre-scan (a JavaScript pass over every character, a
      // tenth of a cached scan at 200,000 records): V8's parser is iterative, so no depth overflows it,
      // and toValidIndexCache checks every value it uses by type and range (a count of ±Infinity is no
      // safe integer) without walking into any nested value, so a deep or out-of-range value is refused.
      const body = seal.unwrap(await readFile(path.join(dir, f), 'utf8'))
      if (body === null) continue
      const raw: unknown = JSON.parse(body)
      const cache = toValidIndexCache(raw, sha256, entries)
      if (cache !== null) found.push({ sha256, cache })
    } catch {
      // damaged or unreadable: not a candidate (rebuilt by the next full read)
    }
  }
  return found.length === 1 ? found[0]! : null
}

/** Writes the index of one export and removes the indexes of other exports (the disk use stays bounded). */
export async function writeIndexCache(dir: string, cache: IndexCache, seal: CacheSeal): Promise<boolean> {
  try {
    await writeFileAtomic(indexCacheFile(dir, cache.exportSha256), seal.wrap(JSON.stringify(cache)))
    const mine = `${cache.exportSha256}.json`
    for (const f of await readdir(dir)) {
      if (f !== mine && INDEX_FILE.test(f)) await rm(path.join(dir, f), { force: true })
    }
    return true
  } catch {
    return false
  }
}
