/**
 * A loopback Dependency-Track API server for tests, on 127.0.0.1:0, implementing what `detbuild upload`
 * calls as Dependency-Track's own resources define it (apiserver BomResource, VexResource, EventResource):
 *
 * - `PUT /api/v1/bom`: `X-Api-Key` checked (401), BomSubmitRequest validated (400: project UUID pattern,
 *   base64 pattern, name/version required without a UUID), project by UUID or name + version (404 "The
 *   project could not be found."), `autoCreate` (401 "The principal does not have permission to create
 *   project." without the permission; 404 for an unknown parent), 200 `{"token", "projectUuid"}`;
 *   a BOM that is not CycloneDX JSON is 400 problem+json ("The uploaded BOM is invalid").
 * - `PUT /api/v1/vex`: the same project rules, no auto-create (404), 200 `{"token", "projectUuid"}`.
 * - `GET /api/v1/event/token/{uuid}`: `{"processing": …}`, true for the first `processingPolls` polls of
 *   each token (or forever with `neverFinish`); with `legacy`, only the pre-4.11 `/api/v1/bom/token/{uuid}`.
 *
 * Hostile switches: `next` replaces the next replies (any status, body, content type or headers, a
 * redirect, a body that never ends, a hang), `always` replaces every reply.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export type DtFault =
  | { kind: 'reply'; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  | { kind: 'redirect'; status: 301 | 302 | 307 | 308; location: string }
  | { kind: 'endless' }
  | { kind: 'hang' }

export interface DtProject {
  uuid: string
  name: string
  version: string
  parent: string | null
}

export interface DtRequest {
  method: string
  path: string
  apiKey: string
  contentType: string
  /** the raw body */
  body: string
}

export interface DtFake {
  url: string
  projects: DtProject[]
  /** decoded BOMs and VEXes received, by project UUID, in order */
  boms: Array<{ project: string; bytes: Buffer }>
  vexes: Array<{ project: string; bytes: Buffer }>
  requests: DtRequest[]
  /** replaces the next replies, whatever the route */
  next: DtFault[]
  always: DtFault | null
  /** polls that answer processing: true before false, per token */
  processingPolls: number
  neverFinish: boolean
  /** the key may create projects (PROJECT_CREATION_UPLOAD) */
  canCreate: boolean
  /** whether replies carry `projectUuid` (Dependency-Track ≥ 5) or only `token` (4.x) */
  v4: boolean
  /** only the pre-4.11 `GET /api/v1/bom/token/{uuid}` (no `/api/v1/event/token`) */
  legacy: boolean
  close(): Promise<void>
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const fakeUuid = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`

export async function startDtrackFake(options: { apiKey: string; projects?: DtProject[] }): Promise<DtFake> {
  let counter = 0
  const polls = new Map<string, number>()
  const tokens = new Set<string>()
  const sockets = new Set<import('node:net').Socket>()
  const fake: DtFake = {
    url: '',
    projects: [...(options.projects ?? [])],
    boms: [],
    vexes: [],
    requests: [],
    next: [],
    always: null,
    processingPolls: 0,
    neverFinish: false,
    canCreate: true,
    v4: false,
    legacy: false,
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }

  const text = (res: ServerResponse, status: number, body: string, type = 'text/plain') => {
    res.writeHead(status, { 'content-type': type })
    res.end(body)
  }
  const json = (res: ServerResponse, status: number, body: unknown) =>
    text(res, status, JSON.stringify(body), 'application/json')

  const findProject = (req: Record<string, unknown>): DtProject | undefined =>
    typeof req.project === 'string'
      ? fake.projects.find((p) => p.uuid === req.project)
      : fake.projects.find((p) => p.name === req.projectName && p.version === req.projectVersion)

  const accepted = (res: ServerResponse, project: DtProject) => {
    const token = fakeUuid(0x10000 + ++counter)
    tokens.add(token)
    json(res, 200, fake.v4 ? { token } : { token, projectUuid: project.uuid })
  }

  const handle = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const url = new URL(req.url ?? '/', 'http://x')
    fake.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      apiKey: String(req.headers['x-api-key'] ?? ''),
      contentType: String(req.headers['content-type'] ?? ''),
      body,
    })
    const fault = fake.next.shift() ?? fake.always
    if (fault) {
      switch (fault.kind) {
        case 'reply':
          res.writeHead(fault.status, {
            ...(fault.contentType ? { 'content-type': fault.contentType } : {}),
            ...fault.headers,
          })
          res.end(fault.body)
          return
        case 'redirect':
          res.writeHead(fault.status, { location: fault.location })
          res.end()
          return
        case 'endless': {
          res.writeHead(200, { 'content-type': 'application/json' })
          const chunk = Buffer.alloc(64 * 1024, 0x20)
          let sent = 0
          const pump = () => {
            while (sent < 64 * 1024 * 1024 && !res.destroyed) {
              sent += chunk.length
              if (!res.write(chunk)) return void res.once('drain', pump)
            }
            res.end()
          }
          pump()
          return
        }
        case 'hang':
          return
      }
    }
    if (req.headers['x-api-key'] !== options.apiKey) return text(res, 401, 'Unauthorized')

    const token = (
      fake.legacy ? /^\/api\/v1\/bom\/token\/([^/]+)$/ : /^\/api\/v1\/event\/token\/([^/]+)$/
    ).exec(url.pathname)
    if (req.method === 'GET' && token) {
      const t = token[1]!
      if (!UUID.test(t)) return text(res, 400, 'Invalid UUID')
      const n = polls.get(t) ?? 0
      polls.set(t, n + 1)
      return json(res, 200, { processing: tokens.has(t) && (fake.neverFinish || n < fake.processingPolls) })
    }
    const route = url.pathname === '/api/v1/bom' ? 'bom' : url.pathname === '/api/v1/vex' ? 'vex' : null
    if (req.method !== 'PUT' || route === null) return text(res, 404, 'Not Found')
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json'))
      return text(res, 415, 'Unsupported Media Type')
    let r: Record<string, unknown>
    try {
      r = JSON.parse(body) as Record<string, unknown>
    } catch {
      return text(res, 400, 'Unable to process JSON')
    }
    const field = route === 'bom' ? 'bom' : 'vex'
    const data = r[field]
    if (typeof data !== 'string' || !BASE64.test(data))
      return json(res, 400, [{ message: `The ${route.toUpperCase()} must be Base64 encoded` }])
    if (r.project !== undefined && (typeof r.project !== 'string' || !UUID.test(r.project)))
      return json(res, 400, [{ message: 'The project must be a valid 36 character UUID' }])
    if (
      r.project === undefined &&
      (typeof r.projectName !== 'string' || typeof r.projectVersion !== 'string')
    )
      return json(res, 400, [{ message: 'must not be blank' }])
    const bytes = Buffer.from(data, 'base64')
    let project = findProject(r)
    if (route === 'bom' && !project && r.project === undefined && r.autoCreate === true) {
      if (!fake.canCreate) return text(res, 401, 'The principal does not have permission to create project.')
      let parent: DtProject | undefined
      if (r.parentUUID !== undefined || r.parentName !== undefined) {
        parent =
          r.parentUUID !== undefined
            ? fake.projects.find((p) => p.uuid === r.parentUUID)
            : fake.projects.find(
                (p) =>
                  p.name === r.parentName && (r.parentVersion === undefined || p.version === r.parentVersion),
              )
        if (!parent) return text(res, 404, 'The parent project could not be found.')
      }
      project = {
        uuid: fakeUuid(++counter),
        name: String(r.projectName),
        version: String(r.projectVersion),
        parent: parent?.uuid ?? null,
      }
      fake.projects.push(project)
    }
    if (!project) return text(res, 404, 'The project could not be found.')
    try {
      const doc = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>
      if (doc.bomFormat !== 'CycloneDX') throw new Error('not CycloneDX')
    } catch {
      return text(
        res,
        400,
        JSON.stringify({ status: 400, title: 'The uploaded BOM is invalid', detail: 'Unable to parse BOM' }),
        'application/problem+json',
      )
    }
    ;(route === 'bom' ? fake.boms : fake.vexes).push({ project: project.uuid, bytes })
    return accepted(res, project)
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')))
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()))
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return fake
}
