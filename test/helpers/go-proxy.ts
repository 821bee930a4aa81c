/**
 * A loopback Go module proxy for tests (the GOPROXY protocol on 127.0.0.1:0): `<module>/@v/<version>.mod`
 * and `.zip` (module paths and versions escaped as Go escapes them), from module zips built here out of
 * real module sources (test/fixtures/go/build/modules/), plus a `golang.org/toolchain` zip built once
 * from Debian's go1.26.10 (.tools/interop/go) into the git-ignored test/fixtures/go/build/.work/. It
 * records every request, so a test can assert what a build fetched (and that a warm cache fetched nothing).
 */

import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { constants, crc32, deflateRawSync } from 'node:zlib'
import { repoRoot } from './paths.ts'

/** Debian's go1.26.10 (scripts/interop-tools.sh): the Go the build tests run. Missing: the tests fail, loudly. */
export const GOROOT_DEBIAN = path.join(repoRoot, '.tools/interop/go/usr/lib/go-1.26')
export const GO_BIN = path.join(GOROOT_DEBIAN, 'bin/go')
export const GO_VERSION = '1.26.10'

export function requireGo(): string {
  if (!existsSync(GO_BIN))
    throw new Error(
      `the Go build tests need Debian's Go at ${GO_BIN}: run "bash scripts/interop-tools.sh" (CI runs it through scripts/setup.sh test)`,
    )
  return GO_BIN
}

export const BUILD_FIXTURES = path.join(repoRoot, 'test/fixtures/go/build')

/** A zip of `files` (name → bytes, already prefixed), entries sorted, one fixed time, deflated at `level`. */
export function writeModuleZip(files: ReadonlyMap<string, Buffer>, level = 6): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  const names = [...files.keys()].sort()
  for (const n of names) {
    const content = files.get(n) as Buffer
    const name = Buffer.from(n, 'utf8')
    const deflated = deflateRawSync(content, { level, strategy: constants.Z_DEFAULT_STRATEGY })
    const stored = deflated.length >= content.length
    const body = stored ? content : deflated
    const crc = crc32(content)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x800, 6)
    local.writeUInt16LE(stored ? 0 : 8, 8)
    local.writeUInt16LE(0, 10)
    local.writeUInt16LE(0x21, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(content.length, 22)
    local.writeUInt16LE(name.length, 26)
    locals.push(local, name, body)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x800, 8)
    central.writeUInt16LE(stored ? 0 : 8, 10)
    central.writeUInt16LE(0, 12)
    central.writeUInt16LE(0x21, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(content.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += 30 + name.length + body.length
  }
  const dir = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(names.length, 8)
  end.writeUInt16LE(names.length, 10)
  end.writeUInt32LE(dir.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, dir, end])
}

/** Every regular file under `dir` (following links), relative POSIX names → bytes, filtered by `keep`. */
export function readTree(dir: string, keep: (rel: string) => boolean = () => true): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel)).sort()) {
      const r = rel === '' ? name : `${rel}/${name}`
      const st = statSync(path.join(dir, r))
      if (st.isDirectory()) walk(r)
      else if (st.isFile() && keep(r)) out.set(r, readFileSync(path.join(dir, r)))
    }
  }
  walk('')
  return out
}

/** A module's files on the proxy: its go.mod and its zip (`<module>@<version>/…`). */
export interface ProxyModule {
  mod: Buffer
  zip: Buffer
}

/** A module zip from a folder of real module sources (test/fixtures/go/build/modules/<module>@<version>). */
export function moduleFromFixture(modulePath: string, version: string): ProxyModule {
  const dir = path.join(BUILD_FIXTURES, 'modules', `${modulePath}@${version}`)
  const files = readTree(dir)
  const prefixed = new Map([...files].map(([n, d]) => [`${modulePath}@${version}/${n}`, d]))
  return { mod: files.get('go.mod') ?? Buffer.from(`module ${modulePath}\n`), zip: writeModuleZip(prefixed) }
}

const escapeGo = (s: string) => s.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)

export interface GoProxy {
  url: string
  /** request paths, in order */
  requests: string[]
  /** the Authorization header of each request ('' when none), in order */
  auth: string[]
  /** `module@version` → files; a test may replace one (a tampered zip) */
  modules: Map<string, ProxyModule>
  /**
   * a checksum database the proxy serves under `/sumdb/<name>/` (as proxy.golang.org serves
   * sum.golang.org), `supported` included; `filter` may rewrite what it answers (a lying proxy)
   */
  sumdb: { name: string; url: string; filter?: (path: string, body: Buffer) => Buffer } | null
  close(): Promise<void>
}

/** Serves `modules` (keyed `module@version`) as a GOPROXY on 127.0.0.1:0. */
export async function startGoProxy(modules: Map<string, ProxyModule>): Promise<GoProxy> {
  const requests: string[] = []
  const auth: string[] = []
  const byUrl = (p: string): Buffer | null => {
    const m = /^\/(.+)\/@v\/([^/]+)\.(mod|zip|info)$/.exec(p)
    if (!m) return null
    for (const [key, files] of modules) {
      const at = key.lastIndexOf('@')
      if (escapeGo(key.slice(0, at)) !== m[1] || escapeGo(key.slice(at + 1)) !== m[2]) continue
      if (m[3] === 'mod') return files.mod
      if (m[3] === 'zip') return files.zip
      return Buffer.from(JSON.stringify({ Version: key.slice(at + 1), Time: '2025-12-04T00:00:00Z' }))
    }
    return null
  }
  const server = http.createServer(async (req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    requests.push(p)
    auth.push(req.headers.authorization ?? '')
    const db = proxy.sumdb
    if (db && p.startsWith(`/sumdb/${db.name}/`)) {
      const rest = p.slice(`/sumdb/${db.name}/`.length)
      if (rest === 'supported') {
        res.writeHead(200).end()
        return
      }
      const r = await fetch(
        `${db.url}/${new URL(req.url ?? '/', 'http://x').pathname.slice(`/sumdb/${db.name}/`.length)}`,
      )
      const got = Buffer.from(await r.arrayBuffer())
      const body = db.filter ? db.filter(rest, got) : got
      res.writeHead(r.status, { 'content-length': body.length }).end(body)
      return
    }
    const body = byUrl(p)
    if (!body) {
      res.writeHead(404).end('not found')
      return
    }
    res.writeHead(200, { 'content-length': body.length }).end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const proxy: GoProxy = {
    url: `http://127.0.0.1:${port}`,
    requests,
    auth,
    modules,
    sumdb: null,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  return proxy
}

/** Go's own checksum-database server (built by scripts/go-fixtures.sh from x/mod/sumdb). */
export const SUMDB_SERVER = path.join(repoRoot, 'test/fixtures/go/.work/sumdb-server')

export interface GoSumdb {
  name: string
  /** the verifier key */
  key: string
  url: string
  /** GOSUMDB naming this database by key (reached through the proxy that serves it) */
  gosumdb: string
  close(): void
}

/**
 * Starts Go's sumdb server on 127.0.0.1:0; it makes each record from the module as `origin` (a module
 * proxy) serves it, hashed with Go's dirhash. Missing binary: the test fails, loudly.
 */
export async function startGoSumdb(origin: string, name = 'sum.test.detbuild.dev'): Promise<GoSumdb> {
  if (!existsSync(SUMDB_SERVER))
    throw new Error(
      `no ${SUMDB_SERVER}: run "bash scripts/go-fixtures.sh" (CI runs it through scripts/setup.sh test)`,
    )
  const child = spawn(SUMDB_SERVER, [name, origin], { stdio: ['ignore', 'pipe', 'inherit'] })
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.on('exit', (code) => reject(new Error(`the sumdb server exited (${code})`)))
  })
  const [key, url] = line.split(' ') as [string, string]
  return { name, key, url, gosumdb: key, close: () => child.kill() }
}

export const TOOLCHAIN_KEY = `golang.org/toolchain@v0.0.1-go${GO_VERSION}.linux-amd64`

/**
 * The `golang.org/toolchain` zip of Debian's go1.26.10, as the Go project lays one out
 * (`golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64/` + GOROOT: VERSION, go.env, bin/, pkg/tool/,
 * pkg/include/, lib/, src/ without testdata folders and _test.go files, to keep it small), built once
 * into the git-ignored .work folder and reused (rebuilt when Debian's VERSION file is newer).
 */
export function debianToolchainZip(): { file: string; builtMs: number | null } {
  requireGo()
  const work = path.join(BUILD_FIXTURES, '.work')
  const file = path.join(work, `${TOOLCHAIN_KEY.replace(/[/@]/g, '_')}.zip`)
  const version = path.join(GOROOT_DEBIAN, 'VERSION')
  if (existsSync(file) && statSync(file).mtimeMs >= statSync(version).mtimeMs) return { file, builtMs: null }
  const started = Date.now()
  mkdirSync(work, { recursive: true })
  const keep = (rel: string): boolean => {
    const top = rel.split('/')[0] as string
    if (['VERSION', 'go.env'].includes(rel)) return true
    if (top === 'bin' || top === 'lib') return true
    if (rel.startsWith('pkg/tool/') || rel.startsWith('pkg/include/')) return true
    if (top === 'src') return !rel.includes('/testdata/') && !rel.endsWith('_test.go')
    return false
  }
  const files = readTree(GOROOT_DEBIAN, keep)
  const prefixed = new Map([...files].map(([n, d]) => [`${TOOLCHAIN_KEY}/${n}`, d]))
  const zip = writeModuleZip(prefixed, 1)
  writeFileSync(`${file}.tmp`, zip)
  renameSync(`${file}.tmp`, file)
  return { file, builtMs: Date.now() - started }
}
