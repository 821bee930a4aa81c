/**
 * detbuild's own fetches (prefetch, toolchain) go through the host's proxy (HTTPS_PROXY, HTTP_PROXY,
 * npm's https-proxy/proxy, NO_PROXY) and trust its private CAs (NODE_EXTRA_CA_CERTS, npm's cafile
 * and ca); a build allowed on the network gets the same variables, recorded by name.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import ssri from 'ssri'
import { NETWORK_ENV_NAMES, toBuildEnv, toNetworkEnvNames } from '../../src/builder/env.ts'
import { resolveFetchOptions } from '../../src/builder/fetch-options.ts'
import { type PrefetchItem, prefetchPackages } from '../../src/builder/prefetch.ts'
import { ensurePackage } from '../../src/builder/toolchain.ts'
import { type FakeProxy, startProxy } from '../helpers/http-proxy.ts'
import { type FakeRegistry, startRegistry } from '../helpers/npm-registry.ts'
import { makeProject, ROOT, runCli } from './helpers.ts'

const TLS = path.join(ROOT, 'fixtures', 'tls')
const CA = path.join(TLS, 'ca.pem')
const HOST = 'registry.detbuild.test'
const PKG = { name: 'p', version: '1.0.0', files: { 'bin/node': '#!/bin/sh\necho hi\n' } }

let plain: FakeRegistry
let secure: FakeRegistry
let proxy: FakeProxy
const cleanup: string[] = []

before(async () => {
  // named by a host only the proxy can reach
  plain = await startRegistry([PKG], '/', { host: HOST })
  secure = await startRegistry([PKG], '/', {
    tls: {
      key: readFileSync(path.join(TLS, 'server.key'), 'utf8'),
      cert: readFileSync(path.join(TLS, 'server.pem'), 'utf8'),
    },
  })
  proxy = await startProxy([HOST])
})

after(async () => {
  await Promise.all([plain.close(), secure.close(), proxy.close()])
  for (const d of cleanup) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'detbuild-net-'))
  cleanup.push(d)
  return d
}

const itemOf = (reg: FakeRegistry): PrefetchItem => ({
  resolved: 'p@1.0.0',
  integrity: ssri.fromData(reg.tarballs.get('p@1.0.0') as Buffer, { algorithms: ['sha512'] }).toString(),
  packument: { name: 'p', version: '1.0.0' },
})

test('resolveFetchOptions reads the proxy, NO_PROXY and CAs as npm does; npm config first', async () => {
  assert.deepEqual(await resolveFetchOptions({}), {})
  assert.deepEqual(await resolveFetchOptions({ https_proxy: 'http://a:1', NO_PROXY: 'x.test' }), {
    proxy: 'http://a:1',
    noProxy: 'x.test',
  })
  assert.equal(
    (await resolveFetchOptions({ HTTPS_PROXY: 'http://a:1', npm_config_https_proxy: 'http://b:2' })).proxy,
    'http://b:2',
  )
  assert.equal((await resolveFetchOptions({ HTTP_PROXY: 'http://c:3' })).proxy, 'http://c:3')
  assert.equal((await resolveFetchOptions({ no_proxy: 'a', npm_config_noproxy: 'b' })).noProxy, 'b')
  const ca = readFileSync(CA, 'utf8').trim()
  for (const env of [{ NODE_EXTRA_CA_CERTS: CA }, { npm_config_cafile: CA }, { npm_config_ca: ca }]) {
    const got = await resolveFetchOptions(env)
    // the extra CA is added to Node's roots, never instead of them
    assert.ok(got.ca?.includes(ca))
    assert.ok((got.ca?.length ?? 0) > 100)
  }
})

test('a CA file that cannot be read or holds no certificate is refused (exit 2)', async () => {
  const empty = path.join(tempDir(), 'empty.pem')
  writeFileSync(empty, 'nothing here\n')
  for (const env of [
    { NODE_EXTRA_CA_CERTS: path.join(tempDir(), 'missing.pem') },
    { npm_config_cafile: empty },
  ])
    await assert.rejects(resolveFetchOptions(env), (e: { code: string; exitCode: number }) => {
      assert.equal(e.code, 'BUILD_CA_INVALID')
      assert.equal(e.exitCode, 2)
      return true
    })
})

test('the toolchain is fetched through an HTTPS_PROXY CONNECT tunnel from a private-CA registry', async () => {
  const before = proxy.seen.length
  const opts = await resolveFetchOptions({ HTTPS_PROXY: proxy.url, NODE_EXTRA_CA_CERTS: CA })
  const dir = await ensurePackage(
    'p@1.0.0',
    { integrity: itemOf(secure).integrity as string, resolved: secure.tarballUrl('p@1.0.0') },
    { cacheDir: tempDir(), registry: secure.url, fetchOptions: opts },
  )
  assert.equal(readFileSync(path.join(dir, 'bin', 'node'), 'utf8'), '#!/bin/sh\necho hi\n')
  assert.ok(
    proxy.seen.slice(before).includes(`CONNECT ${new URL(secure.url).host}`),
    proxy.seen.slice(before).join('\n'),
  )
})

test('prefetch goes through HTTP_PROXY to a registry only the proxy reaches; NO_PROXY bypasses it', async () => {
  const before = proxy.seen.length
  const opts = await resolveFetchOptions({ HTTP_PROXY: proxy.url })
  const got = await prefetchPackages([itemOf(plain)], path.join(tempDir(), 'npm'), plain.url, opts)
  assert.deepEqual(got, { fetched: 1, packuments: 1 })
  // the host resolves only through the proxy; @npmcli/agent keeps one proxy agent per proxy URL, so
  // after an HTTPS fetch through it (test above) plain HTTP goes through a CONNECT tunnel too
  const through = proxy.seen.slice(before)
  const host = new URL(plain.url).host
  assert.ok(through.includes(`GET ${plain.url}p`) || through.includes(`CONNECT ${host}`), through.join('\n'))

  // a registry on 127.0.0.1 listed in NO_PROXY is reached directly
  const direct = await startRegistry([PKG])
  try {
    const n = proxy.seen.length
    const bypass = await resolveFetchOptions({ HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' })
    await prefetchPackages([itemOf(direct)], path.join(tempDir(), 'npm'), direct.url, bypass)
    assert.equal(proxy.seen.length, n)
    assert.ok(direct.requests.packuments > 0)
  } finally {
    await direct.close()
  }
})

test('an HTTPS registry signed by a private CA: refused without it (exit 3), fetched with NODE_EXTRA_CA_CERTS', async () => {
  await assert.rejects(
    prefetchPackages(
      [itemOf(secure)],
      path.join(tempDir(), 'npm'),
      secure.url,
      await resolveFetchOptions({}),
    ),
    (e: { code: string; exitCode: number }) => {
      assert.equal(e.code, 'BUILD_PREFETCH_FAILED')
      assert.equal(e.exitCode, 3)
      return true
    },
  )
  for (const env of [{ NODE_EXTRA_CA_CERTS: CA }, { npm_config_cafile: CA }]) {
    const got = await prefetchPackages(
      [itemOf(secure)],
      path.join(tempDir(), 'npm'),
      secure.url,
      await resolveFetchOptions(env),
    )
    assert.deepEqual(got, { fetched: 1, packuments: 1 })
  }
})

test('a network-allowed build gets the proxy and CA variables that are set; an offline one does not', () => {
  const hostEnv = {
    HTTPS_PROXY: 'http://proxy.test:3128',
    NODE_EXTRA_CA_CERTS: CA,
    NO_PROXY: '',
    SECRET: 's',
  }
  const base = {
    hostEnv,
    allowlist: [],
    home: '/h',
    tmp: '/t',
    pathDirs: [],
    sourceDateEpoch: 1,
    npmCache: '/c',
    registry: 'https://registry.npmjs.org/',
  }
  assert.deepEqual(toNetworkEnvNames(hostEnv, false), ['HTTPS_PROXY', 'NODE_EXTRA_CA_CERTS'])
  assert.deepEqual(toNetworkEnvNames(hostEnv, true), [])
  const online = toBuildEnv({ ...base, offline: false })
  assert.equal(online.HTTPS_PROXY, 'http://proxy.test:3128')
  assert.equal(online.NODE_EXTRA_CA_CERTS, CA)
  assert.equal(online.NO_PROXY, undefined)
  assert.equal(online.SECRET, undefined)
  const offline = toBuildEnv({ ...base, offline: true })
  for (const n of NETWORK_ENV_NAMES) assert.equal(offline[n], undefined, n)
})

test('build.json records the network variables a network-allowed build was given, by name', async () => {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(path.dirname(p))
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: [
        "mkdir -p out && node -e \"require('fs').writeFileSync('out/proxy.txt', String(process.env.HTTPS_PROXY))\"",
      ],
      outputs: ['out/proxy.txt'],
      network: 'allow',
    }),
  )
  const run = await runCli(['build', '-C', p, '--cache-dir', tempDir()], {
    HTTPS_PROXY: 'http://proxy.test:3128',
    NODE_EXTRA_CA_CERTS: CA,
  })
  assert.equal(run.code, 0, run.stderr)
  const manifest = JSON.parse(readFileSync(path.join(p, '.detbuild', 'build.json'), 'utf8'))
  assert.deepEqual(manifest.env, ['HTTPS_PROXY', 'NODE_EXTRA_CA_CERTS'])
  assert.equal(
    readFileSync(path.join(p, '.detbuild', 'artifacts', 'proxy.txt'), 'utf8'),
    'http://proxy.test:3128',
  )
})
