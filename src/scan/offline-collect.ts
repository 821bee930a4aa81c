/**
 * Pure: turns the records of an OSV export, one at a time and in a fixed order, into an OsvIndex that
 * holds only the records naming a package of interest, plus the export-wide facts the scan reports
 * (the latest `modified`, records, withdrawn). The rules are those of `OsvIndex.add`: a malformed
 * record is bad input, withdrawn records are skipped, the first record with an id wins.
 *
 * Records are first looked at with `scanRecord` (no JSON.parse); only those naming a package of
 * interest, or that the scanner is not certain about, are parsed, validated and, when they match, kept.
 * It can also note which entries affect which package, for the on-disk index cache.
 */
import { parseJson } from '../util/json-parse.ts'
import { assertOsvRecord, OsvIndex } from './osv-index.ts'
import { type RecordSummary, scanRecord } from './record-scan.ts'
import type { OsvRecord } from './types.ts'

export class OfflineCollector {
  readonly index = new OsvIndex({ slim: true })
  /** distinct, not withdrawn record ids */
  records = 0
  withdrawn = 0
  lastUpdate: string | null = null
  /** package name → numbers of the accepted entries naming it (only when asked for) */
  readonly packages: Map<string, number[]> | null
  private readonly ids = new Set<string>()
  private readonly names: ReadonlySet<string> | null

  /**
   * @param names package names of interest; null keeps every record (small exports, tests)
   * @param notePackages whether to note entry numbers per package for the index cache
   */
  constructor(names: ReadonlySet<string> | null, notePackages: boolean) {
    this.names = names
    this.packages = notePackages ? new Map() : null
  }

  /** Adds the record in `bytes` (entry number `entry`, named `where` in errors). */
  add(bytes: Buffer, where: string, entry: number): void {
    if (this.names !== null) {
      const summary = scanRecord(bytes)
      if (summary !== null && !this.wants(summary.names)) {
        this.addSummary(summary, entry)
        return
      }
    }
    this.addFull(bytes, where, entry)
  }

  /** Whether a record naming these packages must be kept (then it is parsed in full). */
  wants(names: readonly string[]): boolean {
    const wanted = this.names
    return wanted === null || names.some((n) => wanted.has(n))
  }

  /** Accounts for a record the scanner summarised and `wants` does not keep. */
  addSummary(s: RecordSummary, entry: number): void {
    if (this.account(s.id, s.modified, s.withdrawn)) this.note(s.names, entry)
  }

  /** Parses, validates and, when it names a package of interest, keeps the record in `bytes`. */
  addFull(bytes: Buffer, where: string, entry: number): void {
    const record = assertOsvRecord(parseJson(bytes.toString('utf8'), where, 'SCAN_EXPORT_INVALID'), where)
    if (!this.account(record.id, record.modified, Boolean(record.withdrawn))) return
    const names = packageNames(record)
    this.note(names, entry)
    if (this.wants(names)) this.index.add(record, where)
  }

  /** `OsvIndex.add`'s bookkeeping; true when the record is the one kept for its id. */
  private account(id: string, modified: string, withdrawn: boolean): boolean {
    if (this.lastUpdate === null || modified > this.lastUpdate) this.lastUpdate = modified
    if (withdrawn) {
      this.withdrawn++
      return false
    }
    if (this.ids.has(id)) return false
    this.ids.add(id)
    this.records++
    return true
  }

  private note(names: string[], entry: number): void {
    if (this.packages === null) return
    for (const name of names) {
      let list = this.packages.get(name)
      if (!list) {
        list = []
        this.packages.set(name, list)
      }
      if (list[list.length - 1] !== entry) list.push(entry)
    }
  }
}

function packageNames(record: OsvRecord): string[] {
  const out: string[] = []
  for (const a of record.affected ?? []) {
    const name = a?.package?.name
    if (typeof name === 'string') out.push(name)
  }
  return out
}

/** Version of the index cache's format; bump it when the meaning of a field changes. */
export const IndexCacheFormat = 1

/**
 * The on-disk package index of one export: which entries (numbers in the loader's sorted entry order)
 * affect which package, and the export-wide facts. Valid only for the export with this exact digest.
 */
export interface IndexCache {
  format: typeof IndexCacheFormat
  exportSha256: string
  entries: number
  records: number
  withdrawn: number
  lastUpdate: string | null
  /** [package name, entry numbers ascending], sorted by name */
  packages: Array<[string, number[]]>
}

export function toIndexCache(c: OfflineCollector, exportSha256: string, entries: number): IndexCache {
  const packages = [...(c.packages ?? new Map<string, number[]>())].sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  )
  return {
    format: IndexCacheFormat,
    exportSha256,
    entries,
    records: c.records,
    withdrawn: c.withdrawn,
    lastUpdate: c.lastUpdate,
    packages,
  }
}

/** The cache when it is well-formed and made for this export (digest and entry count); else null. */
export function toValidIndexCache(raw: unknown, exportSha256: string, entries: number): IndexCache | null {
  if (typeof raw !== 'object' || raw === null) return null
  const c = raw as Partial<IndexCache>
  const count = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0
  if (c.format !== IndexCacheFormat || c.exportSha256 !== exportSha256 || c.entries !== entries) return null
  if (!count(c.records) || !count(c.withdrawn)) return null
  if (c.lastUpdate !== null && typeof c.lastUpdate !== 'string') return null
  if (!Array.isArray(c.packages)) return null
  for (const p of c.packages) {
    if (!Array.isArray(p) || p.length !== 2 || typeof p[0] !== 'string' || !Array.isArray(p[1])) return null
    for (const i of p[1]) if (!count(i) || (i as number) >= entries) return null
  }
  return c as IndexCache
}

/** Entry numbers, ascending, of the records naming one of `names`. */
export function entriesFor(cache: IndexCache, names: ReadonlySet<string>): number[] {
  const out = new Set<number>()
  for (const [name, list] of cache.packages) if (names.has(name)) for (const i of list) out.add(i)
  return [...out].sort((a, b) => a - b)
}
