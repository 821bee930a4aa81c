/**
 * Pure: type checks of what an OSV API server sends — `POST /v1/querybatch` replies and the full records of
 * `GET /v1/vulns/{id}` (and the record cache, which holds such replies). Every field detbuild uses is
 * checked; anything else is not trusted. A reply that fails a check never becomes "no vulnerabilities": the
 * packages it was about are reported unchecked with one of the codes below (exit 3).
 */
import type { ErrorCode } from '../errors.ts'
import type { OsvRecord } from './types.ts'

/** Why a package could not be checked online; each code is documented in docs/scan.md (exit 3). */
export const OsvFailure = {
  /** the request failed after retries: network, timeout, 429/5xx, another HTTP status */
  unavailable: 'SCAN_OSV_UNAVAILABLE',
  /** the server answered with a redirect (3xx); detbuild follows none */
  redirect: 'SCAN_OSV_REDIRECT',
  /** the reply body exceeded --max-response-bytes */
  tooLarge: 'SCAN_OSV_REPLY_TOO_LARGE',
  /** a querybatch reply that is not JSON or does not have the OSV shape */
  replyInvalid: 'SCAN_OSV_REPLY_INVALID',
  /** a full record that is malformed or is not the record asked for */
  recordInvalid: 'SCAN_OSV_RECORD_INVALID',
  /** the server kept paginating beyond the limit */
  tooManyPages: 'SCAN_OSV_TOO_MANY_PAGES',
} as const satisfies Record<string, ErrorCode>
export type OsvFailureCode = (typeof OsvFailure)[keyof typeof OsvFailure]

/** A package (or record) that could not be checked, and why. */
export interface Unchecked {
  code: OsvFailureCode
  message: string
}

/** The reason text written to `uncheckedReasons`: the stable code first, then the explanation. */
export function toReason(u: Unchecked): string {
  return `${u.code}: ${u.message}`
}

export interface VulnRef {
  id: string
  /** '' when the server did not say (then the record cache is not used) */
  modified: string
}

/** One querybatch result: the vulnerabilities of one package and the token of its next page. */
export type BatchResult = { ok: true; vulns: VulnRef[]; next: string | null } | { ok: false; why: string }

/**
 * OSV ids as they appear in the wild (`GHSA-…`, `CVE-…`, `PYSEC-…`, `MAL-…`): printable ASCII without
 * spaces, bounded. Anything else is refused before it reaches a URL, a file or a terminal.
 */
const OSV_ID = /^[\x21-\x7e]{1,200}$/
/** RFC 3339 date-time, as OSV writes `modified` */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** Whether a value is usable as an OSV id. */
export function isOsvId(value: unknown): value is string {
  return typeof value === 'string' && OSV_ID.test(value)
}

/** A server-chosen string, safe to print: JSON-quoted (no control characters), at most 80 characters. */
export function quoteUntrusted(value: unknown): string {
  let s: string
  try {
    s = JSON.stringify(value) ?? String(value)
  } catch {
    s = String(value)
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const kindOf = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`)

const ResultKeys = new Set(['vulns', 'next_page_token'])

/**
 * Checks a querybatch reply for `expected` queries. A reply-wide problem (not an object, `results` not an
 * array, another number of results than queries — the results are positional, so none can be attributed)
 * is returned as `{ why }`; otherwise one verdict per query, in order.
 */
export function toBatchResults(
  reply: unknown,
  expected: number,
): { results: BatchResult[] } | { why: string } {
  if (!isObject(reply)) return { why: `reply is ${kindOf(reply)}, expected an object with "results"` }
  for (const k of Object.keys(reply))
    if (k !== 'results') return { why: `reply has an unknown field ${quoteUntrusted(k)}` }
  const results = reply.results
  if (!Array.isArray(results)) return { why: `"results" is ${kindOf(results)}, expected an array` }
  if (results.length !== expected)
    return { why: `reply has ${results.length} results for ${expected} queries` }
  return { results: results.map((r, i) => toBatchResult(r, `results[${i}]`)) }
}

function toBatchResult(r: unknown, at: string): BatchResult {
  const fail = (why: string): BatchResult => ({ ok: false, why: `${at}${why}` })
  if (!isObject(r)) return fail(` is ${kindOf(r)}, expected an object`)
  for (const k of Object.keys(r))
    if (!ResultKeys.has(k)) return fail(` has an unknown field ${quoteUntrusted(k)}`)
  let next: string | null = null
  if (r.next_page_token !== undefined) {
    if (typeof r.next_page_token !== 'string')
      return fail(`.next_page_token is ${kindOf(r.next_page_token)}, expected a string`)
    next = r.next_page_token === '' ? null : r.next_page_token
  }
  const vulns: VulnRef[] = []
  if (r.vulns !== undefined) {
    if (!Array.isArray(r.vulns)) return fail(`.vulns is ${kindOf(r.vulns)}, expected an array`)
    for (let j = 0; j < r.vulns.length; j++) {
      const v: unknown = r.vulns[j]
      if (!isObject(v)) return fail(`.vulns[${j}] is ${kindOf(v)}, expected an object`)
      if (!isOsvId(v.id)) return fail(`.vulns[${j}].id is not a valid OSV id: ${quoteUntrusted(v.id)}`)
      if (v.modified !== undefined && (typeof v.modified !== 'string' || !TIMESTAMP.test(v.modified)))
        return fail(`.vulns[${j}].modified is not an RFC 3339 timestamp: ${quoteUntrusted(v.modified)}`)
      vulns.push({ id: v.id, modified: (v.modified as string | undefined) ?? '' })
    }
  }
  return { ok: true, vulns, next }
}

/**
 * Checks a full OSV record received for `askedId`: the fields the scan uses must have the types the OSV
 * schema gives them, and the record must be the one asked for. Throws an Error naming the JSON path.
 */
export function toCheckedRecord(raw: unknown, askedId: string): OsvRecord {
  const fail = (why: string): never => {
    throw new Error(`record ${askedId}: ${why}`)
  }
  if (!isObject(raw)) return fail(`is ${kindOf(raw)}, expected an object`)
  if (raw.id !== askedId) fail(`"id" is ${quoteUntrusted(raw.id)}, not the id asked for`)
  if (typeof raw.modified !== 'string' || !TIMESTAMP.test(raw.modified))
    fail(`"modified" is not an RFC 3339 timestamp: ${quoteUntrusted(raw.modified)}`)
  for (const k of ['published', 'withdrawn', 'summary', 'details'] as const) optString(raw, k, k, fail)
  stringArray(raw.aliases, 'aliases', fail)
  arrayOf(raw.severity, 'severity', fail, (s, at) => {
    if (!isObject(s)) return fail(`${at} is ${kindOf(s)}, expected an object`)
    if (typeof s.type !== 'string') fail(`${at}.type must be a string`)
    if (typeof s.score !== 'string') fail(`${at}.score must be a string`)
  })
  arrayOf(raw.affected, 'affected', fail, (a, at) => {
    if (!isObject(a)) return fail(`${at} is ${kindOf(a)}, expected an object`)
    if (a.package !== undefined) {
      const p = a.package
      if (!isObject(p)) return fail(`${at}.package is ${kindOf(p)}, expected an object`)
      if (typeof p.ecosystem !== 'string') fail(`${at}.package.ecosystem must be a string`)
      if (typeof p.name !== 'string') fail(`${at}.package.name must be a string`)
      optString(p, 'purl', `${at}.package.purl`, fail)
    }
    stringArray(a.versions, `${at}.versions`, fail)
    arrayOf(a.ranges, `${at}.ranges`, fail, (range, rat) => {
      if (!isObject(range)) return fail(`${rat} is ${kindOf(range)}, expected an object`)
      if (typeof range.type !== 'string') fail(`${rat}.type must be a string`)
      if (!Array.isArray(range.events)) fail(`${rat}.events must be an array`)
      arrayOf(range.events, `${rat}.events`, fail, (e, eat) => {
        if (!isObject(e)) return fail(`${eat} is ${kindOf(e)}, expected an object`)
        for (const k of ['introduced', 'fixed', 'last_affected', 'limit'] as const)
          optString(e, k, `${eat}.${k}`, fail)
      })
    })
  })
  arrayOf(raw.references, 'references', fail, (r, at) => {
    if (!isObject(r)) return fail(`${at} is ${kindOf(r)}, expected an object`)
    if (typeof r.url !== 'string') fail(`${at}.url must be a string`)
    optString(r, 'type', `${at}.type`, fail)
  })
  if (raw.database_specific !== undefined) {
    const ds = raw.database_specific
    if (!isObject(ds)) return fail(`"database_specific" is ${kindOf(ds)}, expected an object`)
    optString(ds, 'severity', 'database_specific.severity', fail)
    stringArray(ds.cwe_ids, 'database_specific.cwe_ids', fail)
  }
  return raw as unknown as OsvRecord
}

type Fail = (why: string) => never

function optString(o: Record<string, unknown>, key: string, at: string, fail: Fail): void {
  if (o[key] !== undefined && typeof o[key] !== 'string')
    fail(`"${at}" is ${kindOf(o[key])}, expected a string`)
}

function arrayOf(v: unknown, at: string, fail: Fail, each: (item: unknown, at: string) => void): void {
  if (v === undefined) return
  if (!Array.isArray(v)) fail(`"${at}" is ${kindOf(v)}, expected an array`)
  v.forEach((item, i) => {
    each(item, `${at}[${i}]`)
  })
}

function stringArray(v: unknown, at: string, fail: Fail): void {
  arrayOf(v, at, fail, (s, sat) => {
    if (typeof s !== 'string') fail(`"${sat}" is ${kindOf(s)}, expected a string`)
  })
}
