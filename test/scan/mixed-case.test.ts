/**
 * Matching misses nothing for lack of normalisation: npm names are matched as npm spells them, taken
 * from the component's name/group, an install path or the lockfile before a (lossy) lowercased purl;
 * scopes in every encoding; aliases by the real package. Checked against real GHSA records (Haraka,
 * @cypress/request, request), offline and online through the loopback OSV server.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { npmNameFromPurl, toNpmName } from '../../src/ecosystems/npm/names.ts'
import { toPurl } from '../../src/ecosystems/npm/purl.ts'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import { silentLogger } from '../../src/util/log.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { makeSbom, recordsDir, repoRoot, tempDir, writeJson } from './helpers.ts'

const mixedDir = path.join(repoRoot, 'fixtures/osv/mixed-case')
const HARAKA = 'GHSA-w5m8-5v9m-xhx5'

let fake: OsvFake
let work: { dir: string; cleanup: () => Promise<void> }

before(async () => {
  fake = await startOsvFake([...loadRecords(recordsDir), ...loadRecords(mixedDir)])
  work = await tempDir()
  // the offline export: the real records plus the Haraka record
  await mkdir(path.join(work.dir, 'db'))
  for (const dir of [recordsDir, mixedDir])
    for (const r of loadRecords(dir))
      await copyFile(path.join(dir, `${r.id}.json`), path.join(work.dir, 'db', `${r.id}.json`))
})
after(async () => {
  await fake.close()
  await work.cleanup()
})

/** Runs the scan offline and online over one SBOM (and lockfile); returns both reports. */
async function scanBoth(
  sbom: Record<string, unknown>,
  lock?: Record<string, unknown>,
): Promise<Array<Awaited<ReturnType<typeof runScan>>>> {
  const t = await tempDir()
  try {
    await writeJson(path.join(t.dir, 'sbom.json'), sbom)
    if (lock) await writeJson(path.join(t.dir, 'package-lock.json'), lock)
    const options = (extra: Partial<ScanOptions>): ScanOptions => ({
      cwd: t.dir,
      out: path.join(t.dir, 'out'),
      sbom: 'sbom.json',
      cacheDir: null,
      failOn: null,
      omitDev: false,
      env: { SOURCE_DATE_EPOCH: '1700000000' },
      now: new Date('2026-01-01T00:00:00Z'),
      log: silentLogger,
      ...extra,
    })
    const offline = await runScan(options({ offlineDb: path.join(work.dir, 'db') }))
    const online = await runScan(
      options({ osvUrl: fake.url, client: { fetch: globalThis.fetch, sleep: async () => {}, retries: 0 } }),
    )
    return [offline, online]
  } finally {
    await t.cleanup()
  }
}

const found = (r: Awaited<ReturnType<typeof runScan>>): string[] =>
  r.report.findings.map((f) => `${f.name}@${f.version} ${f.id}`)

/** An SBOM component as a tool writes it: `fields` replaces name/group/purl/properties as given. */
function sbomWith(components: Array<Record<string, unknown>>): Record<string, unknown> {
  const sbom = makeSbom([], [])
  sbom.components = components.map((c) => ({ type: 'library', version: c.version, ...c }))
  return sbom
}

test('detbuild’s own SBOM (name "Haraka", purl lowercased) finds the Haraka advisory, offline and online', async () => {
  // what src/sbom writes for Haraka: packageurl-js lowercases the purl, the CycloneDX name keeps the case
  const purl = toPurl({ name: 'Haraka', version: '2.8.8', kind: 'registry', resolved: undefined } as never)
  assert.equal(purl, 'pkg:npm/haraka@2.8.8')
  const sbom = makeSbom([{ name: 'Haraka', version: '2.8.8', purl }], ['Haraka@2.8.8'])
  for (const r of await scanBoth(sbom)) {
    assert.equal(r.exitCode, 0)
    assert.deepEqual(found(r), [`Haraka@2.8.8 ${HARAKA}`])
    const f = r.report.findings[0]!
    assert.equal(f.purl, purl, 'the finding points at the SBOM’s own purl and bom-ref')
    assert.equal(f.fixed, '2.8.9')
    assert.equal(f.severity, 'critical')
  }
  // the fixed version is not affected
  const fixed = makeSbom(
    [{ name: 'Haraka', version: '2.8.9', purl: 'pkg:npm/haraka@2.8.9' }],
    ['Haraka@2.8.9'],
  )
  for (const r of await scanBoth(fixed)) assert.deepEqual(found(r), [])
})

test('exact names: the lowercase package "haraka" is another package and does not match', async () => {
  const sbom = makeSbom([{ name: 'haraka', version: '0.0.33' }], ['haraka@0.0.33'])
  for (const r of await scanBoth(sbom)) {
    assert.equal(r.exitCode, 0)
    assert.deepEqual(found(r), [])
  }
})

test('only a purl: a case-kept purl is exact; a lowercased one matches every spelling offline (fail closed)', async () => {
  const exact = 'pkg:npm/Haraka@2.8.8'
  for (const r of await scanBoth(sbomWith([{ 'bom-ref': exact, purl: exact, version: '2.8.8' }]))) {
    assert.equal(r.exitCode, 0)
    assert.deepEqual(found(r), [`Haraka@2.8.8 ${HARAKA}`])
  }
  // `pkg:npm/haraka` may be Haraka written by the old purl rule, or the package haraka: offline, both
  const lossy = 'pkg:npm/haraka@2.8.8'
  const [offline, online] = await scanBoth(sbomWith([{ 'bom-ref': lossy, purl: lossy, version: '2.8.8' }]))
  assert.deepEqual(found(offline!), [`haraka@2.8.8 ${HARAKA}`])
  // online, the purl goes to OSV as the SBOM wrote it (OSV decides); the fake matches names exactly
  assert.equal(online!.exitCode, 0)
  assert.ok(fake.queries.flat().some((q) => q.package.purl === lossy))
})

test('the lockfile and the install path say how a lowercased purl is spelled', async () => {
  const purl = 'pkg:npm/haraka@2.8.8'
  const lock = (key: string, entry: Record<string, unknown>) => ({
    name: 'test-app',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'test-app', version: '1.0.0' }, [key]: { version: '2.8.8', ...entry } },
  })
  const bare = sbomWith([{ 'bom-ref': purl, purl, version: '2.8.8' }])
  for (const [label, l] of [
    ['lockfile key', lock('node_modules/Haraka', {})],
    ['npm alias in the lockfile', lock('node_modules/mailer', { name: 'Haraka' })],
  ] as const) {
    for (const r of await scanBoth(bare, l)) assert.deepEqual(found(r), [`Haraka@2.8.8 ${HARAKA}`], label)
  }
  const withPath = sbomWith([
    {
      'bom-ref': purl,
      purl,
      properties: [{ name: 'cdx:npm:package:path', value: 'node_modules/x/node_modules/Haraka' }],
    },
  ])
  for (const r of await scanBoth(withPath)) assert.deepEqual(found(r), [`Haraka@2.8.8 ${HARAKA}`])
})

test('scopes in every encoding, group with or without @, and aliases by the real package', async () => {
  const pkgs: Array<Record<string, unknown>> = [
    // %40-encoded scope, CycloneDX group with its @
    {
      'bom-ref': 'a',
      purl: 'pkg:npm/%40cypress/request@2.88.11',
      group: '@cypress',
      name: 'request',
      version: '2.88.11',
    },
    // a bare @ and a group without it (other tools)
    {
      'bom-ref': 'b',
      purl: 'pkg:npm/@cypress/request@2.88.10',
      group: 'cypress',
      name: 'request',
      version: '2.88.10',
    },
    // purl only
    { 'bom-ref': 'c', purl: 'pkg:npm/%40cypress/request@2.88.9', version: '2.88.9' },
    // an npm alias: installed as node_modules/my-request, the package is request
    {
      'bom-ref': 'd',
      purl: 'pkg:npm/request@2.88.2',
      name: 'request',
      version: '2.88.2',
      properties: [{ name: 'cdx:npm:package:path', value: 'node_modules/my-request' }],
    },
  ]
  for (const r of await scanBoth(sbomWith(pkgs))) {
    assert.equal(r.exitCode, 0)
    assert.deepEqual(found(r).sort(), [
      '@cypress/request@2.88.10 GHSA-p8p7-x288-28g6',
      '@cypress/request@2.88.11 GHSA-p8p7-x288-28g6',
      '@cypress/request@2.88.9 GHSA-p8p7-x288-28g6',
      'request@2.88.2 GHSA-p8p7-x288-28g6',
    ])
  }
})

test('npmNameFromPurl decodes per the purl spec and keeps the case; toNpmName prefers the exact spelling', () => {
  const cases: Array<[string, string | null]> = [
    ['pkg:npm/JSONStream@1.3.5', 'JSONStream'],
    ['pkg:npm/%40cypress/request@2.88.11', '@cypress/request'],
    ['pkg:npm/@cypress/request@2.88.11?vcs_url=x#sub', '@cypress/request'],
    ['pkg:npm/%40Scope/Na%6De@1', '@Scope/Name'],
    ['pkg:npm/lodash', 'lodash'],
    ['pkg:pypi/requests@1', null],
    ['pkg:npm/%ZZ@1', null],
  ]
  for (const [purl, name] of cases) assert.equal(npmNameFromPurl(purl), name, purl)

  const n = (c: { name?: string; group?: string }, purl: string, paths: string[] = []) =>
    toNpmName(c, purl, paths, 'fallback')
  assert.deepEqual(n({ name: 'JSONStream' }, 'pkg:npm/jsonstream@1.3.5'), {
    name: 'JSONStream',
    exactName: true,
  })
  assert.deepEqual(n({ name: 'jsonstream' }, 'pkg:npm/jsonstream@1.3.5'), {
    name: 'jsonstream',
    exactName: true,
  })
  assert.deepEqual(n({}, 'pkg:npm/jsonstream@1.3.5'), { name: 'jsonstream', exactName: false })
  assert.deepEqual(n({}, 'pkg:npm/JSONStream@1.3.5'), { name: 'JSONStream', exactName: true })
  assert.deepEqual(n({}, 'pkg:npm/jsonstream@1.3.5', ['node_modules/JSONStream']), {
    name: 'JSONStream',
    exactName: true,
  })
  // a name that is not the purl's package (an alias, a mistake) is not taken
  assert.deepEqual(n({ name: 'other' }, 'pkg:npm/jsonstream@1.3.5', ['node_modules/alias']), {
    name: 'jsonstream',
    exactName: false,
  })
  assert.deepEqual(n({ group: '@types', name: 'node' }, 'pkg:npm/%40types/node@20.0.0'), {
    name: '@types/node',
    exactName: true,
  })
  assert.deepEqual(n({}, 'pkg:npm/%ZZ@1'), { name: 'fallback', exactName: false })
})
