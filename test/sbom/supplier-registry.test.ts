/**
 * `sbom --supplier registry`: suppliers and publishers from the npm registry's metadata (pacote), on
 * a loopback registry; the user's .npmrc registry and token (never written out); a cache that makes the
 * SBOM reproducible and `--offline` possible; hostile replies and a hostile cache; the `strict` policy's
 * NTIA supplier rule on detbuild's own lockfile. Also the default (`manifest`) and `none`.
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, test } from 'node:test'
import ssri from 'ssri'
import {
  publicRegistryUrl,
  toCheckedFacts,
  toNpmRegistryConfig,
} from '../../src/ecosystems/npm/registry-metadata.ts'
import { CacheSeal, openCacheSeal } from '../../src/util/cache-seal.ts'
import { canonicalJson } from '../../src/util/canonical-json.ts'
import { sha256Hex } from '../../src/util/digest.ts'
import { cli } from '../helpers/cli.ts'
import { type FakePackage, type FakeRegistry, startRegistry } from '../helpers/npm-registry.ts'
import { repoRoot, tempDir } from '../helpers/paths.ts'

interface Component {
  name: string
  group?: string
  supplier?: { name: string }
  publisher?: string
  author?: string
  description?: string
  externalReferences?: Array<{ type: string; url: string }>
  properties?: Array<{ name: string; value: string }>
}
interface Doc {
  metadata: { component: Component; properties: Array<{ name: string; value: string }> }
  components: Component[]
}

const TOKEN = 'npm_s3cr3tT0kenValue'

const PACKAGES: FakePackage[] = [
  {
    name: 'a',
    version: '1.0.0',
    meta: {
      author: { name: 'A Author', email: 'a@example.org' },
      description: 'the a package',
      homepage: 'https://example.org/a',
      _npmUser: { name: 'a-publisher', email: 'pub@example.org' },
    },
  },
  { name: 'b', version: '2.0.0', meta: { _npmUser: { name: 'b-publisher' }, description: 'no author' } },
  { name: 'c', version: '3.0.0' },
  {
    name: '@s/d',
    version: '4.0.0',
    meta: { author: 'D Team <d@example.org> (https://d.example)', _npmUser: { name: 'd-publisher' } },
  },
]

const registries: FakeRegistry[] = []
after(async () => {
  for (const r of registries) await r.close()
})

async function registry(packages = PACKAGES): Promise<FakeRegistry> {
  const r = await startRegistry(packages)
  registries.push(r)
  return r
}

/** A project locked to `packages` as `integrity` says (default: the registry's tarballs). */
function project(
  reg: { url: string; origin: string },
  integrity: (spec: string) => string,
  packages = PACKAGES,
  npmrc = `registry=${reg.url}\n//${new URL(reg.url).host}/:_authToken=\${NPM_TOKEN}\n`,
): string {
  const dir = tempDir()
  const deps = Object.fromEntries(packages.map((p) => [p.name, p.version]))
  writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', author: 'App Team', dependencies: deps }),
  )
  const entries: Record<string, unknown> = { '': { name: 'app', version: '1.0.0', dependencies: deps } }
  for (const p of packages)
    entries[`node_modules/${p.name}`] = {
      version: p.version,
      resolved: `https://registry.npmjs.org/${p.name}/-/${p.name.split('/').pop()}-${p.version}.tgz`,
      integrity: integrity(`${p.name}@${p.version}`),
    }
  writeFileSync(
    path.join(dir, 'package-lock.json'),
    JSON.stringify({ name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: entries }),
  )
  writeFileSync(path.join(dir, '.npmrc'), npmrc)
  return dir
}

const integrityOf = (reg: FakeRegistry) => (spec: string) =>
  ssri.fromData(reg.tarballs.get(spec)!, { algorithms: ['sha512'] }).toString()

/** The state folder (the cache key) of the runs that use `cache`. */
const stateOf = (cache: string) => path.join(cache, 'state')

async function sbom(
  dir: string,
  cache: string,
  ...args: string[]
): Promise<{ code: number; doc: Doc; bytes: string; stdout: string; stderr: string }> {
  const out = tempDir()
  const r = await cli(['sbom', '-C', dir, '--out', out, ...args], {
    env: { XDG_CACHE_HOME: cache, XDG_STATE_HOME: stateOf(cache), NPM_TOKEN: TOKEN },
  })
  let bytes = ''
  try {
    bytes = readFileSync(path.join(out, 'sbom.cdx.json'), 'utf8')
  } catch {}
  return { ...r, doc: bytes ? (JSON.parse(bytes) as Doc) : ({} as Doc), bytes }
}

const by = (doc: Doc, name: string) =>
  doc.components.find((c) => (c.group ? `${c.group}/${c.name}` : c.name) === name)!
const prop = (c: Component, name: string) => c.properties?.find((p) => p.name === name)?.value

test('registry metadata gives suppliers, publishers and descriptions; the .npmrc token is used, never written', async () => {
  const reg = await registry()
  const dir = project(reg, integrityOf(reg))
  const cache = tempDir()
  const r = await sbom(dir, cache, '--supplier', 'registry', '--json')
  assert.equal(r.code, 0, r.stderr)
  const a = by(r.doc, 'a')
  // the author's plain e-mail is the supplier's contact (BSI TR-03183-2 "Component creator")
  assert.deepEqual(a.supplier, { name: 'A Author', contact: [{ email: 'a@example.org' }] })
  assert.equal(a.publisher, 'a-publisher')
  assert.equal(a.description, 'the a package')
  assert.ok(a.externalReferences?.some((e) => e.type === 'website' && e.url === 'https://example.org/a'))
  assert.equal(prop(a, 'detbuild:supplier'), 'registry')
  // no author: the account that published the version supplies it
  assert.deepEqual(by(r.doc, 'b').supplier, { name: 'b-publisher' })
  assert.equal(by(r.doc, 'b').publisher, 'b-publisher')
  // neither: marked unknown
  assert.equal(by(r.doc, 'c').supplier, undefined)
  assert.equal(prop(by(r.doc, 'c'), 'detbuild:supplier'), 'unknown')
  assert.deepEqual(by(r.doc, '@s/d').supplier, {
    name: 'D Team',
    url: ['https://d.example'],
    contact: [{ email: 'd@example.org' }],
  })
  // the root's from its package.json
  assert.deepEqual(r.doc.metadata.component.supplier, { name: 'App Team' })
  assert.equal(prop(r.doc.metadata.component, 'detbuild:supplier'), 'manifest')
  // what was used is recorded: the registry (no credentials) and a digest of the metadata
  const meta = Object.fromEntries(r.doc.metadata.properties.map((p) => [p.name, p.value]))
  assert.equal(meta['detbuild:supplier:registry'], reg.url)
  assert.match(meta['detbuild:supplier:registry-metadata']!, /^sha256:[0-9a-f]{64}$/)
  const summary = JSON.parse(r.stdout).supplier
  assert.deepEqual(
    { ...summary, registry: { ...summary.registry, url: undefined } },
    {
      source: 'registry',
      known: 4,
      unknown: 1,
      registry: { url: undefined, fetched: 4, cached: 0, missing: 0, offline: false, gaps: [] },
    },
  )
  assert.ok(reg.authorizations.length > 0 && reg.authorizations.every((h) => h === `Bearer ${TOKEN}`))
  for (const text of [r.bytes, r.stdout, r.stderr]) assert.ok(!text.includes(TOKEN))
  for (const f of readdirSync(path.join(cache, 'detbuild', 'registry-metadata')))
    if (f.endsWith('.json'))
      assert.ok(!readFileSync(path.join(cache, 'detbuild', 'registry-metadata', f), 'utf8').includes(TOKEN))
})

test('a warm cache gives the same bytes with no request, online or --offline; a cold cache offline marks every supplier unknown', async () => {
  const reg = await registry()
  const dir = project(reg, integrityOf(reg))
  const cache = tempDir()
  const first = await sbom(dir, cache, '--supplier', 'registry')
  assert.equal(first.code, 0, first.stderr)
  const asked = reg.requests.packuments
  reg.down = true
  const online = await sbom(dir, cache, '--supplier', 'registry')
  const offline = await sbom(dir, cache, '--supplier', 'registry', '--offline')
  assert.equal(online.bytes, first.bytes)
  assert.equal(offline.bytes, first.bytes)
  assert.equal(reg.requests.packuments, asked)
  assert.equal(reg.refused, 0)

  const cold = await sbom(dir, tempDir(), '--supplier', 'registry', '--offline')
  assert.equal(cold.code, 0, cold.stderr)
  assert.equal(reg.refused, 0, 'offline: no connection at all')
  for (const n of ['a', 'b', 'c', '@s/d']) assert.equal(prop(by(cold.doc, n), 'detbuild:supplier'), 'unknown')
  assert.match(cold.stderr, /a@1\.0\.0: no cached registry metadata \(offline\)/)
  // a registry that cannot be asked, online with a cold cache: exit 3
  const down = await sbom(dir, tempDir(), '--supplier', 'registry', '--json')
  assert.equal(down.code, 3)
  assert.equal(JSON.parse(down.stdout).error.code, 'SBOM_REGISTRY_UNAVAILABLE')
  assert.equal(down.bytes, '', 'no SBOM written')
})

test('a hostile cache entry is not used: refetched online, a gap offline', async () => {
  const reg = await registry()
  const dir = project(reg, integrityOf(reg))
  const cache = tempDir()
  const first = await sbom(dir, cache, '--supplier', 'registry')
  const folder = path.join(cache, 'detbuild', 'registry-metadata')
  const entries = readdirSync(folder).filter((f) => f.endsWith('.json'))
  assert.equal(entries.length, 4)
  // the runs' key: the key file the first run made in its state folder
  const seal = await openCacheSeal({ XDG_STATE_HOME: stateOf(cache) })
  assert.equal(seal.origin, 'file')
  const real = new Map(
    entries.map((f) => [f, JSON.parse(seal.unwrap(readFileSync(path.join(folder, f), 'utf8'))!)]),
  )
  /** every entry with another supplier, written by `write` */
  const plant = (write: (e: Record<string, unknown>, facts: Record<string, unknown>) => string) => {
    for (const [f, e] of real) {
      const facts = JSON.parse(e.facts)
      facts.publisher = 'mallory'
      facts.manifest.author = 'Mallory'
      writeFileSync(path.join(folder, f), write(e, facts))
    }
  }
  const consistent = (e: Record<string, unknown>, facts: Record<string, unknown>) => {
    const text = canonicalJson(facts)
    return JSON.stringify({ ...e, facts: text, sha256: sha256Hex(text) })
  }
  const cases: Array<[string, (e: Record<string, unknown>, facts: Record<string, unknown>) => string]> = [
    // well-formed, canonical, its digest recomputed: what anyone who can write the folder could plant
    ['consistent, not sealed', (e, facts) => `${consistent(e, facts)}\n`],
    [
      'consistent, sealed under another key',
      (e, facts) => new CacheSeal(Buffer.alloc(32, 9), 'run').wrap(consistent(e, facts)),
    ],
    // sealed, but the checks behind the seal fail: not canonical, digest not the facts'
    [
      'sealed, not canonical',
      (e, facts) => seal.wrap(JSON.stringify({ ...e, facts: JSON.stringify(facts, null, 1) })),
    ],
  ]
  for (const [name, write] of cases) {
    plant(write)
    const offline = await sbom(dir, cache, '--supplier', 'registry', '--offline')
    assert.equal(offline.code, 0, offline.stderr)
    assert.ok(!offline.bytes.includes('allory'), name)
    assert.match(offline.stderr, /a@1\.0\.0: the cached registry metadata is damaged \(offline\)/, name)
    const online = await sbom(dir, cache, '--supplier', 'registry')
    assert.equal(online.bytes, first.bytes, `${name}: refetched, the registry data again`)
  }
  // the consistent entry under the runs' own key would be used: the seal is what keeps it out
  plant((e, facts) => seal.wrap(consistent(e, facts)))
  const used = await sbom(dir, cache, '--supplier', 'registry', '--offline')
  assert.ok(used.bytes.includes('Mallory'))
})

/** A registry whose replies a test writes: `name` → [status, body]. */
async function scriptedRegistry(
  replies: Record<string, [number, string]>,
): Promise<{ url: string; origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1))
    const [status, body] = replies[name] ?? [404, '{"error":"not found"}']
    res.writeHead(status, { 'content-type': 'application/json' }).end(body)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: `${origin}/`,
    origin,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

test('hostile replies: another tarball, another package, not JSON, huge fields, unknown packages are gaps', async () => {
  const sri = (s: string) => ssri.fromData(s, { algorithms: ['sha512'] }).toString()
  const packument = (name: string, version: string, entry: Record<string, unknown>) =>
    JSON.stringify({
      name,
      'dist-tags': { latest: version },
      versions: { [version]: { name, version, ...entry } },
    })
  const dist = (spec: string) => ({ tarball: 'http://x/-/x.tgz', integrity: sri(spec) })
  const pkgs: FakePackage[] = ['a@1.0.0', 'b@1.0.0', 'c@1.0.0', 'd@1.0.0', 'e@1.0.0', 'f@1.0.0'].map((s) => {
    const [name, version] = s.split('@') as [string, string]
    return { name, version }
  })
  const reg = await scriptedRegistry({
    // integrity of another tarball
    a: [
      200,
      packument('a', '1.0.0', { author: 'Mallory', dist: { tarball: 'http://x', integrity: sri('other') } }),
    ],
    // the entry names another package
    b: [
      200,
      JSON.stringify({
        name: 'b',
        versions: { '1.0.0': { name: 'evil', version: '1.0.0', author: 'Mallory', dist: dist('b@1.0.0') } },
      }),
    ],
    c: [200, '{"name": "c", "versions": {'],
    // a huge description is dropped, the author kept
    d: [
      200,
      packument('d', '1.0.0', { author: 'D', description: 'x'.repeat(100_000), dist: dist('d@1.0.0') }),
    ],
    // a type-confused author: never a supplier (pacote's normalization drops it; the shape check refuses it)
    e: [200, packument('e', '1.0.0', { author: 42, dist: dist('e@1.0.0') })],
  })
  try {
    const dir = project(reg, (spec) => sri(spec), pkgs, `registry=${reg.url}\n`)
    const r = await sbom(dir, tempDir(), '--supplier', 'registry')
    assert.equal(r.code, 0, r.stderr)
    assert.ok(!r.bytes.includes('Mallory'))
    for (const n of ['a', 'b', 'c', 'e', 'f'])
      assert.equal(prop(by(r.doc, n), 'detbuild:supplier'), 'unknown', n)
    assert.deepEqual(by(r.doc, 'd').supplier, { name: 'D' })
    assert.equal(by(r.doc, 'd').description, undefined)
    assert.match(r.stderr, /a@1\.0\.0: refused: the registry's integrity is not the lockfile's/)
    assert.match(r.stderr, /b@1\.0\.0: the registry's metadata is refused: it describes "evil"/)
    assert.match(r.stderr, /c@1\.0\.0: refused: /)
    assert.match(r.stderr, /f@1\.0\.0: not in the registry/)
  } finally {
    await reg.close()
  }
})

test('a 5xx registry is incomplete (exit 3); 401 names the token problem', async () => {
  for (const status of [500, 401]) {
    const reg = await scriptedRegistry({ a: [status, '{"error":"no"}'] })
    try {
      const dir = project(
        reg,
        () => `sha512-${Buffer.alloc(64).toString('base64')}`,
        [{ name: 'a', version: '1.0.0' }],
        `registry=${reg.url}\n`,
      )
      const r = await sbom(dir, tempDir(), '--supplier', 'registry', '--json')
      assert.equal(r.code, 3, r.stderr)
      const err = JSON.parse(r.stdout).error
      assert.equal(err.code, 'SBOM_REGISTRY_UNAVAILABLE')
      assert.match(err.message, new RegExp(`HTTP ${status}`))
    } finally {
      await reg.close()
    }
  }
})

test('--supplier none writes no supplier data; --offline needs --supplier registry', async () => {
  const reg = await registry()
  const dir = project(reg, integrityOf(reg))
  const none = await sbom(dir, tempDir(), '--supplier', 'none')
  assert.equal(none.code, 0)
  assert.ok(!none.bytes.includes('detbuild:supplier') && !none.bytes.includes('"supplier"'))
  const manifest = await sbom(dir, tempDir())
  assert.equal(prop(by(manifest.doc, 'a'), 'detbuild:supplier'), 'unknown', 'a lockfile names no author')
  assert.equal(reg.requests.packuments, 0, 'manifest mode asks no registry')
  const usage = await sbom(dir, tempDir(), '--offline', '--json')
  assert.equal(usage.code, 2)
  assert.equal(JSON.parse(usage.stdout).error.code, 'SBOM_USAGE')
})

test("strict's NTIA supplier rule passes on detbuild's own SBOM when the registry names every supplier", async () => {
  // detbuild's own lockfile; every locked version served with its lockfile integrity and a publisher
  const dir = tempDir()
  cpSync(path.join(repoRoot, 'package-lock.json'), path.join(dir, 'package-lock.json'))
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
  // the root's supplier comes from its own package.json
  pkg.author ??= 'detbuild authors'
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg))
  const lock = JSON.parse(readFileSync(path.join(dir, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { name?: string; version?: string; integrity?: string; link?: boolean }>
  }
  const docs = new Map<string, { name: string; versions: Record<string, unknown> }>()
  for (const [loc, e] of Object.entries(lock.packages)) {
    if (!loc || e.link || !e.version) continue
    const name = e.name ?? loc.slice(loc.lastIndexOf('node_modules/') + 13)
    const doc = docs.get(name) ?? { name, versions: {} }
    doc.versions[e.version] = {
      name,
      version: e.version,
      _npmUser: { name: `publisher-of-${name}` },
      dist: { tarball: `http://x/${name}.tgz`, ...(e.integrity ? { integrity: e.integrity } : {}) },
    }
    docs.set(name, doc)
  }
  const reg = await scriptedRegistry(
    Object.fromEntries([...docs].map(([n, d]) => [n, [200, JSON.stringify(d)] as [number, string]])),
  )
  try {
    writeFileSync(path.join(dir, '.npmrc'), `registry=${reg.url}\n`)
    const out = tempDir()
    const cache = tempDir()
    const s = await cli(['sbom', '-C', dir, '--out', out, '--supplier', 'registry'], {
      env: { XDG_CACHE_HOME: cache },
    })
    assert.equal(s.code, 0, s.stderr)
    const p = await cli(['policy', '-C', dir, '--out', out, '--policy', 'strict', '--warn-only', '--json'], {
      env: { XDG_CACHE_HOME: cache },
    })
    const policy = JSON.parse(readFileSync(path.join(out, 'policy.json'), 'utf8')) as {
      rules: Array<{ id: string; status: string; evidence?: { checked: number } }>
    }
    const rule = policy.rules.find((x) => x.id === 'sbom.ntia.supplier')!
    assert.equal(rule.status, 'pass', p.stdout.slice(0, 2000))
    assert.ok((rule.evidence?.checked ?? 0) > 100)
    // without registry data the same rule fails under strict, naming the marked components
    const bare = tempDir()
    await cli(['sbom', '-C', dir, '--out', bare], { env: { XDG_CACHE_HOME: cache } })
    await cli(['policy', '-C', dir, '--out', bare, '--policy', 'strict', '--warn-only'], {
      env: { XDG_CACHE_HOME: cache },
    })
    const failed = JSON.parse(readFileSync(path.join(bare, 'policy.json'), 'utf8')) as typeof policy
    assert.equal(failed.rules.find((x) => x.id === 'sbom.ntia.supplier')!.status, 'fail')
  } finally {
    await reg.close()
  }
})

test('the facts check refuses type-confused fields and keeps the canonical form', () => {
  const want = { name: 'e', version: '1.0.0' }
  const refused = toCheckedFacts({ name: 'e', version: '1.0.0', author: 42 }, want)
  assert.ok('refused' in refused && /author/.test(refused.refused), JSON.stringify(refused))
  const a = toCheckedFacts(
    { version: '1.0.0', name: 'e', _npmUser: { name: 'p' }, readme: 'x', author: 'A' },
    want,
  )
  const b = toCheckedFacts(
    { name: 'e', author: 'A', version: '1.0.0', _npmUser: { name: 'p', email: 'e' } },
    want,
  )
  assert.ok(!('refused' in a) && !('refused' in b))
  assert.equal(a.text, b.text)
  assert.deepEqual(a.facts, { manifest: { author: 'A' }, publisher: 'p' })
})

test('npm registry settings: the environment over the project .npmrc over the user one; variables from the environment', () => {
  const ref = (name: string) => `\${${name}}`
  const project = `registry=https://proj.example/npm/\n@s:registry="https://scoped.example"\n//proj.example/npm/:_authToken=${ref('NODE_AUTH_TOKEN')}\n`
  const user = `registry=https://user.example/\n//user.example/:_authToken=${ref('MISSING')}\n; comment\n`
  const c = toNpmRegistryConfig([project, user], { NODE_AUTH_TOKEN: 't0k' })
  assert.deepEqual(c, {
    registry: 'https://proj.example/npm/',
    scopes: { '@s': 'https://scoped.example/' },
    auth: { '//proj.example/npm/:_authToken': 't0k' },
  })
  assert.equal(
    toNpmRegistryConfig([project, user], { npm_config_registry: 'http://env.example' }).registry,
    'http://env.example/',
  )
  assert.equal(toNpmRegistryConfig([null, null], {}).registry, 'https://registry.npmjs.org/')
  assert.equal(publicRegistryUrl('https://me:pw@host.example/npm/?token=x'), 'https://host.example/npm/')
})

test('--from installed --supplier registry: the installed package.json author wins, the registry adds the publisher', async () => {
  const reg = await registry()
  const dir = project(reg, integrityOf(reg))
  for (const p of PACKAGES) {
    const folder = path.join(dir, 'node_modules', p.name)
    mkdirSync(folder, { recursive: true })
    writeFileSync(
      path.join(folder, 'package.json'),
      JSON.stringify({ name: p.name, version: p.version, ...(p.name === 'a' ? { author: 'Local A' } : {}) }),
    )
  }
  const r = await sbom(dir, tempDir(), '--from', 'installed', '--supplier', 'registry')
  assert.equal(r.code, 0, r.stderr)
  const a = by(r.doc, 'a')
  assert.deepEqual(a.supplier, { name: 'Local A' })
  assert.equal(prop(a, 'detbuild:supplier'), 'manifest')
  assert.equal(a.publisher, 'a-publisher')
  assert.equal(a.description, 'the a package', 'the registry fills what the package.json lacks')
  assert.deepEqual(by(r.doc, 'b').supplier, { name: 'b-publisher' })
  assert.equal(prop(by(r.doc, 'c'), 'detbuild:supplier'), 'unknown')
})
