/**
 * npm in the build room: a real `npm ci --offline` of a small lockfile installs from the prefetched npm
 * cache (mounted from the host, never changed by the build), and `npm pack`, which writes into its
 * cache, works where the cache is an overlay. A loopback registry serves the locked package.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { gzipSync } from 'node:zlib'
import ssri from 'ssri'
import { type ArchiveEntry, writeTar } from '../../src/util/tar.ts'
import { makeProject, removeProject, runCli } from './helpers.ts'

const cleanup: string[] = []
let server: http.Server
let base = ''
let tarballRequests = 0

function file(p: string, data: string): ArchiveEntry {
  return {
    path: `package/${p}`,
    type: 'file',
    mode: 0o644,
    mtime: 0,
    uid: 0,
    gid: 0,
    uname: '',
    gname: '',
    linkpath: '',
    data: Buffer.from(data),
  }
}

const tiny = gzipSync(
  writeTar([
    file('package.json', JSON.stringify({ name: 'tiny-dep', version: '1.2.3', main: 'index.js' })),
    file('index.js', "module.exports = 'hello from tiny-dep'\n"),
  ]),
)
const integrity = ssri.fromData(tiny, { algorithms: ['sha512'] }).toString()

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/tiny-dep/-/tiny-dep-1.2.3.tgz') {
      tarballRequests++
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(tiny)
      return
    }
    res.writeHead(404).end()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

after(async () => {
  await new Promise<void>((r) => server.close(() => r()))
  for (const p of cleanup) removeProject(p)
})

function npmProject(build: string[]): string {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(p)
  writeFileSync(
    path.join(p, 'package.json'),
    JSON.stringify({
      name: 'room-npm-fixture',
      version: '1.0.0',
      license: 'MIT',
      files: ['out/'],
      dependencies: { 'tiny-dep': '1.2.3' },
    }),
  )
  writeFileSync(
    path.join(p, 'package-lock.json'),
    JSON.stringify({
      name: 'room-npm-fixture',
      version: '1.0.0',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': { name: 'room-npm-fixture', version: '1.0.0', dependencies: { 'tiny-dep': '1.2.3' } },
        'node_modules/tiny-dep': {
          version: '1.2.3',
          resolved: `${base}/tiny-dep/-/tiny-dep-1.2.3.tgz`,
          integrity,
        },
      },
    }),
  )
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: 'npm ci',
      build: [
        `mkdir -p out && node -e "require('fs').writeFileSync('out/said.txt', require('tiny-dep'))"`,
        ...build,
      ],
      outputs: ['out/*.txt', 'dist/*.tgz'],
      network: 'deny',
    }),
  )
  return p
}

const listAll = (dir: string): string[] =>
  existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).sort() : []

for (const mechanism of ['bwrap', 'unshare', 'auto'] as const)
  test(`${mechanism}: npm ci --offline installs from the prefetched cache; the host cache is unchanged by the build`, async () => {
    // npm pack writes into its cache: it needs the cache overlay, which bubblewrap < 0.9 cannot make
    const withPack = mechanism !== 'bwrap'
    const p = npmProject(withPack ? ['mkdir -p dist && npm pack --pack-destination dist'] : [])
    const cacheDir = path.join(path.dirname(p), 'cache')
    const env = mechanism === 'auto' ? {} : { DETBUILD_ROOM: mechanism }
    const run = await runCli(['build', '-C', p, '--cache-dir', cacheDir], env)
    assert.equal(run.code, 0, `${run.stderr}${readFileSync(path.join(p, '.detbuild', 'build.log'), 'utf8')}`)
    const art = (f: string) => readFileSync(path.join(p, '.detbuild', 'artifacts', f))
    assert.equal(art('said.txt').toString(), 'hello from tiny-dep')
    if (withPack) assert.ok(art('room-npm-fixture-1.0.0.tgz').length > 0)
    const manifest = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8'))
    assert.equal(manifest.isolation.sealed, true)
    assert.equal(manifest.isolation.network, 'none')
    if (mechanism !== 'auto') assert.equal(manifest.isolation.mechanism, mechanism)

    // a second build: nothing new is fetched, and the build's own writes never reach the host cache
    const before = listAll(path.join(cacheDir, 'npm'))
    const requests = tarballRequests
    const again = await runCli(['build', '-C', p, '--cache-dir', cacheDir], env)
    assert.equal(again.code, 0, again.stderr)
    assert.equal(tarballRequests, requests, 'the cached package is not fetched again')
    assert.deepEqual(listAll(path.join(cacheDir, 'npm')), before)
    assert.ok(!before.some((f) => f.includes('_logs')), 'npm writes its logs under HOME, not the cache')
    assert.deepEqual(art('said.txt').toString(), 'hello from tiny-dep')
  })
