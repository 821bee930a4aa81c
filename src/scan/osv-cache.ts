/**
 * Edge (files): the disk cache of OSV records fetched from the API, under `<cache root>/osv/records`
 * (the cache root is the context's: `$XDG_CACHE_HOME/detbuild` or `$HOME/.cache/detbuild`).
 *
 * What a server sends is hostile, so it never chooses a file name or meets another source's data: an
 * entry's name is the sha256 of (source scope, id, modified) — the scope being the API's URL — and entries
 * live in their own folder, apart from the offline package index (`offline-index/`). Each entry carries
 * the sha256 of the record's bytes and is sealed (util/cache-seal.ts: an HMAC under a key kept outside
 * the cache, so an entry someone else wrote into the folder is not used); on read the seal, the digest,
 * the scope, the id and the record's shape are checked again, and anything that does not hold is ignored
 * (then fetched again), never trusted.
 */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { CacheSeal } from '../util/cache-seal.ts'
import { sha256Hex } from '../util/digest.ts'
import { writeFileAtomic } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { toCheckedRecord } from './osv-reply.ts'
import type { OsvRecord } from './types.ts'

/** The OSV cache's folder inside the cache root (`scan --cache-dir` replaces the whole of it). */
export const OsvCacheFolder = 'osv'

/** The record cache's folder inside the cache dir; the offline package index has its own (`offline-index`). */
export const RecordCacheFolder = 'records'

const FORMAT = 'detbuild-osv-record-cache/2'

interface Entry {
  format: typeof FORMAT
  scope: string
  id: string
  modified: string
  /** sha256 of `record` (its UTF-8 bytes) */
  sha256: string
  /** the record as JSON text */
  record: string
}

export class OsvCache {
  readonly dir: string
  readonly scope: string
  hits = 0
  /** entries found but refused (not sealed by this key, damaged, foreign, not matching their digest) */
  rejected = 0
  private readonly seal: CacheSeal

  /**
   * @param cacheDir the cache dir (`--cache-dir`); entries go to `<cacheDir>/records/`
   * @param scope the source the records come from, e.g. `api https://api.osv.dev` (never with credentials)
   * @param seal seals what is written and is checked on what is read
   */
  constructor(cacheDir: string, scope: string, seal: CacheSeal) {
    this.dir = path.join(cacheDir, RecordCacheFolder)
    this.scope = scope
    this.seal = seal
  }

  /** The entry's file: named by a hash only, whatever the id looks like. */
  fileFor(id: string, modified: string): string {
    return path.join(this.dir, `${sha256Hex(`${this.scope}\u0000${id}\u0000${modified}`)}.json`)
  }

  async get(id: string, modified: string): Promise<OsvRecord | null> {
    if (!modified) return null
    let text: string
    try {
      text = await readFile(this.fileFor(id, modified), 'utf8')
    } catch {
      return null
    }
    try {
      const body = this.seal.unwrap(text)
      if (body === null) throw new Error('not sealed by this key')
      const e = parseJsonText(body) as Partial<Entry>
      if (
        e?.format !== FORMAT ||
        e.scope !== this.scope ||
        e.id !== id ||
        e.modified !== modified ||
        typeof e.record !== 'string' ||
        e.sha256 !== sha256Hex(e.record)
      )
        throw new Error('foreign or damaged entry')
      const record = toCheckedRecord(parseJsonText(e.record), id)
      if (record.modified !== modified) throw new Error('another version of the record')
      this.hits++
      return record
    } catch {
      this.rejected++
      return null
    }
  }

  async put(record: OsvRecord): Promise<void> {
    const json = JSON.stringify(record)
    const entry: Entry = {
      format: FORMAT,
      scope: this.scope,
      id: record.id,
      modified: record.modified,
      sha256: sha256Hex(json),
      record: json,
    }
    try {
      await writeFileAtomic(this.fileFor(record.id, record.modified), this.seal.wrap(JSON.stringify(entry)))
    } catch {
      // a cache that cannot be written only costs time
    }
  }
}
