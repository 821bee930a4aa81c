/**
 * A loopback OSV-compatible server for tests: `POST /v1/querybatch` and `GET /v1/vulns/{id}` over
 * real OSV records, with pagination and fault switches (429 + Retry-After, 500, slow replies,
 * malformed JSON, truncated results). Matching uses detbuild's OsvIndex: the fake stands in for
 * osv.dev's own matcher, so the online/offline comparison tests the client, paging and merging paths.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { PackageURL } from 'packageurl-js'
import { OsvIndex } from '../../src/scan/osv-index.ts'
import { npmNameFromPurl } from '../../src/scan/sbom-input.ts'
import type { OsvRecord } from '../../src/scan/types.ts'

export type Fault =
  | { kind: '429'; retryAfter?: string }
  | { kind: '500' }
  | { kind: 'slow'; ms: number }
  | { kind: 'malformed' }
  | { kind: 'truncated' }
  | { kind: 'hang' }

export interface OsvFake {
  url: string
  /** faults applied to the next requests of a route, in order */
  faults: { querybatch: Fault[]; vulns: Fault[] }
  /** permanent fault for every request of a route */
  always: { querybatch: Fault | null; vulns: Fault | null }
  requests: { querybatch: number; vulns: number }
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
      case 'truncated':
        return false
    }
  }

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://localhost')
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
          const name = npmNameFromPurl(q.package.purl) ?? (p.namespace ? `${p.namespace}/${p.name}` : p.name)
          const all = index
            .match('npm', name, p.version ?? '')
            .map((m) => ({ id: m.record.id, modified: m.record.modified }))
          const start = q.page_token ? Number(q.page_token) : 0
          const page = all.slice(start, start + pageSize)
          const next = start + pageSize < all.length ? { next_page_token: String(start + pageSize) } : {}
          return page.length ? { vulns: page, ...next } : { ...next }
        })
        if (fault?.kind === 'truncated') results = results.slice(0, Math.floor(results.length / 2))
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ results }))
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
        res.end(JSON.stringify(record))
        return
      }
      res.writeHead(404).end()
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fake
}
