/**
 * Edge (network): the Dependency-Track REST calls `detbuild upload` makes, as the server's own resources
 * define them (apiserver BomResource, VexResource, EventResource):
 *
 * - `PUT /api/v1/bom`  (BomSubmitRequest, JSON)  → 200 `{"token": "<uuid>", …}`
 * - `PUT /api/v1/vex`  (VexSubmitRequest, JSON)  → 200 `{"token": "<uuid>", …}`
 * - `GET /api/v1/event/token/{token}`            → 200 `{"processing": true|false}`
 *
 * with the key in `X-Api-Key`. Written on `fetch` rather than a generated client: three calls, and every
 * reply is hostile until checked — no redirect is followed (the key would go with it), a body is read up
 * to 1 MiB and the read aborted beyond it, a 200 must be `application/json` with exactly the fields used
 * of the right type. 429, 5xx and network errors are retried a few times within the deadline; everything
 * else fails at once. Every message passes through `redactKey`: a server may echo what it was sent.
 */
import { type ErrorCode, IncompleteError, InputError } from '../errors.ts'
import { readCappedBody } from '../util/http-body.ts'
import { parseJsonText } from '../util/json-parse.ts'
import type { Logger } from '../util/log.ts'
import { redactSecrets } from '../util/redact.ts'
import { type DtrackEndpoint, isUuid, redactKey } from './endpoint.ts'

/** The largest reply read: Dependency-Track's replies here are a few hundred bytes. */
export const MaxReplyBytes = 1024 * 1024

export interface DtrackClientOptions {
  endpoint: DtrackEndpoint
  apiKey: string
  log: Logger
  fetch?: typeof fetch
  /** one request at most (further bounded by the deadline) */
  requestTimeoutMs?: number
  /** retries after the first attempt, for 429, 5xx and network errors */
  retries?: number
  baseDelayMs?: number
  sleep?: (ms: number) => Promise<void>
  /** a monotonic clock in ms (the deadline) */
  clock?: () => number
}

/** What a successful `PUT` answered. */
export interface UploadReply {
  token: string
  /** Dependency-Track ≥ 5 names the project the upload went to; 4.x does not */
  projectUuid: string | null
}

/** Why one attempt failed: retried when `retryable`, else thrown as `error`. */
class AttemptFailed extends Error {
  readonly error: InputError | IncompleteError
  readonly retryable: boolean
  constructor(error: InputError | IncompleteError, retryable: boolean) {
    super(error.message)
    this.error = error
    this.retryable = retryable
  }
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

export class DtrackClient {
  private readonly o: Required<Omit<DtrackClientOptions, 'endpoint' | 'apiKey' | 'log'>>
  private readonly options: DtrackClientOptions

  constructor(options: DtrackClientOptions) {
    this.options = options
    this.o = {
      fetch: globalThis.fetch,
      requestTimeoutMs: 60_000,
      retries: 2,
      baseDelayMs: 500,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      clock: () => performance.now(),
      ...options,
    }
  }

  /** `PUT /api/v1/bom` or `/api/v1/vex` with a prepared body; the token to poll. */
  async put(route: 'bom' | 'vex', body: string, deadline: number): Promise<UploadReply> {
    const reply = await this.request('PUT', `/api/v1/${route}`, body, deadline)
    if (!isObject(reply) || !isUuid(reply.token))
      throw this.invalid(`PUT /api/v1/${route}: the reply has no token (a UUID)`)
    const projectUuid = reply.projectUuid
    if (projectUuid !== undefined && projectUuid !== null && !isUuid(projectUuid))
      throw this.invalid(`PUT /api/v1/${route}: the reply's projectUuid is not a UUID`)
    return { token: reply.token.toLowerCase(), projectUuid: projectUuid?.toLowerCase() ?? null }
  }

  /** A server without `/api/v1/event/token` (Dependency-Track before 4.11) is asked the older route. */
  private legacyToken = false

  /**
   * `GET /api/v1/event/token/{token}`: whether the server is still processing the upload. Before 4.11
   * Dependency-Track had only `GET /api/v1/bom/token/{token}` (deprecated since, still served): a 404 on
   * the first route moves to the second; a 404 there too is not a Dependency-Track API.
   */
  async isProcessing(token: string, deadline: number): Promise<boolean> {
    const route = this.legacyToken ? 'bom/token' : 'event/token'
    let reply: unknown
    try {
      reply = await this.request('GET', `/api/v1/${route}/${token}`, undefined, deadline)
    } catch (e) {
      if (!(e instanceof InputError && e.code === 'UPLOAD_PROJECT_NOT_FOUND')) throw e
      if (this.legacyToken) throw this.invalid(`GET /api/v1/${route}: HTTP 404 (no processing status route)`)
      this.legacyToken = true
      return this.isProcessing(token, deadline)
    }
    if (!isObject(reply) || typeof reply.processing !== 'boolean')
      throw this.invalid(`GET /api/v1/${route}: the reply has no boolean "processing"`)
    return reply.processing
  }

  private invalid(message: string): IncompleteError {
    return new IncompleteError('UPLOAD_REPLY_INVALID', this.clean(message), {
      details: { server: this.server },
    })
  }

  private get server(): string {
    return this.options.endpoint.base
  }

  /** Any text about a request: without the key, without URL credentials. */
  private clean(text: string): string {
    return redactSecrets(redactKey(text, this.options.apiKey))
  }

  private async request(
    method: 'GET' | 'PUT',
    route: string,
    body: string | undefined,
    deadline: number,
  ): Promise<unknown> {
    let last: AttemptFailed | null = null
    for (let attempt = 0; attempt <= this.o.retries; attempt++) {
      if (attempt > 0) {
        const wait = Math.min(this.o.baseDelayMs * 2 ** (attempt - 1), deadline - this.o.clock())
        if (wait < 0) break
        this.options.log.debug(
          `upload: retry ${attempt}/${this.o.retries} of ${method} ${route} (${last?.message})`,
        )
        await this.o.sleep(wait)
      }
      const left = deadline - this.o.clock()
      if (left <= 0) break
      try {
        // AbortSignal.timeout takes whole milliseconds
        return await this.attempt(method, route, body, Math.ceil(Math.min(left, this.o.requestTimeoutMs)))
      } catch (e) {
        if (!(e instanceof AttemptFailed)) throw e
        last = e
        if (!e.retryable) throw e.error
      }
    }
    // out of time: what ran out is --wait, whatever the last attempt saw (a timeout it was cut to)
    if (last === null || this.o.clock() >= deadline)
      throw new IncompleteError(
        'UPLOAD_TIMEOUT',
        this.clean(
          `${method} ${route}: no answer within --wait${last ? ` (last attempt: ${last.message})` : ''}`,
        ),
        { details: { server: this.server } },
      )
    throw last.error
  }

  private fail(code: ErrorCode, message: string, retryable: boolean, status?: number): AttemptFailed {
    const details = { server: this.server, ...(status !== undefined ? { status } : {}) }
    const text = this.clean(message)
    const error =
      code === 'UPLOAD_UNAVAILABLE' ||
      code === 'UPLOAD_REDIRECT' ||
      code === 'UPLOAD_REPLY_INVALID' ||
      code === 'UPLOAD_CONFLICT'
        ? new IncompleteError(code, text, { details })
        : new InputError(code, text, { details })
    return new AttemptFailed(error, retryable)
  }

  /** One attempt: no redirect followed, the body read under the size cap, then parsed. */
  private async attempt(method: 'GET' | 'PUT', route: string, body: string | undefined, timeoutMs: number) {
    const what = `${method} ${route}`
    const abort = new AbortController()
    let res: Response
    try {
      res = await this.o.fetch(`${this.server}${route}`, {
        method,
        headers: {
          accept: 'application/json',
          'x-api-key': this.options.apiKey,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : {}),
        // a redirect would take the key (and the SBOM) wherever it points: none is followed
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), abort.signal]),
      })
    } catch (e) {
      throw this.fail('UPLOAD_UNAVAILABLE', `${what}: ${networkWhy(e, timeoutMs)}`, true)
    }
    const status = res.status
    if (status === 200) {
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
      if (type !== 'application/json') {
        await res.body?.cancel().catch(() => {})
        throw this.fail(
          'UPLOAD_REPLY_INVALID',
          `${what}: HTTP 200 with content type ${JSON.stringify(type.slice(0, 80))}, not application/json`,
          false,
          status,
        )
      }
      const text = await this.readText(res, abort, what, timeoutMs)
      try {
        return parseJsonText(text)
      } catch {
        throw this.fail(
          'UPLOAD_REPLY_INVALID',
          `${what}: the reply is not JSON (malformed or truncated)`,
          false,
        )
      }
    }
    // the reason a server gives with an error, quoted briefly (it is hostile text: one line, capped)
    let reason = ''
    if (status >= 400 && status < 500) {
      try {
        reason = toReason(await this.readText(res, abort, what, timeoutMs, 64 * 1024))
      } catch {
        reason = ''
      }
    } else await res.body?.cancel().catch(() => {})
    const said = `${what}: HTTP ${status}${reason ? ` (${reason})` : ''}`
    if (status >= 300 && status < 400)
      throw this.fail('UPLOAD_REDIRECT', `${what}: HTTP ${status} redirect (not followed)`, false, status)
    if (status === 401) {
      // Dependency-Track answers 401 also when the key may upload but not create the project
      const cannotCreate = /permission to create project/i.test(reason)
      throw this.fail(
        cannotCreate ? 'UPLOAD_FORBIDDEN' : 'UPLOAD_UNAUTHORIZED',
        cannotCreate ? said : `${said}: the API key was not accepted`,
        false,
        status,
      )
    }
    if (status === 403) throw this.fail('UPLOAD_FORBIDDEN', said, false, status)
    if (status === 404) throw this.fail('UPLOAD_PROJECT_NOT_FOUND', said, false, status)
    if (status === 409) throw this.fail('UPLOAD_CONFLICT', said, false, status)
    if (status === 429 || status >= 500) throw this.fail('UPLOAD_UNAVAILABLE', said, true, status)
    if (status >= 400) throw this.fail('UPLOAD_REJECTED', said, false, status)
    // 1xx/2xx other than 200: not what the API answers
    throw this.fail('UPLOAD_REPLY_INVALID', `${what}: HTTP ${status}, expected 200`, false, status)
  }

  /** The body as UTF-8 text, the transfer aborted as soon as it exceeds `max`. */
  private async readText(
    res: Response,
    abort: AbortController,
    what: string,
    timeoutMs: number,
    max = MaxReplyBytes,
  ): Promise<string> {
    const tooLarge = () =>
      this.fail(
        'UPLOAD_REPLY_INVALID',
        `${what}: the reply is larger than ${max} bytes; transfer aborted`,
        false,
      )
    let body: Buffer
    try {
      body = await readCappedBody(res, abort, max, tooLarge)
    } catch (e) {
      if (e instanceof AttemptFailed) throw e
      throw this.fail(
        'UPLOAD_UNAVAILABLE',
        `${what}: ${networkWhy(e, timeoutMs)} while reading the reply`,
        true,
      )
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(body)
    } catch {
      throw this.fail('UPLOAD_REPLY_INVALID', `${what}: the reply is not UTF-8 text`, false)
    }
  }
}

/** Why a fetch failed, in words (the cause's message, never the request). */
function networkWhy(e: unknown, timeoutMs: number): string {
  const err = e as Error
  if (err?.name === 'TimeoutError') return `no reply within ${Math.round(timeoutMs / 1000)} s`
  const cause = (err?.cause as Error | undefined)?.message ?? err?.message ?? String(e)
  return `network error (${cause})`
}

/** A server's error text as one short line: problem+json's title/detail, or the text itself. */
function toReason(text: string): string {
  let reason = text
  try {
    const doc = parseJsonText(text)
    if (isObject(doc)) {
      const parts = [doc.title, doc.detail].filter((p): p is string => typeof p === 'string' && p !== '')
      if (parts.length > 0) reason = parts.join(': ')
    }
  } catch {
    // plain text (Dependency-Track's usual error entity)
  }
  const line = reason.replace(/\s+/g, ' ').trim()
  return line.length > 200 ? `${line.slice(0, 200)}…` : line
}
