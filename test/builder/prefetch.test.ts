/**
 * Prefetch is complete: for lockfiles of every shape `npm ci` accepts (v1, v2, v3, without `resolved`,
 * workspaces, bundled, aliased, scoped, remote and file: tarballs, sha1 beside sha512, a registry under
 * a path), the real `npm ci --offline --ignore-scripts` succeeds against the prefetched cache while the
 * loopback registry drops every connection; and a warm cache needs no request at all.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import ssri from 'ssri'
import {
  installFolders,
  mergePrefetchLists,
  type PrefetchItem,
  prefetchPackages,
  toPrefetchList,
  toScopeRegistries,
} from '../../src/builder/prefetch.ts'
import { type FakeRegistry, packTarball, startRegistry } from '../helpers/npm-registry.ts'

const PACKAGES = [
  { name: 'a', version: '1.0.0', dependencies: { b: '^1.0.0' } },
  { name: 'b', version: '1.0.0' },
  { name: 'b', version: '2.0.0' },
  { name: 'c', version: '1.0.0', dependencies: { b: '^2.0.0' } },
  { name: '@scope/d', version: '1.0.0' },
  { name: 'withbundle', version: '1.0.0', bundled: [{ name: 'inner', version: '1.0.0' }] },
]

let reg: FakeRegistry
let remoteTarball = ''
const cleanup: string[] = []

before(async () => {
  // under a path, as Artifactory and Nexus serve npm
  reg = await startRegistry(PACKAGES, '/npm/')
  remoteTarball = reg.addFile('r-1.0.0.tgz', packTarball({ name: 'r', version: '1.0.0' }))
})

after(async () => {
  await reg.close()
  for (const d of cleanup) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'detbuild-prefetch-'))
  cleanup.push(d)
  return d
}

/** The project: a workspace, a nested version, a scoped package, an alias, a bundle, remote + file: tarballs. */
function makeProject(): string {
  const dir = path.join(tempDir(), 'project')
  mkdirSync(path.join(dir, 'vendor'), { recursive: true })
  mkdirSync(path.join(dir, 'packages', 'w1'), { recursive: true })
  writeFileSync(path.join(dir, 'vendor', 'f-1.0.0.tgz'), packTarball({ name: 'f', version: '1.0.0' }))
  writeFileSync(
    path.join(dir, 'packages', 'w1', 'package.json'),
    JSON.stringify({ name: 'w1', version: '1.0.0', dependencies: { c: '1.0.0' } }),
  )
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({
      name: 'root',
      version: '1.0.0',
      workspaces: ['packages/*'],
      dependencies: {
        a: '1.0.0',
        c: '1.0.0',
        '@scope/d': '1.0.0',
        'e-alias': 'npm:a@1.0.0',
        withbundle: '1.0.0',
        r: remoteTarball,
        f: 'file:vendor/f-1.0.0.tgz',
      },
    }),
  )
  return dir
}

/** npm, asynchronously: the registry answering it lives in this process. */
function npm(
  args: string[],
  cwd: string,
  cache: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      [...args, '--cache', cache, '--registry', reg.url, '--no-audit', '--no-fund'],
      {
        cwd,
        encoding: 'utf8',
        env: { PATH: process.env.PATH, HOME: cwd, npm_config_update_notifier: 'false' },
      },
      (err, stdout, stderr) =>
        resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    )
  })
}

/** A lockfile npm writes for the project (against the loopback registry), optionally reshaped. */
async function lockFor(
  project: string,
  version: 1 | 2 | 3,
  withResolved: boolean,
): Promise<Record<string, unknown>> {
  const r = await npm(
    ['install', '--package-lock-only', '--ignore-scripts', `--lockfile-version=${version}`],
    project,
    path.join(tempDir(), 'gen-cache'),
  )
  assert.equal(r.status, 0, r.stderr)
  const lock = JSON.parse(readFileSync(path.join(project, 'package-lock.json'), 'utf8'))
  assert.equal(lock.lockfileVersion, version)
  // npm writes no `resolved` for this registry; the shape with URLs gets the registry's own URLs
  const tarballOf = (name: string, v: string) => reg.tarballUrl(`${name}@${v}`)
  if (withResolved) {
    for (const [key, p] of Object.entries((lock.packages ?? {}) as Record<string, Record<string, string>>)) {
      if (!key.includes('node_modules/') || p.resolved || p.inBundle || !p.integrity) continue
      p.resolved = tarballOf(p.name ?? key.slice(key.lastIndexOf('node_modules/') + 13), p.version as string)
    }
    const walk = (deps: Record<string, Record<string, unknown>>) => {
      for (const [name, d] of Object.entries(deps)) {
        const v = d.version as string
        if (!d.resolved && !d.bundled && /^\d/.test(v)) d.resolved = tarballOf(name, v)
        if (!d.resolved && !d.bundled && v.startsWith('npm:a@')) d.resolved = tarballOf('a', v.slice(6))
        if (d.dependencies) walk(d.dependencies as Record<string, Record<string, unknown>>)
      }
    }
    if (lock.dependencies) walk(lock.dependencies)
  }
  return lock
}

/** Prefetches into a fresh cache, then runs `npm ci --offline` with the registry down. */
async function assertOfflineInstall(project: string, lock: Record<string, unknown>): Promise<string> {
  writeFileSync(path.join(project, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`)
  rmSync(path.join(project, 'node_modules'), { recursive: true, force: true })
  const npmCache = path.join(tempDir(), 'npm-cache')
  const items = toPrefetchList(lock)
  const got = await prefetchPackages(items, npmCache, reg.url)
  assert.ok(got.fetched > 0)
  reg.down = true
  const refusedBefore = reg.refused
  try {
    const r = await npm(['ci', '--offline', '--ignore-scripts'], project, npmCache)
    assert.equal(r.status, 0, `npm ci --offline failed:\n${r.stderr}`)
    // an old (v1) lockfile is inflated from the registry: npm asks for a packument by each entry's
    // folder name, which for an alias, a remote tarball and a bundled package is no registry package
    // (with the network it gets a 404 and the same warning); anything else missing is a gap
    const missing = [...r.stderr.matchAll(/Could not fetch metadata for ((?:@[^@\s/]+\/)?[^@\s]+)@/g)].map(
      (m) => m[1],
    )
    assert.deepEqual(
      missing.filter((n) => !['e-alias', 'r', 'inner'].includes(n as string)),
      [],
      r.stderr,
    )
    if (lock.lockfileVersion !== 1) assert.doesNotMatch(r.stderr, /ENOTCACHED/)
  } finally {
    reg.down = false
  }
  assert.equal(reg.refused, refusedBefore, 'npm ci --offline tried the network')
  const version = (p: string) =>
    JSON.parse(readFileSync(path.join(project, 'node_modules', p, 'package.json'), 'utf8')) as {
      name: string
      version: string
    }
  assert.equal(version('a').version, '1.0.0')
  assert.equal(version('b').version, '1.0.0')
  assert.equal(version('c/node_modules/b').version, '2.0.0')
  assert.equal(version('@scope/d').name, '@scope/d')
  assert.equal(version('e-alias').name, 'a')
  assert.equal(version('withbundle/node_modules/inner').version, '1.0.0')
  assert.equal(version('r').name, 'r')
  assert.equal(version('f').name, 'f')
  assert.equal(readlinkSync(path.join(project, 'node_modules', 'w1')), '../packages/w1')
  return npmCache
}

for (const [version, withResolved] of [
  [1, true],
  [1, false],
  [2, true],
  [3, true],
  [3, false],
] as const) {
  test(`lockfile v${version} ${withResolved ? 'with' : 'without'} resolved URLs: npm ci --offline installs from the prefetched cache`, async () => {
    const project = makeProject()
    await assertOfflineInstall(project, await lockFor(project, version, withResolved))
  })
}

test('the same tarball with sha1 in one entry and sha512 in another: both digests are in the cache', async () => {
  const project = makeProject()
  const lock = await lockFor(project, 3, true)
  const packages = lock.packages as Record<string, Record<string, string>>
  const aliased = packages['node_modules/e-alias'] as Record<string, string>
  const bytes = reg.tarballs.get('a@1.0.0') as Buffer
  aliased.integrity = ssri.fromData(bytes, { algorithms: ['sha1'] }).toString()
  const items = toPrefetchList(lock)
  const a = items.find((i) => i.resolved === reg.tarballUrl('a@1.0.0')) as PrefetchItem
  assert.match(a.integrity as string, /^sha1-\S+ sha512-\S+$|^sha512-\S+ sha1-\S+$/)
  await assertOfflineInstall(project, lock)
})

test('a warm cache needs no request: every item costs stats, not a registry round trip', async () => {
  const project = makeProject()
  const lock = await lockFor(project, 3, false)
  const npmCache = await assertOfflineInstall(project, lock)
  const before = { ...reg.requests }
  reg.down = true
  try {
    const again = await prefetchPackages(toPrefetchList(lock), npmCache, reg.url)
    assert.deepEqual(again, { fetched: 0, packuments: 0 })
  } finally {
    reg.down = false
  }
  assert.deepEqual(reg.requests, before)
})

test('a packument cached before the locked version was published is fetched again', async () => {
  const late = await startRegistry([{ name: 'late', version: '1.0.0' }])
  try {
    const npmCache = path.join(tempDir(), 'cache')
    const item = (v: string): PrefetchItem => ({
      resolved: `late@${v}`,
      integrity: ssri
        .fromData(late.tarballs.get(`late@${v}`) as Buffer, { algorithms: ['sha512'] })
        .toString(),
      packument: { name: 'late', version: v },
    })
    assert.deepEqual(await prefetchPackages([item('1.0.0')], npmCache, late.url), {
      fetched: 1,
      packuments: 1,
    })
    late.publish({ name: 'late', version: '2.0.0' })
    assert.deepEqual(await prefetchPackages([item('1.0.0'), item('2.0.0')], npmCache, late.url), {
      fetched: 1,
      packuments: 1,
    })
    // a version the registry does not have: the prefetch could not look (exit 3)
    await assert.rejects(
      prefetchPackages(
        [{ ...item('1.0.0'), resolved: 'late@3.0.0', packument: { name: 'late', version: '3.0.0' } }],
        npmCache,
        late.url,
      ),
      (e: { code: string; exitCode: number }) => {
        assert.equal(e.code, 'BUILD_PREFETCH_FAILED')
        assert.equal(e.exitCode, 3)
        return true
      },
    )
  } finally {
    await late.close()
  }
})

test('a tarball that does not match its lockfile integrity is refused (exit 1)', async () => {
  const npmCache = path.join(tempDir(), 'cache')
  const wrong = ssri.fromData(Buffer.from('other'), { algorithms: ['sha512'] }).toString()
  await assert.rejects(
    prefetchPackages(
      [{ resolved: reg.tarballUrl('b@1.0.0'), integrity: wrong, packument: null }],
      npmCache,
      reg.url,
    ),
    (e: { code: string; exitCode: number }) => {
      assert.equal(e.code, 'BUILD_PREFETCH_INTEGRITY')
      assert.equal(e.exitCode, 1)
      return true
    },
  )
  // a right sha512 beside a wrong sha1 (one entry each) is refused too: npm would read the sha1 copy
  const bytes = reg.tarballs.get('b@1.0.0') as Buffer
  const sha512 = ssri.fromData(bytes, { algorithms: ['sha512'] }).toString()
  const badSha1 = ssri.fromData(Buffer.from('x'), { algorithms: ['sha1'] }).toString()
  await assert.rejects(
    prefetchPackages(
      [{ resolved: reg.tarballUrl('b@1.0.0'), integrity: `${sha512} ${badSha1}`, packument: null }],
      path.join(tempDir(), 'cache'),
      reg.url,
    ),
    (e: { code: string; exitCode: number }) => {
      assert.equal(e.code, 'BUILD_PREFETCH_INTEGRITY')
      assert.equal(e.exitCode, 1)
      return true
    },
  )
})

const SHA512 = `sha512-${Buffer.alloc(64, 1).toString('base64')}`
const SHA512_B = `sha512-${Buffer.alloc(64, 2).toString('base64')}`
const SHA1 = `sha1-${Buffer.alloc(20, 3).toString('base64')}`

test('toPrefetchList: v3 shapes (links, bundles, workspaces, file:, aliases, no resolved, merged integrity)', () => {
  const items = toPrefetchList({
    lockfileVersion: 3,
    packages: {
      '': { name: 'root' },
      'node_modules/w': { resolved: 'packages/w', link: true },
      'packages/w': { name: 'w', version: '1.0.0' },
      'packages/w/node_modules/x': { version: '2.0.0', integrity: SHA512 },
      'node_modules/x': { version: '1.0.0', resolved: 'https://r.test/x/-/x-1.0.0.tgz', integrity: SHA1 },
      'node_modules/y': { version: '1.0.0', resolved: 'https://r.test/x/-/x-1.0.0.tgz', integrity: SHA512_B },
      'node_modules/b': { version: '1.0.0', integrity: SHA512 },
      'node_modules/b/node_modules/in': { version: '1.0.0', inBundle: true },
      'node_modules/al': { name: '@s/real', version: '3.0.0', integrity: SHA512 },
      'node_modules/f': { version: '1.0.0', resolved: 'file:vendor/f.tgz', integrity: SHA512 },
      'node_modules/g': {
        resolved: 'git+ssh://git@github.com/o/g.git#0123456789abcdef0123456789abcdef01234567',
      },
      'node_modules/broken': { integrity: SHA512 },
    },
  })
  assert.deepEqual(items, [
    { resolved: '@s/real@3.0.0', integrity: SHA512, packument: { name: '@s/real', version: '3.0.0' } },
    { resolved: 'b@1.0.0', integrity: SHA512, packument: { name: 'b', version: '1.0.0' } },
    {
      resolved: 'g@git+ssh://git@github.com/o/g.git#0123456789abcdef0123456789abcdef01234567',
      integrity: null,
      packument: null,
    },
    {
      resolved: 'https://r.test/x/-/x-1.0.0.tgz',
      integrity: ssri.parse(`${SHA1} ${SHA512_B}`).toString(),
      packument: null,
    },
    { resolved: 'x@2.0.0', integrity: SHA512, packument: { name: 'x', version: '2.0.0' } },
  ])
})

test('toPrefetchList: v1 trees (nested, bundled, aliases, URLs, file:) all need packuments for inflation', () => {
  const items = toPrefetchList({
    lockfileVersion: 1,
    dependencies: {
      a: {
        version: '1.0.0',
        resolved: 'https://r.test/a/-/a-1.0.0.tgz',
        integrity: SHA512,
        dependencies: { b: { version: '2.0.0', integrity: SHA1 } },
      },
      al: { version: 'npm:@s/real@3.0.0', integrity: SHA512_B },
      bu: { version: '1.0.0', bundled: true, dependencies: { z: { version: '1.0.0' } } },
      r: { version: 'https://files.test/r.tgz', integrity: SHA512 },
      f: { version: 'file:vendor/f.tgz', integrity: SHA512 },
    },
  })
  assert.deepEqual(items, [
    { resolved: '@s/real@3.0.0', integrity: SHA512_B, packument: { name: '@s/real', version: '3.0.0' } },
    { resolved: 'b@2.0.0', integrity: SHA1, packument: { name: 'b', version: '2.0.0' } },
    { resolved: 'https://files.test/r.tgz', integrity: SHA512, packument: null },
    {
      resolved: 'https://r.test/a/-/a-1.0.0.tgz',
      integrity: SHA512,
      packument: { name: 'a', version: '1.0.0' },
    },
  ])
})

test('toPrefetchList refuses what it cannot prefetch or check (exit 2, naming the JSON path)', () => {
  const refuse = (lock: unknown, code: string, where?: string) =>
    assert.throws(
      () => toPrefetchList(lock, 'package-lock.json'),
      (e: { code: string; exitCode: number; details?: { path?: string } }) => {
        assert.equal(e.code, code)
        assert.equal(e.exitCode, 2)
        if (where) assert.equal(e.details?.path, where)
        return true
      },
    )
  refuse(
    {
      lockfileVersion: 3,
      packages: {
        'node_modules/x': { version: '1.0.0', resolved: 'https://r.test/x.tgz', integrity: SHA512 },
        'node_modules/y/node_modules/x': {
          version: '1.0.0',
          resolved: 'https://r.test/x.tgz',
          integrity: SHA512_B,
        },
      },
    },
    'BUILD_LOCKFILE_INVALID',
    '$.packages["node_modules/y/node_modules/x"].integrity',
  )
  refuse(
    { lockfileVersion: 3, packages: { 'node_modules/x': { version: '1.0.0', integrity: 'md5-nope' } } },
    'BUILD_LOCKFILE_INVALID',
    '$.packages["node_modules/x"].integrity',
  )
  refuse({ lockfileVersion: 1, dependencies: { x: 'nope' } }, 'BUILD_LOCKFILE_INVALID', '$.dependencies["x"]')
  refuse({ lockfileVersion: 3 }, 'BUILD_LOCKFILE_INVALID', '$.packages')
  refuse(
    {
      lockfileVersion: 3,
      packages: {
        'node_modules/g': {
          resolved: 'git+ssh://git@git.example.test/o/g.git#0123456789abcdef0123456789abcdef01234567',
        },
      },
    },
    'BUILD_PREFETCH_UNSUPPORTED',
    '$.packages["node_modules/g"]',
  )
  refuse(
    { lockfileVersion: 3, packages: { 'node_modules/g': { resolved: 'git+ssh://git@github.com/o/g.git' } } },
    'BUILD_PREFETCH_UNSUPPORTED',
  )
})

test("a scope's registry from the project's .npmrc: its packuments and tarballs come from there", async () => {
  const priv = await startRegistry([{ name: '@priv/p', version: '1.0.0' }], '/private/')
  try {
    const project = path.join(tempDir(), 'project')
    mkdirSync(project)
    writeFileSync(
      path.join(project, 'package.json'),
      JSON.stringify({ name: 'root', version: '1.0.0', dependencies: { '@priv/p': '1.0.0', a: '1.0.0' } }),
    )
    const npmrc = `; a comment\n@priv:registry=${priv.url}\n@env:registry=\${NOT_GIVEN}/\n`
    writeFileSync(path.join(project, '.npmrc'), npmrc)
    const scopes = toScopeRegistries(npmrc)
    assert.deepEqual(scopes, { '@priv': priv.url })
    const lock = await lockFor(project, 3, false)
    const npmCache = path.join(tempDir(), 'npm-cache')
    await prefetchPackages(toPrefetchList(lock), npmCache, reg.url, {}, scopes)
    assert.ok(priv.requests.packuments > 0 && priv.requests.tarballs > 0)
    reg.down = true
    priv.down = true
    try {
      const r = await npm(['ci', '--offline', '--ignore-scripts'], project, npmCache)
      assert.equal(r.status, 0, r.stderr)
    } finally {
      reg.down = false
      priv.down = false
    }
    assert.equal(priv.refused, 0)
    const pkg = JSON.parse(
      readFileSync(path.join(project, 'node_modules', '@priv', 'p', 'package.json'), 'utf8'),
    )
    assert.equal(pkg.name, '@priv/p')
  } finally {
    await priv.close()
  }
})

test('installFolders: the packages an install command installs on their own (lerna: cd <dir> && npm ci)', () => {
  assert.deepEqual(
    installFolders([
      'npm ci --ignore-scripts',
      'cd packages/a && npm ci --ignore-scripts',
      "cd 'packages/with space' && npm install",
      'npm ci --prefix tools/x && cd ../outside && npm ci',
      'cd /abs && npm ci',
      'cd packages/b/ && echo no install',
    ]),
    ['packages/a', 'packages/with space', 'tools/x'],
  )
})

test("a lerna repository's per-package lockfiles are prefetched with the root's: cd <pkg> && npm ci --offline works", async () => {
  const root = makeProject()
  // outside the npm workspaces (packages/*): installed on its own, from its own lockfile
  const pkg = path.join(root, 'libs', 'p1')
  mkdirSync(pkg, { recursive: true })
  writeFileSync(
    path.join(pkg, 'package.json'),
    JSON.stringify({ name: 'p1', version: '1.0.0', dependencies: { c: '1.0.0' } }),
  )
  const gen = path.join(tempDir(), 'gen-cache')
  const r = await npm(['install', '--package-lock-only', '--ignore-scripts'], pkg, gen)
  assert.equal(r.status, 0, r.stderr)
  const rootLock = await lockFor(root, 3, false)
  const pkgLock = JSON.parse(readFileSync(path.join(pkg, 'package-lock.json'), 'utf8'))
  const merged = mergePrefetchLists([
    { file: 'package-lock.json', items: toPrefetchList(rootLock) },
    {
      file: 'libs/p1/package-lock.json',
      items: toPrefetchList(pkgLock, 'libs/p1/package-lock.json'),
    },
  ])
  // c@1.0.0 and b@2.0.0 are in both lockfiles: one item each
  const keys = merged.map((i) => i.resolved)
  assert.deepEqual(
    keys.filter((k) => /(^|\/)c(@|-1\.0\.0)/.test(k)),
    keys.filter((k) => /(^|\/)c(@|-1\.0\.0)/.test(k)).slice(0, 1),
    keys.join(' '),
  )
  const npmCache = path.join(tempDir(), 'npm-cache')
  await prefetchPackages(merged, npmCache, reg.url)
  reg.down = true
  try {
    const ci = await npm(['ci', '--offline', '--ignore-scripts'], pkg, npmCache)
    assert.equal(ci.status, 0, ci.stderr)
  } finally {
    reg.down = false
  }
  assert.equal(
    JSON.parse(readFileSync(path.join(pkg, 'node_modules', 'b', 'package.json'), 'utf8')).version,
    '2.0.0',
  )
  // two lockfiles that give one tarball different digests: refused, naming the second
  const victim = toPrefetchList(pkgLock).find((i) => i.integrity?.startsWith('sha512-')) as PrefetchItem
  const other = toPrefetchList(pkgLock).map((i) =>
    i.resolved === victim.resolved ? { ...i, integrity: SHA512_B } : i,
  )
  assert.throws(
    () =>
      mergePrefetchLists([
        { file: 'package-lock.json', items: toPrefetchList(pkgLock) },
        { file: 'x/package-lock.json', items: other },
      ]),
    (e: { code: string; exitCode: number; message: string }) =>
      e.code === 'BUILD_LOCKFILE_INVALID' && e.exitCode === 2 && e.message.includes(victim.resolved),
  )
})
