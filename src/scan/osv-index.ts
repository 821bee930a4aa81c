/**
 * Pure: an in-memory index of OSV records by (ecosystem, package name), and matching of SBOM
 * components against it. npm names are matched exactly, as npm does (case-sensitive, scope included):
 * `JSONStream` and `jsonstream` are different packages. Only when the SBOM cannot say how a name is
 * spelled (a lowercased purl and nothing else) does the caller ask for every spelling (`anyCase`).
 */
import { baseEcosystem, defaultEcosystems, type VersionOrder } from '../ecosystems/index.ts'
import { assertOsvRecord, slimRecord } from './osv-schema.ts'
import { matchAffected } from './range-match.ts'
import type { OsvAffected, OsvRecord } from './types.ts'

export interface IndexedEntry {
  record: OsvRecord
  entry: OsvAffected
}

export interface RecordMatch {
  record: OsvRecord
  fixed: string[]
  unparsable: boolean
}

const key = (ecosystem: string, name: string): string => `${ecosystem}\u0000${name}`

export { assertOsvRecord, baseEcosystem }

export class OsvIndex {
  private readonly byPackage = new Map<string, IndexedEntry[]>()
  /** (ecosystem, lowercased name) → the names as the records spell them */
  private readonly spellings = new Map<string, Set<string>>()
  private readonly ids = new Set<string>()
  /** number of records skipped because they are withdrawn */
  withdrawn = 0
  /** latest `modified` among the indexed records */
  lastUpdate: string | null = null
  /** keep only the fields findings use (large exports) */
  private readonly slim: boolean

  constructor(options: { slim?: boolean } = {}) {
    this.slim = options.slim ?? false
  }

  get size(): number {
    return this.ids.size
  }

  /** Adds a record; `file` names it in errors. Withdrawn records are counted and skipped. */
  add(raw: unknown, file: string): void {
    this.addChecked(assertOsvRecord(raw, file), false)
  }

  /**
   * Adds a record `assertOsvRecord` has accepted (offline-batch.ts checks it where it parses it);
   * `slimmed`: it is already `slimRecord`'s output, which is not redone.
   */
  addChecked(checked: OsvRecord, slimmed: boolean): void {
    let record = checked
    if (this.lastUpdate === null || record.modified > this.lastUpdate) this.lastUpdate = record.modified
    if (record.withdrawn) {
      this.withdrawn++
      return
    }
    if (this.ids.has(record.id)) return
    this.ids.add(record.id)
    if (this.slim && !slimmed) record = slimRecord(record)
    for (const entry of record.affected ?? []) {
      const pkg = entry.package
      if (!pkg || typeof pkg.name !== 'string' || typeof pkg.ecosystem !== 'string') continue
      const k = key(baseEcosystem(pkg.ecosystem), pkg.name)
      let list = this.byPackage.get(k)
      if (!list) {
        list = []
        this.byPackage.set(k, list)
        const lower = key(baseEcosystem(pkg.ecosystem), pkg.name.toLowerCase())
        const names = this.spellings.get(lower)
        if (names) names.add(pkg.name)
        else this.spellings.set(lower, new Set([pkg.name]))
      }
      list.push({ record, entry })
    }
  }

  /**
   * Records affecting `name@version` in `ecosystem`, one per record id, in id order. With `anyCase`,
   * records for every spelling of the name that differs only in letter case (fail closed when the
   * SBOM lost the case: the finding may belong to either package, so it is not dropped). Versions
   * are ordered by `order`, the ecosystem's (default: the default registry's).
   */
  match(
    ecosystem: string,
    name: string,
    version: string,
    anyCase = false,
    order: VersionOrder = defaultEcosystems.versionsFor(ecosystem),
  ): RecordMatch[] {
    const names = anyCase ? [...(this.spellings.get(key(ecosystem, name.toLowerCase())) ?? [])] : [name]
    const list = names.flatMap((n) => this.byPackage.get(key(ecosystem, n)) ?? [])
    if (list.length === 0) return []
    const byId = new Map<string, RecordMatch>()
    for (const { record, entry } of list) {
      const m = matchAffected(entry, version, order)
      if (!m.affected) continue
      const prev = byId.get(record.id)
      if (prev) {
        prev.fixed.push(...m.fixed)
        prev.unparsable ||= m.unparsable
      } else byId.set(record.id, { record, fixed: [...m.fixed], unparsable: m.unparsable })
    }
    return [...byId.values()].sort((a, b) =>
      a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0,
    )
  }

  /**
   * Fixed versions listed for a package in a record (used when the API chose the record); `anyCase`
   * and `order` as for `match`.
   */
  fixesFor(
    record: OsvRecord,
    ecosystem: string,
    name: string,
    version: string,
    anyCase = false,
    order: VersionOrder = defaultEcosystems.versionsFor(ecosystem),
  ): RecordMatch {
    const out: RecordMatch = { record, fixed: [], unparsable: false }
    const same = anyCase ? (n: string) => n.toLowerCase() === name.toLowerCase() : (n: string) => n === name
    for (const entry of record.affected ?? []) {
      if (!entry.package || !same(entry.package.name) || baseEcosystem(entry.package.ecosystem) !== ecosystem)
        continue
      const m = matchAffected(entry, version, order)
      out.fixed.push(...m.fixed)
      out.unparsable ||= m.unparsable
    }
    return out
  }
}
