/**
 * Edge (files): the disk cache of OSV records, keyed by id and `modified`, under
 * `$XDG_CACHE_HOME/detbuild/osv` (or `~/.cache/detbuild/osv`). A damaged entry is ignored and fetched again.
 */
import { readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { writeFileAtomic } from '../util/fs.ts'
import type { OsvRecord } from './types.ts'

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base =
    env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)
      ? env.XDG_CACHE_HOME
      : path.join(os.homedir(), '.cache')
  return path.join(base, 'detbuild', 'osv')
}

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_')

export class OsvCache {
  readonly dir: string
  hits = 0
  constructor(dir: string) {
    this.dir = dir
  }

  private file(id: string, modified: string): string {
    return path.join(this.dir, safe(id), `${safe(modified)}.json`)
  }

  async get(id: string, modified: string): Promise<OsvRecord | null> {
    if (!modified) return null
    try {
      const record = JSON.parse(await readFile(this.file(id, modified), 'utf8')) as OsvRecord
      if (record?.id !== id || record.modified !== modified) return null
      this.hits++
      return record
    } catch {
      return null
    }
  }

  async put(record: OsvRecord): Promise<void> {
    try {
      await writeFileAtomic(this.file(record.id, record.modified), `${JSON.stringify(record)}\n`)
    } catch {
      // a cache that cannot be written only costs time
    }
  }
}
