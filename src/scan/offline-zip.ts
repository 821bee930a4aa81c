/**
 * Edge (files, threads): loads a ZIP export for offline-db.ts in one pass over the file, in bounded memory.
 *
 * The central directory is read first, from the end of the file (util/zip.ts). Then the file is read
 * once, front to back, in chunks: every chunk goes through sha256 (the export's digest, the cache key),
 * every local header is checked as it passes, and the compressed bytes of the records to read are
 * handed, in batches, to worker threads (export-pool.ts) that inflate and summarise them
 * (offline-batch.ts). The bytes in memory are the chunk being read, the entries not yet handed over and
 * a bounded number of batches in flight — never the whole export.
 *
 * The result is the sequential reader's, exactly: errors are ranked as it would have met them (the ZIP
 * structure in archive order first, then the records in entry-name order), and the summaries are
 * merged in entry-name order, so "the first record with an id wins" and every count are unchanged.
 * They are merged as they arrive, once every entry before them is in, so that only the rows of entries
 * waiting for an earlier one are held. The central directory is held as columns (util/zip.ts ZipTable),
 * not as an object per entry, and batch buffers are reused: at 200,000 records, objects and garbage
 * were most of the memory. Records that name no package of interest are only skimmed
 * (offline-batch.ts); one of them that took its id from a later, inspected record is read again here
 * and checked in full (`recheck`).
 *
 * With the package index cache, the file is still read and hashed in full, but only the entries the
 * cache lists for the packages of interest are inflated and parsed. The cache file is named by the
 * digest, which is known only at the end: the one cache file made for an export with this many records
 * is taken as a candidate, and its answer is used only if the digest then matches; otherwise the
 * export is read again, in full (a changed export, or a cache that is not what it says).
 */
import { createHash } from 'node:crypto'
import { type FileHandle, open } from 'node:fs/promises'
import { InputError } from '../errors.ts'
import { maxInputBytesFor, toFsError } from '../util/fs.ts'
import { parseJson } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import {
  isZip,
  LOCAL_HEADER,
  readZipEntry,
  readZipTable,
  type ZipEntry,
  type ZipFail,
  type ZipTable,
  zipDataStart,
  zipTableDataStart,
} from '../util/zip.ts'
import { ExportPool, exportThreads } from './export-pool.ts'
import {
  type BatchError,
  type BatchResult,
  entryLabel,
  META,
  type SummaryRow,
  zipEntryError,
} from './offline-batch.ts'
import { entriesFor, OfflineCollector, toEcosystemCounts, toIndexCache } from './offline-collect.ts'
import { IndexCacheMinEntries, type OfflineDb, type OfflineDbOptions } from './offline-db.ts'
import { findIndexCache, writeIndexCache } from './offline-index-cache.ts'
import { assertOsvRecord } from './osv-schema.ts'
import type { OsvRecord } from './types.ts'

/** Bytes read per step. */
const CHUNK = 1024 * 1024
/** Compressed bytes per batch handed to a worker. */
const BATCH = 512 * 1024
/** Exports with fewer records to read are read in this thread: starting workers costs more. */
const MIN_RECORDS_FOR_WORKERS = 10_000

interface Plan {
  /** the central directory, archive order (columns: no object per entry) */
  table: ZipTable
  /** why the directory ends early (after its listed entries), if it does */
  damage: string | null
  /** `k` (entry-name order) of each record entry by central index, -1 for other entries */
  kOf: Int32Array
  /** the central index of each record entry, by `k` */
  iOfK: number[]
  records: number
}

export async function loadZip(
  dbPath: string,
  display: string,
  name: string,
  names: ReadonlySet<string> | null,
  options: OfflineDbOptions,
): Promise<OfflineDb> {
  const fail: ZipFail = (why) => {
    throw zipEntryError(display, why)
  }
  let handle: FileHandle
  try {
    handle = await open(dbPath, 'r')
  } catch (e) {
    throw toFsError(e, display, 'SCAN_EXPORT_UNREADABLE', 'read')
  }
  try {
    const size = (await handle.stat()).size
    const cap = maxInputBytesFor('export')
    if (size > cap)
      throw new InputError(
        'INPUT_TOO_LARGE',
        `${size} bytes is over the ${cap}-byte input limit (raise it with --max-input-bytes)`,
        { file: display, details: { limit: cap } },
      )
    const head = await readAt(handle, 0, Math.min(4, size), display)
    if (!isZip(head))
      throw new InputError(
        'SCAN_EXPORT_INVALID',
        'expected a ZIP of OSV records or a folder of OSV JSON files',
        { file: display },
      )
    let tailStart = Math.max(0, size - (0xffff + 22))
    let tail = await readAt(handle, tailStart, size - tailStart, display)
    let dir = readZipTable(tail, tailStart, size, fail)
    while ('need' in dir) {
      // one buffer from where the directory starts (re-reading the few bytes already read): a joined
      // copy would hold the directory twice until the next collection
      tailStart = dir.need
      tail = await readAt(handle, tailStart, size - tailStart, display)
      dir = readZipTable(tail, tailStart, size, fail)
    }
    const plan = toPlan(dir.table, dir.damage)
    // the index cache: a folder and the seal its files need, or none (an unsealed index is never read or written)
    const indexCache =
      names !== null &&
      plan.records >= (options.indexCacheMinEntries ?? IndexCacheMinEntries) &&
      options.indexCacheDir != null &&
      options.indexCacheSeal !== undefined
        ? { dir: options.indexCacheDir, seal: options.indexCacheSeal }
        : null
    const candidate =
      indexCache !== null ? await findIndexCache(indexCache.dir, plan.records, indexCache.seal) : null
    const source: Source = { handle, size, tail, tailStart, display, fail }
    if (candidate !== null && names !== null) {
      const only = entriesFor(candidate.cache, names)
      const collector = new OfflineCollector(names, false)
      const read = await readPass(source, plan, names, options, only, false, collector)
      if (read.sha256 === candidate.sha256) {
        settle(read, collector, fail)
        const c = candidate.cache.cache
        return {
          index: collector.index,
          name,
          sha256: read.sha256,
          records: c.records,
          ecosystems: c.ecosystems,
          withdrawn: c.withdrawn,
          lastUpdate: c.lastUpdate,
          indexCache: 'hit',
        }
      }
    }
    const collector = new OfflineCollector(names, indexCache !== null)
    const read = await readPass(source, plan, names, options, null, indexCache !== null, collector)
    settle(read, collector, fail)
    await recheck(source, plan, collector.recheck)
    let state: OfflineDb['indexCache'] = 'off'
    if (
      indexCache !== null &&
      (await writeIndexCache(
        indexCache.dir,
        toIndexCache(collector, read.sha256, plan.records),
        indexCache.seal,
      ))
    )
      state = 'written'
    return {
      index: collector.index,
      name,
      sha256: read.sha256,
      records: collector.records,
      ecosystems: toEcosystemCounts(collector.ecosystems),
      withdrawn: collector.withdrawn,
      lastUpdate: collector.lastUpdate,
      indexCache: state,
    }
  } finally {
    await handle.close()
  }
}

function toPlan(table: ZipTable, damage: string | null): Plan {
  const { bytes, nameAt, nameLen } = table
  const recordIdx: number[] = []
  let ascii = true
  for (let i = 0; i < table.count; i++) {
    const at = nameAt[i]!
    const end = at + nameLen[i]!
    let plain = true
    for (let j = at; j < end; j++)
      if (bytes[j]! >= 0x80) {
        plain = false
        break
      }
    // an ASCII name is judged from its bytes, others from their text
    if (plain ? endsWithJson(bytes, at, end) : isRecordName(table.name(i))) {
      recordIdx.push(i)
      if (!plain) ascii = false
    }
  }
  // archive order is not meaningful; sorting makes "first record wins" deterministic (a stable sort:
  // equal names keep archive order). ASCII names compare as their bytes (code point order); exports
  // are usually in name order already, which one pass confirms.
  const names = ascii ? null : recordIdx.map((i) => table.name(i))
  const pos = names === null ? null : new Map(recordIdx.map((i, k) => [i, k]))
  const compare = (a: number, b: number): number =>
    names === null
      ? bytes.compare(bytes, nameAt[b]!, nameAt[b]! + nameLen[b]!, nameAt[a]!, nameAt[a]! + nameLen[a]!)
      : compareCodePoint(names[pos!.get(a)!]!, names[pos!.get(b)!]!)
  let sorted = true
  for (let k = 1; k < recordIdx.length && sorted; k++)
    if (compare(recordIdx[k - 1]!, recordIdx[k]!) > 0) sorted = false
  if (!sorted) recordIdx.sort(compare)
  const kOf = new Int32Array(table.count).fill(-1)
  recordIdx.forEach((i, k) => {
    kOf[i] = k
  })
  return { table, damage, kOf, iOfK: recordIdx, records: recordIdx.length }
}

/** Whether `bytes[at, end)` ends in `.json`, in any letter case. */
function endsWithJson(bytes: Buffer, at: number, end: number): boolean {
  if (end - at < 5) return false
  return (
    bytes[end - 5] === 0x2e &&
    (bytes[end - 4]! | 0x20) === 0x6a &&
    (bytes[end - 3]! | 0x20) === 0x73 &&
    (bytes[end - 2]! | 0x20) === 0x6f &&
    (bytes[end - 1]! | 0x20) === 0x6e
  )
}

function isRecordName(name: string): boolean {
  return name.toLowerCase().endsWith('.json')
}

interface Source {
  handle: FileHandle
  size: number
  tail: Buffer
  tailStart: number
  display: string
  fail: ZipFail
}

interface Read {
  sha256: string
  /** the first problem of the ZIP structure, in archive order */
  zipError: { rank: number; why: string } | null
  /** the first record problem, in entry-name order */
  recordError: BatchError | null
  /** entries (by `k`) merged into the collector, in order: all of them once the pass is done */
  merged: number
  lastUpdate: string | null
  withdrawn: number
}

/**
 * One pass over the file: hashes every byte, checks every local header, and has the records
 * (all, or the `only` entry numbers, parsed in full) read by the pool. Throws only when the file
 * cannot be read; problems of the export are in the answer, for `merge` to rank.
 */
async function readPass(
  src: Source,
  plan: Plan,
  names: ReadonlySet<string> | null,
  options: OfflineDbOptions,
  only: number[] | null,
  noteNames: boolean,
  collector: OfflineCollector,
): Promise<Read> {
  const wantedK = only === null ? null : new Set(only)
  const toRead = only === null ? plan.records : only.length
  const threads =
    toRead >= MIN_RECORDS_FOR_WORKERS || options.threads !== undefined
      ? (options.threads ?? exportThreads())
      : 1
  const pool = new ExportPool(
    { display: src.display, names: names === null ? null : [...names], noteNames },
    threads > 1 ? threads : 0,
    options.workerUrl,
  )
  try {
    return await streamOnce(src, plan, only, wantedK, pool, threads, collector)
  } finally {
    await pool.close()
  }
}

async function streamOnce(
  src: Source,
  plan: Plan,
  only: number[] | null,
  wantedK: Set<number> | null,
  pool: ExportPool,
  threads: number,
  collector: OfflineCollector,
): Promise<Read> {
  const { table, kOf, iOfK } = plan
  const { localOffset, compressedSize } = table
  const hash = createHash('sha256')
  const out: Read = {
    sha256: '',
    zipError: plan.damage === null ? null : { rank: table.count, why: plan.damage },
    recordError: null,
    merged: 0,
    lastUpdate: null,
    withdrawn: 0,
  }
  const inFlight = new Set<Promise<void>>()
  const maxInFlight = Math.max(2, threads * 3)
  // Results arrive in no fixed order; they are merged into the collector in entry-name order as soon
  // as every entry before them is in, so only the rows of entries still waiting for an earlier one
  // are held (with the archive in name order, as exports are, hardly any).
  const arrived = new Uint8Array(plan.records)
  if (wantedK !== null) for (let k = 0; k < plan.records; k++) if (!wantedK.has(k)) arrived[k] = 1
  const waiting = new Map<number, SummaryRow>()
  const records = new Map<number, OsvRecord>()
  const advance = (): void => {
    let k = out.merged
    while (k < plan.records && arrived[k] === 1) {
      const row = waiting.get(k)
      // withdrawn (counted in the facts), failed (the error is thrown), or not read: no row
      if (row !== undefined) {
        waiting.delete(k)
        const record = records.get(k) ?? null
        if (record !== null) records.delete(k)
        collector.addRow(row, record)
      }
      k++
    }
    out.merged = k
  }
  const take = (r: BatchResult, ks: Float64Array): void => {
    const rows = typeof r.summaries === 'string' ? (JSON.parse(r.summaries) as SummaryRow[]) : r.summaries
    for (const row of rows) waiting.set(row[0], row)
    for (const [k, record] of r.records) records.set(k, record)
    for (let j = 0; j < ks.length; j += META) arrived[ks[j]!] = 1
    if (r.lastUpdate !== null && (out.lastUpdate === null || r.lastUpdate > out.lastUpdate))
      out.lastUpdate = r.lastUpdate
    out.withdrawn += r.withdrawn
    if (r.error !== null && (out.recordError === null || r.error.k < out.recordError.k))
      out.recordError = r.error
    if (out.recordError === null) advance()
  }
  let failure: unknown = null

  // the batch being filled: compressed bytes back to back, META numbers and a name per entry. Batch
  // buffers are reused once their batch is done: a new one per batch is garbage the heap grows by.
  const free: Buffer[] = []
  let data: Buffer = Buffer.allocUnsafeSlow(BATCH)
  let used = 0
  let meta: number[] = []
  let names: string[] = []
  const send = async (): Promise<void> => {
    if (names.length === 0) return
    // a view of the bytes used: the copy made for a worker carries no spare bytes
    const full = data
    const batch = {
      data: data.subarray(0, used),
      meta: Float64Array.from(meta),
      names: JSON.stringify(names),
      full: only !== null,
    }
    data = free.pop() ?? Buffer.allocUnsafeSlow(BATCH)
    used = 0
    meta = []
    names = []
    const tracked: Promise<void> = pool
      .run(batch)
      .then(
        (r) => take(r, batch.meta),
        (e: unknown) => {
          failure ??= e
        },
      )
      .then(() => {
        inFlight.delete(tracked)
        if (full.length === BATCH) free.push(full)
      })
    inFlight.add(tracked)
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight)
  }

  // The file as a stream: [0, tailStart) read in chunks, then the tail already in memory. The window
  // holds the bytes from the entry being read to where reading is; two buffers take turns to hold it,
  // so each read lands once, after the few bytes kept from the window before.
  let win: Buffer = Buffer.alloc(0)
  let winStart = 0
  let readPos = 0
  const spare: Buffer[] = [Buffer.allocUnsafeSlow(2 * CHUNK), Buffer.allocUnsafeSlow(2 * CHUNK)]
  /** Bytes before this offset are no longer needed (no later entry starts before it). */
  let keepFrom = 0
  /** Reads the next part of the file onto the end of the window's kept bytes; false at the end of the file. */
  const pull = async (): Promise<boolean> => {
    if (readPos >= src.size) return false
    const kept = win.subarray(Math.min(Math.max(keepFrom - winStart, 0), win.length))
    const fromTail = readPos >= src.tailStart
    const n = fromTail ? src.size - readPos : Math.min(CHUNK, src.tailStart - readPos)
    const turn = kept.buffer === spare[0]!.buffer ? 1 : 0
    if (spare[turn]!.length < kept.length + n) spare[turn] = Buffer.allocUnsafeSlow(kept.length + n)
    const next = spare[turn]!
    kept.copy(next, 0)
    const part = next.subarray(kept.length, kept.length + n)
    if (fromTail) src.tail.copy(part, 0, readPos - src.tailStart)
    else await readInto(src.handle, part, readPos, src.display)
    hash.update(part)
    winStart = readPos - kept.length
    win = next.subarray(0, kept.length + n)
    readPos += n
    return true
  }
  /** Marks the window's bytes before `from` as dropped (no later entry starts before it). */
  const drop = (from: number): void => {
    if (from > keepFrom) keepFrom = from
  }
  /**
   * Makes the window hold the file's bytes from `from` through `end` (or through the end of the file),
   * dropping what lies before `from` as it reads: a gap between entries is never held.
   */
  const ensure = async (from: number, end: number): Promise<void> => {
    while (winStart + win.length < Math.min(end, src.size)) {
      drop(from)
      if (!(await pull())) return
    }
  }

  // file order: the archive's, unless its entries are not laid out in it
  let order: number[] | null = null
  for (let i = 1; i < table.count; i++)
    if (localOffset[i]! < localOffset[i - 1]!) {
      order = Array.from({ length: table.count }, (_, j) => j)
      order.sort((a, b) => localOffset[a]! - localOffset[b]! || a - b)
      break
    }
  for (let step = 0; step < table.count; step++) {
    const i = order === null ? step : order[step]!
    const at = localOffset[i]!
    drop(at)
    if (winStart + win.length < Math.min(at + LOCAL_HEADER, src.size)) await ensure(at, at + LOCAL_HEADER)
    let start: number
    try {
      start = zipTableDataStart(
        win,
        winStart,
        src.size,
        table.encrypted(i),
        at,
        compressedSize[i]!,
        () => table.name(i),
        src.fail,
      )
    } catch (e) {
      noteZip(out, i, e)
      continue
    }
    const k = kOf[i]!
    if (k < 0 || out.zipError !== null || (wantedK !== null && !wantedK.has(k))) continue
    const n = compressedSize[i]!
    if (winStart + win.length < start + n) await ensure(at, start + n)
    if (used + n > data.length) {
      await send()
      if (n > data.length) data = Buffer.allocUnsafeSlow(n)
    }
    win.copy(data, used, start - winStart, start - winStart + n)
    meta.push(k, table.method[i]!, used, n, table.size[i]!, table.crc32[i]!)
    names.push(table.name(iOfK[k]!))
    used += n
  }
  await send()
  // the rest of the file, for the digest
  for (;;) {
    keepFrom = readPos
    if (!(await pull())) break
  }
  await Promise.all(inFlight)
  if (failure !== null) throw failure
  out.sha256 = hash.digest('hex')
  return out
}

/** Keeps a local-header problem (the first in archive order) for `merge`; anything else is thrown. */
function noteZip(out: Read, rank: number, e: unknown): void {
  if (!(e instanceof InputError) || e.code !== 'SCAN_EXPORT_INVALID') throw e
  const why = e.message.replace(/^not a readable ZIP archive: /, '')
  if (out.zipError === null || rank < out.zipError.rank) out.zipError = { rank, why }
}

/** Fails with the first problem, or adds the facts of the rows the pass merged into the collector. */
function settle(read: Read, collector: OfflineCollector, fail: ZipFail): void {
  if (read.zipError !== null) fail(read.zipError.why)
  const e = read.recordError
  if (e !== null)
    throw new InputError(e.code as ConstructorParameters<typeof InputError>[0], e.message, {
      file: e.file,
      details: e.details,
    })
  collector.addFacts(read.lastUpdate, read.withdrawn)
}

/**
 * Inspects in full the skipped records `collector.recheck` lists (each took its id from a later record):
 * read again from the file, inflated with every check, parsed and checked as any inspected record. A
 * malformed one fails the scan, as it did before records were skipped; a well-formed one was read
 * exactly by the skim, so nothing else changes.
 */
async function recheck(src: Source, plan: Plan, entries: ReadonlySet<number>): Promise<void> {
  for (const k of [...entries].sort((a, b) => a - b)) {
    const c = plan.table.entry(plan.iOfK[k]!)
    const head = await readAt(
      src.handle,
      c.localOffset,
      Math.min(LOCAL_HEADER, src.size - c.localOffset),
      src.display,
    )
    const start = zipDataStart(head, c.localOffset, src.size, c, src.fail)
    const raw = await readAt(src.handle, start, c.compressedSize, src.display)
    const entry: ZipEntry = {
      name: c.name,
      method: c.method,
      start: 0,
      compressedSize: c.compressedSize,
      size: c.size,
      crc32: c.crc32,
      dosDate: c.dosDate,
      dosTime: c.dosTime,
      unixMode: c.unixMode,
    }
    const bytes = readZipEntry(raw, entry, src.fail)
    const where = entryLabel(src.display, c.name)
    assertOsvRecord(parseJson(bytes.toString('utf8'), where, 'SCAN_EXPORT_INVALID'), where)
  }
}

async function readInto(handle: FileHandle, buf: Buffer, position: number, display: string): Promise<void> {
  let done = 0
  try {
    while (done < buf.length) {
      const { bytesRead } = await handle.read(buf, done, buf.length - done, position + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
  } catch (e) {
    throw toFsError(e, display, 'SCAN_EXPORT_UNREADABLE', 'read')
  }
  if (done < buf.length)
    throw new InputError(
      'SCAN_EXPORT_UNREADABLE',
      'OSV export cannot be read (it changed while being read)',
      {
        file: display,
      },
    )
}

async function readAt(
  handle: FileHandle,
  position: number,
  length: number,
  display: string,
): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length)
  let done = 0
  try {
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, position + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
  } catch (e) {
    throw toFsError(e, display, 'SCAN_EXPORT_UNREADABLE', 'read')
  }
  if (done < length)
    throw new InputError(
      'SCAN_EXPORT_UNREADABLE',
      'OSV export cannot be read (it changed while being read)',
      {
        file: display,
      },
    )
  return buf
}
