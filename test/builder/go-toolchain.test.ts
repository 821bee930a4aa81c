/**
 * The golang.org/toolchain pin (src/ecosystems/go/toolchain.ts) against a loopback module proxy serving a
 * small toolchain zip: the first fetch records the zip's h1:, a later one that differs is refused, the
 * unpacked GOROOT is read-only with Go's executable bits, a changed cached tree is unpacked again from the
 * verified zip without the network, and a zip whose VERSION names another release is refused.
 */
import assert from 'node:assert/strict'
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { hashZip } from '../../src/ecosystems/go/dirhash.ts'
import { fetchFromProxy } from '../../src/ecosystems/go/module-proxy.ts'
import { resolveChecksumDatabase } from '../../src/ecosystems/go/sumdb.ts'
import { ensureGoToolchain } from '../../src/ecosystems/go/toolchain.ts'
import { CheckFailedError, InputError } from '../../src/errors.ts'
import {
  type GoProxy,
  type GoSumdb,
  startGoProxy,
  startGoSumdb,
  writeModuleZip,
} from '../helpers/go-proxy.ts'
import { startProxy } from '../helpers/http-proxy.ts'
import { tempDir } from '../helpers/paths.ts'
import { runCli } from './helpers.ts'

const KEY = 'golang.org/toolchain@v0.0.1-go1.99.1.linux-amd64'
const toolchainZip = (version: string, extra = '') =>
  writeModuleZip(
    new Map([
      [`${KEY}/VERSION`, Buffer.from(`go${version}\ntime 2026-01-01T00:00:00Z\n`)],
      [`${KEY}/bin/go`, Buffer.from(`#!/bin/sh\necho go${version}${extra}\n`)],
      [`${KEY}/pkg/tool/linux_amd64/compile`, Buffer.from('#!/bin/sh\n')],
      [`${KEY}/src/runtime/runtime.go`, Buffer.from('package runtime\n')],
    ]),
  )
let proxy: GoProxy
// Go's own checksum database, served through the proxy as proxy.golang.org serves sum.golang.org; its
// record of the toolchain is made from the proxy's zip at the first lookup (the first test)
let db: GoSumdb
before(async () => {
  proxy = await startGoProxy(
    new Map([[KEY, { mod: Buffer.from('module golang.org/toolchain\n'), zip: toolchainZip('1.99.1') }]]),
  )
  db = await startGoSumdb(proxy.url)
  proxy.sumdb = { name: db.name, url: db.url }
})
after(async () => {
  db?.close()
  await proxy?.close()
})

const options = (cacheDir: string, locked: { h1: string; resolved: string } | null) => ({
  cacheDir,
  proxy: proxy.url,
  goVersion: '1.99.1',
  goos: 'linux',
  goarch: 'amd64',
  locked,
  checksumDatabase: resolveChecksumDatabase(db.gosumdb),
})

test('first fetch pins the h1:, the GOROOT is read-only with executable bin/ and pkg/tool/, reuse fetches nothing', async () => {
  const cache = tempDir()
  const first = await ensureGoToolchain(options(cache, null))
  const zip = proxy.modules.get(KEY)?.zip as Buffer
  assert.equal(first.added, true)
  assert.equal(first.checksumDatabase, db.name, 'the fetched zip was checked with the checksum database')
  assert.ok(
    proxy.requests.includes(`/sumdb/${db.name}/lookup/golang.org/toolchain@v0.0.1-go1.99.1.linux-amd64`),
  )
  assert.equal(
    first.entry.h1,
    hashZip(zip, (w) => assert.fail(w)),
  )
  assert.equal(first.entry.resolved, `${proxy.url}/golang.org/toolchain/@v/v0.0.1-go1.99.1.linux-amd64.zip`)
  assert.equal(statSync(path.join(first.goroot, 'bin/go')).mode & 0o777, 0o555)
  assert.equal(statSync(path.join(first.goroot, 'pkg/tool/linux_amd64/compile')).mode & 0o777, 0o555)
  assert.equal(statSync(path.join(first.goroot, 'VERSION')).mode & 0o777, 0o444)
  assert.equal(statSync(path.join(first.goroot, 'src')).mode & 0o777, 0o555)
  const n = proxy.requests.length
  const again = await ensureGoToolchain(options(cache, first.entry))
  assert.equal(again.goroot, first.goroot)
  assert.equal(again.added, false)
  assert.equal(again.checksumDatabase, 'cached')
  assert.equal(proxy.requests.length, n, 'a verified cache needs no request')
  // a file changed in the unpacked tree: noticed, unpacked again from the verified zip, without the proxy
  const file = path.join(first.goroot, 'src/runtime/runtime.go')
  chmodSync(path.dirname(file), 0o755)
  chmodSync(file, 0o644)
  writeFileSync(file, 'package runtime // changed\n')
  let told = ''
  const healed = await ensureGoToolchain({ ...options(cache, first.entry), onTampered: (d) => (told = d) })
  assert.equal(told, first.goroot)
  assert.equal(readFileSync(path.join(healed.goroot, 'src/runtime/runtime.go'), 'utf8'), 'package runtime\n')
  assert.equal(proxy.requests.length, n, 'the kept zip was used')
})

test('a proxy zip that does not match the pin, or names another release, is refused (exit 1)', async () => {
  const cache = tempDir()
  const pin = { h1: hashZip(toolchainZip('1.99.1', ' evil'), (w) => assert.fail(w)), resolved: 'x' }
  await assert.rejects(
    ensureGoToolchain(options(cache, pin)),
    (e: unknown) => e instanceof CheckFailedError && e.code === 'GO_TOOLCHAIN_CHECKSUM_MISMATCH',
  )
  const real = proxy.modules.get(KEY)
  proxy.modules.set(KEY, { mod: Buffer.from(''), zip: toolchainZip('1.98.0') })
  try {
    await assert.rejects(
      // GOSUMDB=off here: the checksum database (which recorded the real zip) would refuse it first
      ensureGoToolchain({ ...options(tempDir(), null), checksumDatabase: null }),
      (e: unknown) =>
        e instanceof CheckFailedError &&
        e.code === 'GO_TOOLCHAIN_ZIP_INVALID' &&
        /go1\.98\.0/.test(e.message),
    )
  } finally {
    proxy.modules.set(KEY, real as NonNullable<typeof real>)
  }
})

test("a first pin is refused when the proxy's zip is not the one the checksum database records (GO_SUMDB_MISMATCH)", async () => {
  const real = proxy.modules.get(KEY)
  proxy.modules.set(KEY, { mod: Buffer.from(''), zip: toolchainZip('1.99.1', ' evil') })
  try {
    await assert.rejects(ensureGoToolchain(options(tempDir(), null)), (e: unknown) => {
      assert.ok(e instanceof CheckFailedError)
      assert.equal(e.code, 'GO_SUMDB_MISMATCH')
      assert.match(e.message, new RegExp(`checksum database ${db.name.replaceAll('.', '\\.')} records h1:`))
      return true
    })
    // GOSUMDB=off: not checked, and said so
    const off = await ensureGoToolchain({ ...options(tempDir(), null), checksumDatabase: null })
    assert.equal(off.checksumDatabase, 'off')
  } finally {
    proxy.modules.set(KEY, real as NonNullable<typeof real>)
  }
  // a database that cannot be asked: exit 3, never an unchecked pin
  await assert.rejects(
    ensureGoToolchain({
      ...options(tempDir(), null),
      checksumDatabase: resolveChecksumDatabase(`${db.key} http://127.0.0.1:9`),
    }),
    (e: unknown) =>
      (e as { code?: string }).code === 'GO_SUMDB_UNAVAILABLE' && (e as { exitCode?: number }).exitCode === 3,
  )
})

test('detbuild lock pins the Go toolchain by its h1: (and a second lock adds nothing)', async () => {
  const dir = tempDir()
  writeFileSync(
    path.join(dir, 'detbuild.config.json'),
    JSON.stringify({ toolchain: { go: '1.99.1' }, build: 'go build -o dist/x .', outputs: ['dist/*'] }),
  )
  const cache = tempDir()
  // a proxy with credentials: sent as basic authentication, never written into the lock
  const withCredentials = proxy.url.replace('http://', 'http://ci:s3cret@')
  const r = await runCli(['-C', dir, 'lock', '--cache-dir', cache, '--platform', 'linux-x64'], {
    GOPROXY: withCredentials,
    GOSUMDB: db.gosumdb,
  })
  assert.equal(r.code, 0, r.stderr)
  assert.equal(proxy.auth.at(-1), `Basic ${Buffer.from('ci:s3cret').toString('base64')}`)
  assert.doesNotMatch(readFileSync(path.join(dir, 'detbuild.lock'), 'utf8'), /s3cret/)
  const lock = JSON.parse(readFileSync(path.join(dir, 'detbuild.lock'), 'utf8'))
  assert.equal(
    lock.goToolchains[KEY].h1,
    hashZip(proxy.modules.get(KEY)?.zip as Buffer, (w) => assert.fail(w)),
  )
  const bytes = readFileSync(path.join(dir, 'detbuild.lock'))
  const again = await runCli(['-C', dir, 'lock', '--cache-dir', cache, '--platform', 'linux-x64'], {
    GOPROXY: proxy.url,
    GOSUMDB: db.gosumdb,
  })
  assert.equal(again.code, 0, again.stderr)
  assert.deepEqual(readFileSync(path.join(dir, 'detbuild.lock')), bytes)
})

test("HTTP_PROXY carries the toolchain's and the checksum database's fetches (a host reachable only through it)", async () => {
  const forward = await startProxy(['goproxy.test'])
  try {
    const dir = tempDir()
    writeFileSync(
      path.join(dir, 'detbuild.config.json'),
      JSON.stringify({ toolchain: { go: '1.99.1' }, build: 'go build -o dist/x .', outputs: ['dist/*'] }),
    )
    const goproxy = proxy.url.replace('127.0.0.1', 'goproxy.test')
    const lookup = `/sumdb/${db.name}/lookup/golang.org/toolchain@v0.0.1-go1.99.1.linux-amd64`
    const lookups = () => proxy.requests.filter((r) => r === lookup).length
    const before = lookups()
    const r = await runCli(['-C', dir, 'lock', '--cache-dir', tempDir(), '--platform', 'linux-x64'], {
      GOPROXY: goproxy,
      GOSUMDB: db.gosumdb,
      HTTP_PROXY: forward.url,
    })
    assert.equal(r.code, 0, r.stderr)
    // fetch tunnels (CONNECT) even to an http:// proxy; goproxy.test resolves only through the forward
    // proxy, so the lock (the zip, then the checksum database's lookup and tiles) went through it
    assert.ok(forward.seen.includes(`CONNECT ${new URL(goproxy).host}`), forward.seen.join('\n'))
    const lock = JSON.parse(readFileSync(path.join(dir, 'detbuild.lock'), 'utf8'))
    assert.match(lock.goToolchains[KEY].h1, /^h1:/)
    assert.equal(lookups(), before + 1)
  } finally {
    await forward.close()
  }
})

test('hostile or failing proxy replies: a body over the cap, 404, 500 (tried 3 times), a closed port — each with its code', async () => {
  const http = await import('node:http')
  let errors = 0
  const server = http.createServer((req, res) => {
    if (req.url === '/error') errors++
    if (req.url === '/big') res.end(Buffer.alloc(64 * 1024))
    else if (req.url === '/gone') res.writeHead(410).end()
    else res.writeHead(500).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  try {
    const code = async (url: string, max = 1024) =>
      fetchFromProxy(url, max, 'm').then(
        () => 'ok',
        (e: { code?: string; exitCode?: number }) => `${e.code} ${e.exitCode}`,
      )
    assert.equal(await code(`${base}/big`), 'GO_MODULE_TOO_LARGE 2')
    assert.equal(await code(`${base}/big`, 1024 * 1024), 'ok')
    assert.equal(await code(`${base}/gone`), 'GO_MODULE_NOT_FOUND 2')
    assert.equal(await code(`${base}/error`), 'GO_PROXY_UNAVAILABLE 3')
    assert.equal(errors, 3, 'a 5xx is tried three times')
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  assert.equal(
    await fetchFromProxy(`${base}/x`, 10, 'm').then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    ),
    'GO_PROXY_UNAVAILABLE',
  )
})

test('GOPROXY=off: a verified cached toolchain is used; one that would need a fetch is GO_PROXY_INVALID', async () => {
  const cache = tempDir()
  const first = await ensureGoToolchain(options(cache, null))
  const offline = { ...options(cache, first.entry), proxy: 'off' }
  assert.equal((await ensureGoToolchain(offline)).goroot, first.goroot)
  await assert.rejects(
    ensureGoToolchain({ ...options(tempDir(), first.entry), proxy: 'off' }),
    (e: unknown) => e instanceof InputError && e.code === 'GO_PROXY_INVALID' && /GOPROXY=off/.test(e.message),
  )
})
