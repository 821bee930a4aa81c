/**
 * Pure: the OSV schema's evaluation of one `ECOSYSTEM` or `SEMVER` range (introduced / fixed /
 * last_affected / limit), over any version order. Each ecosystem supplies how to parse and compare
 * its versions; the walk itself is the same for all of them.
 */

export interface OsvRangeEvent {
  introduced?: string
  fixed?: string
  last_affected?: string
  limit?: string
}

/** The part of an OSV `affected[].ranges[]` entry that range evaluation reads. */
export interface OsvRangeInput {
  type: string
  events: readonly OsvRangeEvent[]
}

/** Whether one range covers a version, and the fix that ends the covering interval. */
export interface RangeVerdict {
  affected: boolean
  fixed: string | null
  /** an event version could not be parsed: the range counts as covering (fail closed) */
  unparsable: boolean
}

/** Parsing and ordering of one ecosystem's versions, in the parsed form `V` it compares fastest. */
export interface ParsedOrder<V> {
  parse(version: string): V | null
  compare(a: V, b: V): number
}

const NOT_COVERED: RangeVerdict = Object.freeze({ affected: false, fixed: null, unparsable: false })

function eventVersion(e: OsvRangeEvent): string | undefined {
  return e.introduced ?? e.fixed ?? e.last_affected ?? e.limit
}

/**
 * Evaluates one range per the OSV algorithm: sort events by version, walk them, track "affected";
 * `limit` events bound the range from above.
 */
export function rangeCovers<V>(range: OsvRangeInput, version: V, order: ParsedOrder<V>): RangeVerdict {
  if (range.type !== 'ECOSYSTEM' && range.type !== 'SEMVER') return { ...NOT_COVERED }
  const parsed: Array<{ e: OsvRangeEvent; v: V }> = []
  // hostile records: a range without events covers nothing
  for (const e of range.events ?? []) {
    const raw = eventVersion(e)
    if (raw === undefined) continue
    if (e.limit === '*') continue
    const v = order.parse(raw)
    if (v === null) return { affected: true, fixed: null, unparsable: true }
    parsed.push({ e, v })
  }
  const limits = parsed.filter((p) => p.e.limit !== undefined)
  if (limits.length > 0 && !limits.some((l) => order.compare(version, l.v) < 0)) return { ...NOT_COVERED }
  const events = parsed.filter((p) => p.e.limit === undefined).sort((a, b) => order.compare(a.v, b.v))
  let affected = false
  let fixed: string | null = null
  for (const { e, v } of events) {
    if (e.introduced !== undefined) {
      if (order.compare(version, v) >= 0) affected = true
    } else if (e.fixed !== undefined) {
      if (order.compare(version, v) >= 0) affected = false
      else if (affected && fixed === null) fixed = e.fixed
    } else if (e.last_affected !== undefined) {
      if (order.compare(version, v) > 0) affected = false
    }
  }
  return { affected, fixed: affected ? fixed : null, unparsable: false }
}

/** A `VersionOrder.inRange` over a parsed order: a version that does not parse is covered by nothing. */
export function inRangeWith<V>(
  order: ParsedOrder<V>,
): (version: string, range: OsvRangeInput) => RangeVerdict {
  return (version, range) => {
    const v = order.parse(version)
    return v === null ? { ...NOT_COVERED } : rangeCovers(range, v, order)
  }
}
