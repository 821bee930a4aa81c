/**
 * Pure: turns the records of an OSV export, one at a time and in a fixed order, into an OsvIndex that
 * holds only the records naming a package of interest, plus the export-wide facts the scan reports
 * (the latest `modified`, records — in all and per ecosystem —, withdrawn). Package names of interest
 * are compared ignoring letter case: that keeps a superset, and the index matches exactly afterwards. The rules are those of `OsvIndex.add`: a malformed
 * record is bad input, withdrawn records are skipped, the first record with an id wins.
 *
 * Records are first looked at with `scanRecord` (no JSON.parse); only those naming a package of
 * interest, or that the scanner is not certain about, are parsed, validated and, when they match, kept.
 * It can also note which entries affect which package, for the on-disk index cache.
 */
import { parseJson } from '../util/json-parse.ts'
import type { SummaryRow } from './offline-batch.ts'
import { assertOsvRecord, baseEcosystem, OsvIndex } from './osv-index.ts'
import { type RecordSummary, scanRecord } from './record-scan.ts'
import type { OsvRecord } from './types.ts'

export class OfflineCollector {
  readonly index = new OsvIndex({ slim: true })
  /** distinct, not withdrawn record ids */
  records = 0
  /** of those, how many name each ecosystem (the part before `:`) at least once */
  readonly ecosystems = new Map<string, number>()
  withdrawn = 0
  lastUpdate: string | null = null
  /**
   * name → numbers of the accepted entries that may name it (only when asked for): each record's
   * `nameTokens`, so that the cache lists every entry a later scan of any SBOM would inspect
   */
  readonly packages: Map<string, number[]> | null
  /** accepted entries that are always inspected (`nameTokens` has no answer), when asked for */
  readonly always: number[] | null
  /**
   * Entries of skipped (light) records that won their id over a later record: the loader inspects
   * them in full, so that a malformed record can never take the place of one that is checked.
   */
  readonly recheck = new Set<number>()
  /** id → the entry number that took it when that record was skipped (light), else -1 */
  private readonly ids = new Map<string, number>()
  private readonly names: ReadonlySet<string> | null

  /**
   * @param names package names of interest; null keeps every record (small exports, tests)
   * @param notePackages whether to note entry numbers per package for the index cache
   */
  constructor(names: ReadonlySet<string> | null, notePackages: boolean) {
    this.names = names === null ? null : new Set([...names].map((n) => n.toLowerCase()))
    this.packages = notePackages ? new Map() : null
    this.always = notePackages ? [] : null
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
    return wanted === null || names.some((n) => wanted.has(n.toLowerCase()))
  }

  /** Accounts for a record the scanner summarised and `wants` does not keep. */
  addSummary(s: RecordSummary, entry: number): void {
    if (this.account(s.id, s.modified, s.withdrawn, s.ecosystems)) this.note(s.names, entry)
  }

  /**
   * Accounts for a record that is not withdrawn, read elsewhere (offline-batch.ts), from its summary
   * row, and keeps `record` (the row's record, parsed, checked in full and slimmed there) when it is the
   * one kept for its id. The dates and withdrawn records of those rows come through `addFacts`.
   */
  addRow(row: SummaryRow, record: OsvRecord | null): void {
    const [entry, id, ecosystems, names, light] = row
    if (!this.accept(id, ecosystems, light === 1 ? entry : -1)) return
    this.note(names, entry)
    if (record !== null) this.index.addChecked(record, true)
  }

  /** The latest `modified` and the number of withdrawn records of rows read elsewhere. */
  addFacts(lastUpdate: string | null, withdrawn: number): void {
    if (lastUpdate !== null && (this.lastUpdate === null || lastUpdate > this.lastUpdate))
      this.lastUpdate = lastUpdate
    this.withdrawn += withdrawn
  }

  /** Parses, validates and, when it names a package of interest, keeps the record in `bytes`. */
  addFull(bytes: Buffer, where: string, entry: number): void {
    const record = assertOsvRecord(parseJson(bytes.toString('utf8'), where, 'SCAN_EXPORT_INVALID'), where)
    const names = packageNames(record)
    const ecosystems = (record.affected ?? []).flatMap((a) => (a.package ? [a.package.ecosystem] : []))
    if (!this.account(record.id, record.modified, Boolean(record.withdrawn), ecosystems)) return
    this.note(names, entry)
    if (this.wants(names)) this.index.add(record, where)
  }

  /** `OsvIndex.add`'s bookkeeping; true when the record is the one kept for its id. */
  private account(id: string, modified: string, withdrawn: boolean, ecosystems: string[]): boolean {
    this.addFacts(modified, withdrawn ? 1 : 0)
    return !withdrawn && this.accept(id, ecosystems, -1)
  }

  /**
   * A record that is not withdrawn: true when it is the first with its id (then it is counted).
   * `light`: its entry number when it was skipped, else -1.
   */
  private accept(id: string, ecosystems: string[], light: number): boolean {
    const winner = this.ids.get(id)
    if (winner !== undefined) {
      if (winner >= 0) this.recheck.add(winner)
      return false
    }
    this.ids.set(id, light)
    this.records++
    if (ecosystems.length === 1) this.count(baseEcosystem(ecosystems[0]!))
    else for (const e of new Set(ecosystems.map(baseEcosystem))) this.count(e)
    return true
  }

  private count(ecosystem: string): void {
    this.ecosystems.set(ecosystem, (this.ecosystems.get(ecosystem) ?? 0) + 1)
  }

  private note(names: string[] | null, entry: number): void {
    if (this.packages === null) return
    if (names === null) {
      this.always!.push(entry)
      return
    }
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
export const IndexCacheFormat = 5

/**
 * The on-disk package index of one export: which entries (numbers in the loader's sorted entry order)
 * affect which package, and the export-wide facts. Valid only for the export with this exact digest.
 *
 * The entry lists are two arrays of little-endian 32-bit numbers in base64, not an array per name:
 * at 200,000 names, parsing one small array per name was most of a cached scan's memory and a tenth of
 * its time. Names are in lower case (package names of interest are compared ignoring case), distinct,
 * in code unit order, so a scan looks its names up by binary search.
 */
export interface IndexCache {
  format: typeof IndexCacheFormat
  exportSha256: string
  entries: number
  records: number
  withdrawn: number
  lastUpdate: string | null
  /** [ecosystem, records naming it], sorted by ecosystem */
  ecosystems: Array<[string, number]>
  /** package names, lower case, distinct, sorted: each names the entries that may name it (`nameTokens`) */
  names: string[]
  /** base64 of `names.length + 1` numbers: `names[i]`'s entries are `list[starts[i]]` up to `list[starts[i + 1]]` */
  starts: string
  /** base64 of the entry numbers, ascending within each name */
  list: string
  /** entry numbers, ascending, of the records any scan inspects (`nameTokens` has no answer) */
  always: number[]
}

export function toIndexCache(c: OfflineCollector, exportSha256: string, entries: number): IndexCache {
  const byName = new Map<string, number[]>()
  for (const [name, list] of c.packages ?? []) {
    const key = name.toLowerCase()
    const had = byName.get(key)
    byName.set(key, had === undefined ? list : [...had, ...list])
  }
  const names = [...byName.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const lists = names.map((n) => [...new Set(byName.get(n)!)].sort((a, b) => a - b))
  const starts = new Uint32Array(names.length + 1)
  for (let i = 0; i < lists.length; i++) starts[i + 1] = starts[i]! + lists[i]!.length
  const list = new Uint32Array(starts[names.length]!)
  for (const [i, l] of lists.entries()) list.set(l, starts[i]!)
  return {
    format: IndexCacheFormat,
    exportSha256,
    entries,
    records: c.records,
    withdrawn: c.withdrawn,
    lastUpdate: c.lastUpdate,
    ecosystems: toEcosystemCounts(c.ecosystems),
    names,
    starts: fromNumbers(starts),
    list: fromNumbers(list),
    always: c.always ?? [],
  }
}

/** A cache file's content, checked: its facts, and its lists as numbers. */
export interface ValidIndexCache {
  cache: IndexCache
  starts: Uint32Array
  list: Uint32Array
}

/**
 * The cache when it is well-formed and made for this export (digest and entry count); else null.
 * Every number is checked (an entry past the export's end, lists out of order or overlapping, names
 * not in order — which would make a lookup miss — all reject it: the export is then read in full).
 */
export function toValidIndexCache(
  raw: unknown,
  exportSha256: string,
  entries: number,
): ValidIndexCache | null {
  if (typeof raw !== 'object' || raw === null) return null
  const c = raw as Partial<IndexCache>
  const count = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0
  if (c.format !== IndexCacheFormat || c.exportSha256 !== exportSha256 || c.entries !== entries) return null
  if (!count(c.records) || !count(c.withdrawn)) return null
  if (c.lastUpdate !== null && typeof c.lastUpdate !== 'string') return null
  if (!Array.isArray(c.ecosystems) || !Array.isArray(c.names) || !Array.isArray(c.always)) return null
  if (typeof c.starts !== 'string' || typeof c.list !== 'string') return null
  for (const i of c.always) if (!count(i) || (i as number) >= entries) return null
  for (const e of c.ecosystems)
    if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== 'string' || !count(e[1])) return null
  const names = c.names as unknown[]
  for (let i = 0; i < names.length; i++) {
    const n = names[i]
    if (typeof n !== 'string' || n !== n.toLowerCase()) return null
    if (i > 0 && !((names[i - 1] as string) < n)) return null
  }
  const starts = toNumbers(c.starts)
  const list = toNumbers(c.list)
  if (starts === null || list === null || starts.length !== names.length + 1) return null
  if (starts[0] !== 0 || starts[names.length] !== list.length) return null
  for (let i = 0; i < names.length; i++) {
    const from = starts[i]!
    const to = starts[i + 1]!
    if (to < from) return null
    for (let j = from; j < to; j++)
      if (list[j]! >= entries || (j > from && list[j]! <= list[j - 1]!)) return null
  }
  return { cache: c as IndexCache, starts, list }
}

/**
 * Entry numbers, ascending, of the records a full read would inspect for `names` (ignoring letter
 * case): those that may name one of them, and those always inspected.
 */
export function entriesFor({ cache, starts, list }: ValidIndexCache, names: ReadonlySet<string>): number[] {
  const out = new Set<number>(cache.always)
  const sorted = cache.names
  for (const wanted of new Set([...names].map((n) => n.toLowerCase()))) {
    let lo = 0
    let hi = sorted.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      const n = sorted[mid]!
      if (n === wanted) {
        for (let j = starts[mid]!; j < starts[mid + 1]!; j++) out.add(list[j]!)
        break
      }
      if (n < wanted) lo = mid + 1
      else hi = mid - 1
    }
  }
  return [...out].sort((a, b) => a - b)
}

/** Numbers as base64 of little-endian 32-bit words (the cache file's form). */
function fromNumbers(n: Uint32Array): string {
  const b = Buffer.alloc(n.length * 4)
  for (let i = 0; i < n.length; i++) b.writeUInt32LE(n[i]!, i * 4)
  return b.toString('base64')
}

/** The numbers in `text` (base64 of little-endian 32-bit words), or null when it is not that. */
function toNumbers(text: string): Uint32Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null
  const b = Buffer.from(text, 'base64')
  if (b.length % 4 !== 0) return null
  const out = new Uint32Array(b.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = b.readUInt32LE(i * 4)
  return out
}

/** Ecosystem counts as sorted pairs (code point order): the form outputs and the cache hold. */
export function toEcosystemCounts(m: ReadonlyMap<string, number>): Array<[string, number]> {
  return [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}
