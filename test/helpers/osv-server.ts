/**
 * A loopback OSV-compatible server for tests: `POST /v1/querybatch` and `GET /v1/vulns/{id}` over
 * real OSV records (npm; Go's `golang` purls against `Go` records), with pagination and fault switches (429 + Retry-After, 500, slow replies,
 * malformed JSON, truncated results). Matching uses detbuild's OsvIndex: the fake stands in for
 * osv.dev's own matcher, so the online/offline comparison tests the client, paging and merging paths.
 *
 * Hostile switches (a mirror that lies): `rewrite` doctors the honest reply (querybatch: the whole
 * `{results}` object; vulns: the record), `body` sends any bytes with any status and content type,
 * `redirect` answers with a 3xx to any location, and `endless` streams a body that never ends (with
 * `declareLength`, behind a huge Content-Length) and records how much was sent and whether the client
 * hung up before the end (`stream`).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { PackageURL } from 'packageurl-js'
import { goVersionOrder } from '../../src/ecosystems/go/version-order.ts'
import { npmNameFromPurl } from '../../src/ecosystems/npm/names.ts'
import { OsvIndex } from '../../src/scan/osv-index.ts'
import type { OsvRecord } from '../../src/scan/types.ts'

export type Fault =
  | { kind: '429'; retryAfter?: string }
  | { kind: '500' }
  | { kind: 'slow'; ms: number }
  | { kind: 'malformed' }
  | { kind: 'truncated' }
  | { kind: 'hang' }
  | { kind: 'rewrite'; rewrite: (honest: unknown) => unknown }
  | { kind: 'body'; body: string; status?: number; contentType?: string }
  | { kind: 'redirect'; status: 301 | 302 | 303 | 307 | 308; location: string }
  | { kind: 'endless'; declareLength?: boolean }

/** What an `endless` reply observed. */
export interface StreamObservation {
  /** body bytes written to the socket */
  sent: number
  /** the client closed the connection before the server had sent everything */
  closedEarly: boolean
  /** settles when the reply is over (finished or cut off) */
  done: Promise<void>
}

/** An endless reply stops by itself after this much, so a client that never aborts fails the test, not the machine. */
export const EndlessLimit = 256 * 1024 * 1024

export interface OsvFake {
  url: string
  /** faults applied to the next requests of a route, in order */
  faults: { querybatch: Fault[]; vulns: Fault[] }
  /** permanent fault for every request of a route */
  always: { querybatch: Fault | null; vulns: Fault | null }
  requests: { querybatch: number; vulns: number }
  /** the Authorization header of every request, in order ('' when absent) */
  authorizations: string[]
  /** the last `endless` reply */
  stream: StreamObservation | null
  /** bodies of the querybatch requests */
  queries: Array<Array<{ package: { purl: string }; page_token?: string; version?: string }>>
  close(): Promise<void>
}

export function loadRecords(dir: string): OsvRecord[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as OsvRecord)
}

export async function startOsvFake(
  records: OsvRecord[],
  options: { pageSize?: number } = {},
): Promise<OsvFake> {
  const index = new OsvIndex()
  const byId = new Map<string, OsvRecord>()
  for (const r of records) {
    index.add(r, r.id)
    byId.set(r.id, r)
  }
  const pageSize = options.pageSize ?? 1000
  const pending = new Set<ServerResponse>()
  const fake: OsvFake = {
    url: '',
    faults: { querybatch: [], vulns: [] },
    always: { querybatch: null, vulns: null },
    requests: { querybatch: 0, vulns: 0 },
    authorizations: [],
    stream: null,
    queries: [],
    close: async () => {
      for (const res of pending) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }

  const applyFault = async (fault: Fault | undefined, res: ServerResponse): Promise<boolean> => {
    if (!fault) return false
    switch (fault.kind) {
      case '429':
        res.writeHead(429, { 'retry-after': fault.retryAfter ?? '0', 'content-type': 'application/json' })
        res.end('{"code":8,"message":"rate limited"}')
        return true
      case '500':
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end('{"code":13,"message":"internal"}')
        return true
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end('{"results": [ {"vulns": [')
        return true
      case 'hang':
        pending.add(res)
        return true
      case 'slow':
        await new Promise((r) => setTimeout(r, fault.ms))
        return false
      case 'body':
        res.writeHead(fault.status ?? 200, { 'content-type': fault.contentType ?? 'application/json' })
        res.end(fault.body)
        return true
      case 'redirect':
        res.writeHead(fault.status, { location: fault.location, 'content-type': 'application/json' })
        res.end('{}')
        return true
      case 'endless':
        fake.stream = streamEndless(res, fault.declareLength === true)
        return true
      case 'truncated':
      case 'rewrite':
        return false
    }
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
      fake.authorizations.push(req.headers.authorization ?? '')
      if (req.method === 'POST' && url.pathname === '/v1/querybatch') {
        fake.requests.querybatch++
        const fault = fake.faults.querybatch.shift() ?? fake.always.querybatch ?? undefined
        if (await applyFault(fault, res)) return
        let body: { queries: OsvFake['queries'][number] }
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'))
        } catch {
          res.writeHead(400).end('{"code":3,"message":"bad json"}')
          return
        }
        fake.queries.push(body.queries)
        let results = body.queries.map((q) => {
          if (q.version !== undefined) return { error: 'version must not be set with a versioned purl' }
          const p = PackageURL.fromString(q.package.purl)
          // npm names are case-sensitive (JSONStream is not jsonstream); packageurl-js lowercases them
          const go = p.type === 'golang'
          const name =
            (go ? null : npmNameFromPurl(q.package.purl)) ??
            (p.namespace ? `${p.namespace}/${p.name}` : p.name)
          const all = (
            go
              ? index.match('Go', name, p.version ?? '', false, goVersionOrder)
              : index.match('npm', name, p.version ?? '')
          ).map((m) => ({ id: m.record.id, modified: m.record.modified }))
          const start = q.page_token ? Number(q.page_token) : 0
          const page = all.slice(start, start + pageSize)
          const next = start + pageSize < all.length ? { next_page_token: String(start + pageSize) } : {}
          return page.length ? { vulns: page, ...next } : { ...next }
        })
        if (fault?.kind === 'truncated') results = results.slice(0, Math.floor(results.length / 2))
        const reply = fault?.kind === 'rewrite' ? fault.rewrite({ results }) : { results }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(reply))
        return
      }
      const m = /^\/v1\/vulns\/(.+)$/.exec(url.pathname)
      if (req.method === 'GET' && m) {
        fake.requests.vulns++
        const fault = fake.faults.vulns.shift() ?? fake.always.vulns ?? undefined
        if (await applyFault(fault, res)) return
        const record = byId.get(decodeURIComponent(m[1]!))
        if (!record) {
          res
            .writeHead(404, { 'content-type': 'application/json' })
            .end('{"code":5,"message":"Bug not found."}')
          return
        }
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify(fault?.kind === 'rewrite' ? fault.rewrite(structuredClone(record)) : record))
        return
      }
      res.writeHead(404).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fake
}

/** Writes `{"results":[` and then whitespace forever (honouring backpressure) until the client hangs up. */
function streamEndless(res: ServerResponse, declareLength: boolean): StreamObservation {
  const chunk = Buffer.alloc(64 * 1024, 0x20)
  const obs: StreamObservation = { sent: 0, closedEarly: false, done: Promise.resolve() }
  obs.done = new Promise<void>((resolve) => {
    let finished = false
    res.on('close', () => {
      obs.closedEarly = !finished
      resolve()
    })
    res.writeHead(200, {
      'content-type': 'application/json',
      ...(declareLength ? { 'content-length': String(EndlessLimit) } : {}),
    })
    const pump = (): void => {
      while (!res.destroyed && obs.sent < EndlessLimit) {
        const part = obs.sent === 0 ? Buffer.from('{"results":[') : chunk
        const take = part.subarray(0, Math.min(part.length, EndlessLimit - obs.sent))
        obs.sent += take.length
        if (!res.write(take)) {
          res.once('drain', pump)
          return
        }
      }
      if (!res.destroyed) {
        finished = true
        res.end()
      }
    }
    pump()
  })
  return obs
}
