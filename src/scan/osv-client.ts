/**
 * Edge (network): the OSV API client. `POST /v1/querybatch` in chunks of at most 1,000 queries,
 * following `next_page_token`; `GET /v1/vulns/{id}` to hydrate records, de-duplicated, with bounded
 * concurrency and a disk cache keyed by id and `modified`. Timeouts, and retries with exponential
 * backoff and full jitter on 429, 5xx, network errors and unreadable replies, honouring Retry-After.
 * Nothing here throws for a package it could not check: it reports it, so the caller can fail closed.
 */
import type { Logger } from '../util/log.ts'
import type { OsvCache } from './osv-cache.ts'
import { assertOsvRecord } from './osv-index.ts'
import type { OsvRecord } from './types.ts'

export const DefaultOsvUrl = 'https://api.osv.dev'
export const MaxBatch = 1000

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
  cache?: OsvCache | null
  log: Logger
  sleep?: (ms: number) => Promise<void>
  /** in [0, 1): jitter source; only affects waiting, never an output */
  random?: () => number
}

export interface VulnRef {
  id: string
  modified: string
}

export interface QueryResult {
  vulns: Map<string, VulnRef[]>
  failed: Map<string, string>
}

class RequestFailed extends Error {
  readonly retryable: boolean
  readonly retryAfterMs: number | null
  constructor(message: string, retryable: boolean, retryAfterMs: number | null = null) {
    super(message)
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

  constructor(options: OsvClientOptions) {
    this.o = {
      fetch: globalThis.fetch,
      timeoutMs: 30_000,
      retries: 4,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      concurrency: 8,
      maxPages: 50,
      batchSize: MaxBatch,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      random: Math.random,
      cache: null,
      ...options,
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
    }
  }

  private async request(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
    const url = `${this.o.baseUrl}${route}`
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
        const res = await this.o.fetch(url, {
          method,
          headers: {
            accept: 'application/json',
            ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.o.timeoutMs),
        })
        if (res.status === 429 || res.status >= 500) {
          await res.body?.cancel().catch(() => {})
          throw new RequestFailed(
            `HTTP ${res.status}`,
            true,
            parseRetryAfter(res.headers.get('retry-after'), Date.now()),
          )
        }
        if (res.status === 404 && method === 'GET') {
          await res.body?.cancel().catch(() => {})
          throw new RequestFailed('HTTP 404 (record not found)', false)
        }
        if (!res.ok) {
          await res.body?.cancel().catch(() => {})
          throw new RequestFailed(`HTTP ${res.status}`, false)
        }
        const text = await res.text()
        try {
          return JSON.parse(text)
        } catch {
          throw new RequestFailed('unreadable reply (malformed or truncated JSON)', true)
        }
      } catch (e) {
        if (e instanceof RequestFailed) {
          last = e
          if (!e.retryable) break
        } else {
          const err = e as Error
          const why =
            err.name === 'TimeoutError'
              ? `timed out after ${this.o.timeoutMs} ms`
              : `network error (${(err.cause as Error | undefined)?.message ?? err.message})`
          last = new RequestFailed(why, true)
        }
      }
    }
    throw last ?? new RequestFailed('request failed', false)
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
    for (let page = 0; pending.length > 0; page++) {
      if (page >= this.o.maxPages) {
        for (const p of pending) out.failed.set(p.purl, `more than ${this.o.maxPages} pages of results`)
        for (const p of pending) acc.delete(p.purl)
        break
      }
      let reply: unknown
      try {
        reply = await this.request('POST', '/v1/querybatch', {
          queries: pending.map((p) => ({
            package: { purl: p.purl },
            ...(p.token ? { page_token: p.token } : {}),
          })),
        })
      } catch (e) {
        for (const p of pending) {
          out.failed.set(p.purl, `OSV query failed: ${(e as Error).message}`)
          acc.delete(p.purl)
        }
        break
      }
      const results = (reply as { results?: unknown })?.results
      const next: Array<{ purl: string; token: string }> = []
      for (let i = 0; i < pending.length; i++) {
        const p = pending[i]!
        const r = Array.isArray(results)
          ? (results[i] as { vulns?: unknown; next_page_token?: unknown } | undefined)
          : undefined
        if (!r || typeof r !== 'object' || (r.vulns !== undefined && !Array.isArray(r.vulns))) {
          out.failed.set(p.purl, 'OSV reply was truncated or malformed (no result for this package)')
          acc.delete(p.purl)
          continue
        }
        const list = acc.get(p.purl)!
        for (const v of (r.vulns as Array<{ id?: unknown; modified?: unknown }> | undefined) ?? []) {
          if (typeof v?.id !== 'string') continue
          list.push({ id: v.id, modified: typeof v.modified === 'string' ? v.modified : '' })
        }
        if (typeof r.next_page_token === 'string' && r.next_page_token !== '')
          next.push({ purl: p.purl, token: r.next_page_token })
      }
      pending = next
    }
    for (const [purl, list] of acc) out.vulns.set(purl, list)
  }

  /** Full records for the given ids (cache first); ids that could not be fetched are in `failed`. */
  async getVulns(refs: VulnRef[]): Promise<{ records: Map<string, OsvRecord>; failed: Map<string, string> }> {
    const unique = new Map<string, VulnRef>()
    for (const r of refs) {
      const prev = unique.get(r.id)
      if (!prev || r.modified > prev.modified) unique.set(r.id, r)
    }
    const records = new Map<string, OsvRecord>()
    const failed = new Map<string, string>()
    const queue = [...unique.values()]
    const worker = async (): Promise<void> => {
      for (let ref = queue.shift(); ref; ref = queue.shift()) {
        const cached = this.o.cache ? await this.o.cache.get(ref.id, ref.modified) : null
        if (cached) {
          records.set(ref.id, cached)
          continue
        }
        try {
          const raw = await this.request('GET', `/v1/vulns/${encodeURIComponent(ref.id)}`)
          const record = assertOsvRecord(raw, `${this.o.baseUrl}/v1/vulns/${ref.id}`)
          if (record.id !== ref.id) throw new Error(`server returned ${record.id} for ${ref.id}`)
          records.set(ref.id, record)
          if (this.o.cache) await this.o.cache.put(record)
        } catch (e) {
          failed.set(ref.id, (e as Error).message)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.o.concurrency, queue.length)) }, worker))
    return { records, failed }
  }
}

/**
 * Honours HTTPS_PROXY / HTTP_PROXY / NO_PROXY for fetch through Node's built-in proxy support
 * (`http.setGlobalProxyFromEnv`, Node ≥ 24.5), without a dependency. Returns a function that restores
 * the previous global agents. On a Node without it, says so instead of silently going direct.
 */
export async function useEnvProxy(env: NodeJS.ProcessEnv, log: Logger): Promise<() => void> {
  const wanted = env.HTTPS_PROXY ?? env.https_proxy ?? env.HTTP_PROXY ?? env.http_proxy
  if (!wanted) return () => {}
  const http = (await import('node:http')) as unknown as {
    setGlobalProxyFromEnv?: (env: NodeJS.ProcessEnv) => () => void
  }
  if (typeof http.setGlobalProxyFromEnv !== 'function') {
    log.warn(
      `a proxy is configured but this Node (${process.version}) cannot apply it at runtime; run with NODE_USE_ENV_PROXY=1`,
    )
    return () => {}
  }
  log.debug('osv: using the proxy from the environment')
  return http.setGlobalProxyFromEnv(env)
}
