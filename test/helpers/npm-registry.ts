/**
 * A loopback npm registry for tests: packuments (corgi or full, the same document) and tarballs made in
 * memory, served on 127.0.0.1:0 under an optional path prefix, plus plain files (remote tarball deps).
 * It counts requests by kind, so a test can assert that a warm cache needs none.
 */
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { gzipSync } from 'node:zlib'
import ssri from 'ssri'
import { type ArchiveEntry, writeTar } from '../../src/util/tar.ts'

export interface FakePackage {
  name: string
  version: string
  dependencies?: Record<string, string>
  /** names listed in bundleDependencies, shipped inside this tarball under node_modules/ */
  bundled?: FakePackage[]
  /** extra files (path inside the package → content) */
  files?: Record<string, string>
  /** a ready-made tarball, served as it is (instead of one made from the fields above) */
  tarball?: Buffer
  /** the packument's version document for a ready-made tarball (its package.json), without `dist` */
  manifest?: Record<string, unknown>
  /** extra fields of the version's packument entry only (author, `_npmUser`, description, …) */
  meta?: Record<string, unknown>
}

/** A package tarball (npm's `package/` prefix), deterministic bytes. */
export function packTarball(pkg: FakePackage): Buffer {
  const entry = (p: string, data: string): ArchiveEntry => ({
    path: `package/${p}`,
    type: 'file',
    mode: p.startsWith('bin/') ? 0o755 : 0o644,
    mtime: 0,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    linkpath: '',
    data: Buffer.from(data),
  })
  const manifest: Record<string, unknown> = { name: pkg.name, version: pkg.version }
  if (pkg.dependencies) manifest.dependencies = pkg.dependencies
  if (pkg.bundled?.length) {
    manifest.bundleDependencies = pkg.bundled.map((b) => b.name)
    manifest.dependencies = {
      ...(pkg.dependencies ?? {}),
      ...Object.fromEntries(pkg.bundled.map((b) => [b.name, b.version])),
    }
  }
  const entries = [entry('package.json', `${JSON.stringify(manifest)}\n`)]
  entries.push(entry('index.js', `module.exports = ${JSON.stringify(`${pkg.name}@${pkg.version}`)}\n`))
  for (const [p, d] of Object.entries(pkg.files ?? {})) entries.push(entry(p, d))
  for (const b of pkg.bundled ?? []) {
    entries.push(
      entry(
        `node_modules/${b.name}/package.json`,
        `${JSON.stringify({ name: b.name, version: b.version })}\n`,
      ),
    )
    entries.push(entry(`node_modules/${b.name}/index.js`, `module.exports = "${b.name}@${b.version}"\n`))
  }
  return gzipSync(writeTar(entries), { level: 9 })
}

export interface FakeRegistry {
  /** the registry URL, with its prefix and a trailing slash */
  url: string
  /** the server's origin, without the prefix */
  origin: string
  requests: { packuments: number; tarballs: number; other: number }
  /** the Authorization headers received, in order */
  authorizations: string[]
  /** when true, every connection is dropped unanswered (counted in `refused`) */
  down: boolean
  readonly refused: number
  /** tarball bytes by `name@version` */
  tarballs: Map<string, Buffer>
  /** tarball URL by `name@version` */
  tarballUrl(spec: string): string
  /** publishes one more version (or package) */
  publish(pkg: FakePackage): void
  /** serves `bytes` at `<origin>/files/<name>` (a remote tarball dependency) */
  addFile(name: string, bytes: Buffer): string
  close(): Promise<void>
}

/**
 * Starts the registry; `prefix` like `/npm/` puts it under a path, as Artifactory or Nexus do; `tls`
 * serves it over HTTPS with that certificate; `host` names it in its URLs (a proxy maps it).
 */
export async function startRegistry(
  packages: FakePackage[],
  prefix = '/',
  options: { tls?: { key: string; cert: string }; host?: string } = {},
): Promise<FakeRegistry> {
  const byName = new Map<string, FakePackage[]>()
  const tarballs = new Map<string, Buffer>()
  const files = new Map<string, Buffer>()
  for (const p of packages) {
    byName.set(p.name, [...(byName.get(p.name) ?? []), p])
    tarballs.set(`${p.name}@${p.version}`, p.tarball ?? packTarball(p))
  }
  const requests = { packuments: 0, tarballs: 0, other: 0 }
  const authorizations: string[] = []
  const refused = { count: 0 }
  let origin = ''
  const tarballPath = (name: string, version: string) =>
    `${prefix}${name}/-/${name.slice(name.indexOf('/') + 1)}-${version}.tgz`
  const state = { down: false }
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.headers.authorization) authorizations.push(req.headers.authorization)
    if (state.down) {
      refused.count++
      req.socket.destroy()
      return
    }
    const url = decodeURIComponent((req.url ?? '').split('?')[0] as string)
    const file = files.get(url)
    if (file) {
      requests.other++
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file)
      return
    }
    for (const [spec, bytes] of tarballs) {
      const at = spec.lastIndexOf('@')
      if (url === tarballPath(spec.slice(0, at), spec.slice(at + 1))) {
        requests.tarballs++
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(bytes)
        return
      }
    }
    const name = url.startsWith(prefix) ? url.slice(prefix.length) : ''
    const versions = byName.get(name)
    if (!versions) {
      requests.other++
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}')
      return
    }
    requests.packuments++
    const doc = {
      name,
      'dist-tags': { latest: versions.at(-1)?.version },
      versions: Object.fromEntries(
        versions.map((p) => {
          const bytes = tarballs.get(`${p.name}@${p.version}`) as Buffer
          return [
            p.version,
            {
              ...p.manifest,
              ...(p.meta ?? {}),
              name: p.name,
              version: p.version,
              ...(p.dependencies ? { dependencies: p.dependencies } : {}),
              ...(p.bundled?.length
                ? {
                    bundleDependencies: p.bundled.map((b) => b.name),
                    dependencies: {
                      ...(p.dependencies ?? {}),
                      ...Object.fromEntries(p.bundled.map((b) => [b.name, b.version])),
                    },
                  }
                : {}),
              dist: {
                tarball: `${origin}${tarballPath(p.name, p.version)}`,
                integrity: ssri.fromData(bytes, { algorithms: ['sha512'] }).toString(),
                shasum: ssri.fromData(bytes, { algorithms: ['sha1'] }).hexDigest(),
              },
            },
          ]
        }),
      ),
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(doc))
  }
  const server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler)
  // idle keep-alive sockets stay open longer than a test: a client never races the server closing one
  server.keepAliveTimeout = 120_000
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = `${options.tls ? 'https' : 'http'}://${options.host ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`
  return {
    url: `${origin}${prefix}`,
    origin,
    requests,
    authorizations,
    get down() {
      return state.down
    },
    set down(v: boolean) {
      state.down = v
    },
    get refused() {
      return refused.count
    },
    tarballs,
    tarballUrl: (spec) => {
      const at = spec.lastIndexOf('@')
      return `${origin}${tarballPath(spec.slice(0, at), spec.slice(at + 1))}`
    },
    publish: (p) => {
      byName.set(p.name, [...(byName.get(p.name) ?? []), p])
      tarballs.set(`${p.name}@${p.version}`, p.tarball ?? packTarball(p))
    },
    addFile: (name, bytes) => {
      files.set(`/files/${name}`, bytes)
      return `${origin}/files/${name}`
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}
