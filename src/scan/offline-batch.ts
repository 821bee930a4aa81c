/**
 * Pure: the per-record work of loading a ZIP export, on one batch of entries — run in a worker thread
 * (export-worker.ts) or, when no worker can start, in the loading thread, with the same result.
 *
 * A batch holds the compressed bytes of some entries of the export, back to back. Each is inflated
 * (util/zip.ts, with every check of the one ZIP reader) and summarised. A record that provably names
 * no package of interest (`nameTokens`: no `"name"` member of it has one of their names, ignoring
 * letter case) is skipped without inspection: only what the export-wide counts need is read from it
 * (`skimRecord`: id, modified, withdrawn, ecosystems), and its row is marked `light`. Every other
 * record — one that may name a package of interest, or one the skim cannot read — is checked as
 * strictly as before: the byte-level scanner (record-scan.ts) validates it, or it is parsed and checked
 * in full (`parseJson` + `assertOsvRecord`), exactly as one read alone.
 * Errors are not thrown but returned, the one of the lowest entry number first, so that the loader can
 * fail with the error the sequential reading (in entry-name order) would have met first.
 */
import { DetbuildError, InputError } from '../errors.ts'
import { parseJson } from '../util/json-parse.ts'
import { forEachZipEntry, type ZipEntry, type ZipFail } from '../util/zip.ts'
import { assertOsvRecord, slimRecord } from './osv-schema.ts'
import { nameTokens, scanRecord, skimRecord } from './record-scan.ts'
import type { OsvRecord } from './types.ts'

/** What every batch of one load shares. */
export interface BatchSetup {
  /** the export as errors name it */
  display: string
  /** package names of interest (any letter case); null keeps every record */
  names: string[] | null
  /** whether the rows carry the record's name tokens (only the index cache needs them) */
  noteNames: boolean
}

/** Numbers per entry in `ExportBatch.meta`: k, method, start, compressedSize, size, crc32. */
export const META = 6

export interface ExportBatch {
  /** the compressed bytes of the entries, back to back */
  data: Uint8Array
  /**
   * per entry, META numbers: its number in the loader's order (entry names sorted), its compression
   * method, the offset of its bytes in `data`, its compressed size, size and CRC-32
   */
  meta: Float64Array
  /** JSON text of the entries' names, in the same order */
  names: string
  /** parse every record in full (the cached path: every entry listed names a package of interest) */
  full: boolean
}

/** An error as data (it crosses threads): rebuilt by the loader as the InputError it was. */
export interface BatchError {
  k: number
  code: string
  message: string
  file: string | undefined
  details: Record<string, unknown> | undefined
}

/**
 * `[k, id, ecosystems, names, light]` of one record that is not withdrawn. `names`: its `nameTokens`
 * (every `"name"` member's value: a superset of its package names) when the setup asks for them, null
 * when it must always be inspected (`nameTokens` has no answer), else empty. `light`: 1 when the record
 * was skipped (skimmed, not validated), else 0.
 */
export type SummaryRow = [number, string, string[], string[] | null, 0 | 1]

export interface BatchResult {
  /** the rows, as JSON text from a worker: one string crosses threads far faster than many objects */
  summaries: string | SummaryRow[]
  /** the records naming a package of interest that are not withdrawn, slimmed, with their `k` */
  records: Array<[number, OsvRecord]>
  /** the latest `modified` of the batch's records (withdrawn ones too), null when it has none */
  lastUpdate: string | null
  /** withdrawn records in the batch */
  withdrawn: number
  /** the error of the lowest `k` in the batch, if any */
  error: BatchError | null
}

/** Where a record is named in errors: `<export>:<entry name>`, as the sequential loader did. */
export function entryLabel(display: string, name: string): string {
  return `${display}:${name}`
}

/** The batch's result; `asText`: the rows as JSON text (to cross threads). */
export function processBatch(setup: BatchSetup, batch: ExportBatch, asText: boolean): BatchResult {
  const wanted = setup.names === null ? null : new Set(setup.names.map((n) => n.toLowerCase()))
  const wants = (names: readonly string[]): boolean =>
    wanted === null || names.some((n) => wanted.has(n.toLowerCase()))
  const rows: SummaryRow[] = []
  const records: Array<[number, OsvRecord]> = []
  let error: BatchError | null = null
  let lastUpdate: string | null = null
  let withdrawn = 0
  const summary = (
    k: number,
    id: string,
    modified: string,
    gone: boolean,
    ecosystems: string[],
    tokens: string[] | null,
    light: 0 | 1,
  ): void => {
    if (lastUpdate === null || modified > lastUpdate) lastUpdate = modified
    if (gone) withdrawn++
    else rows.push([k, id, ecosystems, setup.noteNames ? tokens : [], light])
  }
  const meta = batch.meta
  const entryNames = JSON.parse(batch.names) as string[]
  const note = (k: number, e: unknown): void => {
    if (!(e instanceof DetbuildError)) throw e
    if (error === null || k < error.k)
      error = { k, code: e.code, message: e.message, file: e.file, details: e.details }
  }
  const data = Buffer.from(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength)
  const entries: ZipEntry[] = entryNames.map((name, i) => ({
    name,
    method: meta[i * META + 1]!,
    start: meta[i * META + 2]!,
    compressedSize: meta[i * META + 3]!,
    size: meta[i * META + 4]!,
    crc32: meta[i * META + 5]!,
    dosDate: 0,
    dosTime: 0,
    unixMode: 0,
  }))
  const fail: ZipFail = (why) => {
    throw new ZipEntryFailure(why)
  }
  const visit = (i: number, bytes: Buffer): void => {
    const k = meta[i * META]!
    const name = entryNames[i]!
    let tokens: string[] | null = null
    if (wanted !== null && !batch.full) {
      tokens = nameTokens(bytes)
      if (tokens !== null && !wants(tokens)) {
        const s = skimRecord(bytes)
        if (s !== null) {
          summary(k, s.id, s.modified, s.withdrawn, s.ecosystems, tokens, 1)
          return
        }
      }
      const s = scanRecord(bytes)
      if (s !== null && !wants(s.names)) {
        summary(k, s.id, s.modified, s.withdrawn, s.ecosystems, tokens, 0)
        return
      }
    }
    const where = entryLabel(setup.display, name)
    let record: OsvRecord
    try {
      record = assertOsvRecord(parseJson(bytes.toString('utf8'), where, 'SCAN_EXPORT_INVALID'), where)
    } catch (e) {
      note(k, e)
      return
    }
    const names: string[] = []
    const ecosystems: string[] = []
    for (const a of record.affected ?? []) {
      if (!a.package) continue
      ecosystems.push(a.package.ecosystem)
      names.push(a.package.name)
    }
    summary(k, record.id, record.modified, Boolean(record.withdrawn), ecosystems, tokens, 0)
    if (!record.withdrawn && wants(names)) records.push([k, slimRecord(record)])
  }
  // an entry that cannot be inflated stops forEachZipEntry: note it and go on after it
  let rest = entries.map((_, i) => i)
  while (rest.length > 0) {
    let last = -1
    try {
      forEachZipEntry(data, entries, rest, fail, (i, bytes) => {
        last = i
        visit(i, bytes)
      })
      break
    } catch (e) {
      if (!(e instanceof ZipEntryFailure)) throw e
      const failed = rest[rest.indexOf(last) + 1]!
      note(meta[failed * META]!, zipEntryError(setup.display, e.message))
      rest = rest.slice(rest.indexOf(failed) + 1)
    }
  }
  return { summaries: asText ? JSON.stringify(rows) : rows, records, lastUpdate, withdrawn, error }
}

class ZipEntryFailure extends Error {}

/** The error of a ZIP export that cannot be read (exit 2, SCAN_EXPORT_INVALID), naming the export. */
export function zipEntryError(display: string, why: string): InputError {
  return new InputError('SCAN_EXPORT_INVALID', `not a readable ZIP archive: ${why}`, { file: display })
}
