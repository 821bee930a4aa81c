/**
 * Edge (files): loads an OSV export — a ZIP of OSV JSON records as osv.dev publishes per ecosystem,
 * or a folder of OSV JSON files — into an OsvIndex, and digests it so results can be tied to it.
 *
 * Record files are those whose name ends in `.json`, in any letter case (`GHSA-….JSON`). An export that
 * cannot be read is bad input (exit 2); one that holds no usable record is for the caller to judge
 * (it says what the export holds, per ecosystem, so a scan never passes on an empty folder).
 *
 * Memory stays bounded by what matters: given the package names of interest, only the records naming
 * one of them are parsed and kept; the others are validated from their bytes and counted (see
 * offline-collect.ts) — in a ZIP, those that provably name none are only skimmed (offline-batch.ts). For a ZIP, an index of which entries name which package can be cached on disk,
 * keyed by the export's sha256, so that scanning the same export again inflates only those entries.
 */
import { createHash } from 'node:crypto'
import type { Dirent } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import type { CacheSeal } from '../util/cache-seal.ts'
import { readBytesFile } from '../util/fs.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { ZipFail } from '../util/zip.ts'
import { zipEntryError } from './offline-batch.ts'
import { OfflineCollector, toEcosystemCounts } from './offline-collect.ts'
import { loadZip } from './offline-zip.ts'
import type { OsvIndex } from './osv-index.ts'

export interface OfflineDb {
  index: OsvIndex
  /** file or folder name (no directories: outputs carry no absolute paths) */
  name: string
  sha256: string
  /** distinct records that are not withdrawn */
  records: number
  /** of those, how many name each ecosystem, sorted by ecosystem (a record may count for several) */
  ecosystems: Array<[string, number]>
  withdrawn: number
  /** latest `modified` of all records in the export (the data's date) */
  lastUpdate: string | null
  /** the package index cache: `hit` (used), `written` (built now), `off` (not used) */
  indexCache: 'hit' | 'written' | 'off'
}

export interface OfflineDbOptions {
  /** package names of interest: only records naming one of them are kept (default: all records) */
  names?: ReadonlySet<string>
  /** folder of the package index cache (ZIP exports, with `names` only); null or absent: no cache */
  indexCacheDir?: string | null
  /** seals the index written and checks the one read (util/cache-seal.ts); without it, no cache */
  indexCacheSeal?: CacheSeal
  /** smaller exports are not cached: reading them is faster than the cache would save */
  indexCacheMinEntries?: number
  /** worker threads for a ZIP export (default: by the machine; 1: none) — for tests */
  threads?: number
  /** the worker's module (default: export-worker next to export-pool) — tests point it elsewhere */
  workerUrl?: URL
}

/** Exports with fewer entries are read in full every time (well under 100 ms). */
export const IndexCacheMinEntries = 1000

export async function loadOfflineDb(
  dbPath: string,
  display: string,
  options: OfflineDbOptions = {},
): Promise<OfflineDb> {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(dbPath)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR')
      throw new InputError('SCAN_EXPORT_MISSING', 'OSV export not found', { file: display })
    throw unreadable(display, e)
  }
  const names = options.names ?? null
  const name = path.basename(dbPath)
  if (info.isDirectory()) {
    const collector = new OfflineCollector(names, false)
    const files = (await listJson(dbPath, display)).sort(compareCodePoint)
    const digest = createHash('sha256')
    for (const [i, rel] of files.entries()) {
      const bytes = await readExport(path.join(dbPath, rel), `${display}/${rel}`)
      digest.update(`${rel}\u0000${createHash('sha256').update(bytes).digest('hex')}\n`)
      collector.add(bytes, `${display}/${rel}`, i)
    }
    return result(collector, name, digest.digest('hex'), 'off')
  }
  if (!info.isFile()) throw unreadable(display, new Error('not a file or folder'))
  return loadZip(dbPath, display, name, names, options)
}

function result(
  c: OfflineCollector,
  name: string,
  sha256: string,
  indexCache: OfflineDb['indexCache'],
): OfflineDb {
  return {
    index: c.index,
    name,
    sha256,
    records: c.records,
    ecosystems: toEcosystemCounts(c.ecosystems),
    withdrawn: c.withdrawn,
    lastUpdate: c.lastUpdate,
    indexCache,
  }
}

/** Whether an entry or file name is an OSV record's: `.json` in any letter case. */
/** A damaged export is bad input naming the file: exit 2, SCAN_EXPORT_INVALID. */
export function zipFailure(file: string): ZipFail {
  return (why: string): never => {
    throw zipEntryError(file, why)
  }
}

export function isRecordName(name: string): boolean {
  return name.toLowerCase().endsWith('.json')
}

function unreadable(display: string, e: unknown): InputError {
  const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message
  return new InputError('SCAN_EXPORT_UNREADABLE', `OSV export cannot be read (${why})`, {
    file: display,
    cause: e,
  })
}

async function readExport(file: string, display: string): Promise<Buffer> {
  // capped like every input (`--max-input-bytes`), checked before reading
  return readBytesFile(file, 'SCAN_EXPORT_UNREADABLE', display, 'export')
}

async function listJson(root: string, display: string, rel = ''): Promise<string[]> {
  const out: string[] = []
  let list: Dirent[]
  try {
    list = await readdir(path.join(root, rel), { withFileTypes: true })
  } catch (e) {
    throw unreadable(rel ? `${display}/${rel}` : display, e)
  }
  for (const d of list) {
    const r = rel ? `${rel}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...(await listJson(root, display, r)))
    else if (d.isFile() && isRecordName(d.name)) out.push(r)
  }
  return out
}
