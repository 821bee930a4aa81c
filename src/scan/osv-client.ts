/**
 * Edge (network): the OSV API client. `POST /v1/querybatch` in chunks of at most 1,000 queries,
 * following `next_page_token`; `GET /v1/vulns/{id}` to hydrate records, de-duplicated, with bounded
 * concurrency and a disk cache keyed by source, id and `modified`. Timeouts, and retries with exponential
 * backoff and full jitter on 429, 5xx, network errors and unreadable replies, honouring Retry-After.
 *
 * Every reply is hostile until checked: no redirect is followed (a 3xx fails the request), a body is read
 * up to `maxResponseBytes` and the read is aborted beyond it, and every field used is type-checked
 * (osv-reply.ts). Nothing here throws for a package it could not check: it reports it, with a code, so the
 * caller can fail closed.
 */

import { readCappedBody } from '../util/http-body.ts'
import { parseJsonText } from '../util/json-parse.ts'
import type { Logger } from '../util/log.ts'
import { redactSecrets } from '../util/redact.ts'
import type { OsvCache } from './osv-cache.ts'
import {
  OsvFailure,
  type OsvFailureCode,
  toBatchResults,
  toCheckedRecord,
  type Unchecked,
  type VulnRef,
} from './osv-reply.ts'
import type { OsvRecord } from './types.ts'

export type { VulnRef } from './osv-reply.ts'

export const DefaultOsvUrl = 'https://api.osv.dev'
export const MaxBatch = 1000
/** Default cap on one reply's body: far above any real OSV reply, far below what exhausts memory. */
export const DefaultMaxResponseBytes = 32 * 1024 * 1024

export interface OsvClientOptions {
  baseUrl: string
  fetch?: typeof fetch
  /** per request, including reading the body */
  timeoutMs?: number
  /** retries after the first attempt */
  retries?: number
  baseDelayMs?: number
  maxDelayMs?: number
  concurrency?: number
  /** pages followed per package at most (a server that never stops paginating is a truncated reply) */
  maxPages?: number
  batchSize?: number
  /** a reply body larger than this fails the request (the read is aborted as soon as it is exceeded) */
  maxResponseBytes?: number
  cache?: OsvCache | null
  log: Logger
  sleep?: (ms: number) => Promise<void>
  /** in [0, 1): jitter source; only affects waiting, never an output */
  random?: () => number
}

export interface QueryResult {
  vulns: Map<string, VulnRef[]>
  failed: Map<string, Unchecked>
}

/** An OSV API base URL taken apart: where to send requests, what to print, and the credentials. */
export interface OsvEndpoint {
  /** origin and path, no userinfo, no trailing slash */
  base: string
  /** `base`, safe to print and to write into outputs */
  display: string
  /** `Basic …` from the URL's userinfo, or null */
  authorization: string | null
}

/**
 * Parses an OSV API base URL (`--osv-url`). Userinfo (`https://user:token@host`) becomes a Basic
 * Authorization header and never appears in `base` or `display`. Returns why it is unusable, if it is;
 * the reason never quotes the URL.
 */
export function toOsvEndpoint(raw: string): OsvEndpoint | { invalid: string } {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return { invalid: 'is not a URL' }
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return { invalid: 'must be an http(s) URL' }
  if (u.search !== '' || u.hash !== '') return { invalid: 'must not have a query or a fragment' }
  let authorization: string | null = null
  if (u.username !== '' || u.password !== '') {
    try {
      const userinfo = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`
      authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`
    } catch {
      return { invalid: 'has malformed percent-encoding in its user or password' }
    }
  }
  u.username = ''
  u.password = ''
  const base = u.toString().replace(/\/+$/, '')
  return { base, display: base, authorization }
}

class RequestFailed extends Error {
  readonly code: OsvFailureCode
  readonly retryable: boolean
  readonly retryAfterMs: number | null
  constructor(code: OsvFailureCode, message: string, retryable: boolean, retryAfterMs: number | null = null) {
    super(message)
    this.code = code
    this.retryable = retryable
    this.retryAfterMs = retryAfterMs
  }
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (relative to the server's Date). */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (!value) return null
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000
  const t = Date.parse(value)
  return Number.isNaN(t) ? null : Math.max(0, t - nowMs)
}

export class OsvClient {
  private readonly o: Required<Omit<OsvClientOptions, 'cache'>> & { cache: OsvCache | null }
  private readonly endpoint: OsvEndpoint

  constructor(options: OsvClientOptions) {
    const endpoint = toOsvEndpoint(options.baseUrl)
    // callers validate the URL first (an InputError naming the flag); this is the last line of defence
    if ('invalid' in endpoint) throw new Error(`OSV API URL ${endpoint.invalid}`)
    this.endpoint = endpoint
    this.o = {
      fetch: globalThis.fetch,
      timeoutMs: 30_000,
      retries: 4,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      concurrency: 8,
      maxPages: 50,
      batchSize: MaxBatch,
      maxResponseBytes: DefaultMaxResponseBytes,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
      cache: null,
      ...options,
      baseUrl: endpoint.base,
    }
  }

  private async request(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
    const url = `${this.endpoint.base}${route}`
    let last: RequestFailed | null = null
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) {
        const cap = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (attempt - 1))
        const backoff = Math.floor(this.o.random() * cap)
        const wait =
          last?.retryAfterMs != null
            ? Math.min(this.o.maxDelayMs, Math.max(last.retryAfterMs, backoff))
            : backoff
        this.o.log.debug(
          `osv: retry ${attempt}/${this.o.retries} of ${method} ${route} in ${wait} ms (${last?.message})`,
        )
        await this.o.sleep(wait)
      }
      try {
        return await this.attempt(method, url, body)
      } catch (e) {
        if (e instanceof RequestFailed) {
          last = e
          if (!e.retryable) break
        } else {
          const err = e as Error
          const why =
            err.name === 'TimeoutError'
              ? `timed out after ${this.o.timeoutMs} ms`
              : `network error (${redactSecrets((err.cause as Error | undefined)?.message ?? err.message)})`
          last = new RequestFailed(OsvFailure.unavailable, why, true)
        }
      }
    }
    throw last ?? new RequestFailed(OsvFailure.unavailable, 'request failed', false)
  }

  /** One attempt: no redirect followed, the body read under the size cap, then parsed. */
  private async attempt(method: 'GET' | 'POST', url: string, body: unknown): Promise<unknown> {
    const abort = new AbortController()
    const res = await this.o.fetch(url, {
      method,
      headers: {
        accept: 'application/json',
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(this.endpoint.authorization ? { authorization: this.endpoint.authorization } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      // a redirect could lead a POST (and the credentials) anywhere: none is followed
      redirect: 'manual',
      signal: AbortSignal.any([AbortSignal.timeout(this.o.timeoutMs), abort.signal]),
    })
    const discard = async (): Promise<void> => {
      await res.body?.cancel().catch(() => {})
    }
    if (res.status === 429 || res.status >= 500) {
      await discard()
      throw new RequestFailed(
        OsvFailure.unavailable,
        `HTTP ${res.status}`,
        true,
        parseRetryAfter(res.headers.get('retry-after'), Date.now()),
      )
    }
    if (res.status >= 300 && res.status < 400) {
      await discard()
      throw new RequestFailed(OsvFailure.redirect, `HTTP ${res.status} redirect (not followed)`, false)
    }
    if (res.status === 404 && method === 'GET') {
      await discard()
      throw new RequestFailed(OsvFailure.unavailable, 'HTTP 404 (record not found)', false)
    }
    if (res.status !== 200) {
      await discard()
      throw new RequestFailed(OsvFailure.unavailable, `HTTP ${res.status}`, false)
    }
    const bytes = await this.readCapped(res, abort)
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes)
    } catch {
      throw new RequestFailed(OsvFailure.replyInvalid, 'reply is not UTF-8 text', true)
    }
    try {
      return parseJsonText(text)
    } catch {
      throw new RequestFailed(OsvFailure.replyInvalid, 'reply is not JSON (malformed or truncated)', true)
    }
  }

  /** Reads the body, aborting the transfer as soon as it exceeds the cap (never buffers more than that). */
  private async readCapped(res: Response, abort: AbortController): Promise<Uint8Array> {
    const max = this.o.maxResponseBytes
    const tooLarge = (): RequestFailed =>
      new RequestFailed(
        OsvFailure.tooLarge,
        `reply larger than ${max} bytes (--max-response-bytes); transfer aborted`,
        false,
      )
    return readCappedBody(res, abort, max, tooLarge)
  }

  /** Queries all purls; every purl ends up in `vulns` (checked) or `failed` (not checked, with why). */
  async queryBatch(purls: string[]): Promise<QueryResult> {
    const out: QueryResult = { vulns: new Map(), failed: new Map() }
    for (let i = 0; i < purls.length; i += this.o.batchSize) {
      await this.queryChunk(purls.slice(i, i + this.o.batchSize), out)
    }
    return out
  }

  private async queryChunk(chunk: string[], out: QueryResult): Promise<void> {
    let pending: Array<{ purl: string; token?: string }> = chunk.map((purl) => ({ purl }))
    const acc = new Map<string, VulnRef[]>(chunk.map((p) => [p, []]))
    const fail = (purl: string, code: OsvFailureCode, message: string): void => {
      out.failed.set(purl, { code, message })
      acc.delete(purl)
    }
    for (let page = 0; pending.length > 0; page++) {
      if (page >= this.o.maxPages) {
        for (const p of pending)
          fail(p.purl, OsvFailure.tooManyPages, `more than ${this.o.maxPages} pages of results`)
        break
      }
      let reply: unknown
      try {
        reply = await this.request('POST', '/v1/querybatch', {
          queries: pending.map((p) => ({
            package: { purl: p.purl },
            ...(p.token !== undefined ? { page_token: p.token } : {}),
          })),
        })
      } catch (e) {
        const f = e as RequestFailed
        for (const p of pending)
          fail(p.purl, f.code ?? OsvFailure.unavailable, `OSV query failed: ${f.message}`)
        break
      }
      const checked = toBatchResults(reply, pending.length)
      if ('why' in checked) {
        for (const p of pending) fail(p.purl, OsvFailure.replyInvalid, `OSV querybatch reply: ${checked.why}`)
        break
      }
      const next: Array<{ purl: string; token: string }> = []
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!
        const r = checked.results[i]!
        if (!r.ok) {
          fail(p.purl, OsvFailure.replyInvalid, `OSV querybatch reply: ${r.why}`)
          continue
        }
        acc.get(p.purl)!.push(...r.vulns)
        if (r.next !== null) next.push({ purl: p.purl, token: r.next })
      }
      pending = next
    }
    for (const [purl, list] of acc) out.vulns.set(purl, list)
  }

  /** Full records for the given ids (cache first); ids that could not be fetched are in `failed`. */
  async getVulns(
    refs: VulnRef[],
  ): Promise<{ records: Map<string, OsvRecord>; failed: Map<string, Unchecked> }> {
    const unique = new Map<string, VulnRef>()
    for (const r of refs) {
      const prev = unique.get(r.id)
      if (!prev || r.modified > prev.modified) unique.set(r.id, r)
    }
    const records = new Map<string, OsvRecord>()
    const failed = new Map<string, Unchecked>()
    const queue = [...unique.values()]
    const worker = async (): Promise<void> => {
      for (let ref = queue.shift(); ref; ref = queue.shift()) {
        const cached = this.o.cache ? await this.o.cache.get(ref.id, ref.modified) : null
        if (cached) {
          records.set(ref.id, cached)
          continue
        }
        let raw: unknown
        try {
          raw = await this.request('GET', `/v1/vulns/${encodeURIComponent(ref.id)}`)
        } catch (e) {
          const f = e as RequestFailed
          failed.set(ref.id, { code: f.code ?? OsvFailure.unavailable, message: f.message })
          continue
        }
        try {
          const record = toCheckedRecord(raw, ref.id)
          records.set(ref.id, record)
          if (this.o.cache) await this.o.cache.put(record)
        } catch (e) {
          failed.set(ref.id, { code: OsvFailure.recordInvalid, message: (e as Error).message })
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.concurrency, queue.length)) }, worker))
    return { records, failed }
  }
}
