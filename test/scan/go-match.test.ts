/**
 * Scanning Go components against OSV, online (loopback OSV server) and offline (an export ZIP in OSV's
 * layout), over real GO- records: GO- ids with their CVE/GHSA aliases merged, the Go release matched as
 * `stdlib` and `toolchain`, `v`-prefixed versions, pseudo-versions, `+incompatible` and module paths
 * with capitals.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { goQueryPurl } from '../../src/scan/go-reach.ts'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import { type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { goExportZip, goRecords, goRecordsDir, goScanOptions, makeGoSbom } from './go-helpers.ts'
import { makeSbom, recordsDir, tempDir, writeJson } from './helpers.ts'

let fake: OsvFake
let work: { dir: string; cleanup: () => Promise<void> }

const PKGS = [
  { name: 'stdlib', version: 'go1.20.4', properties: { 'detbuild:go:version': 'go1.20.4' } },
  { name: 'golang.org/x/net', version: 'v0.16.0' },
  { name: 'golang.org/x/net', version: 'v0.0.0-20220127200216-cd36cc0744dd' },
  { name: 'golang.org/x/net', version: 'v0.23.0' },
  { name: 'github.com/docker/distribution', version: 'v2.6.2+incompatible' },
  { name: 'github.com/docker/distribution', version: 'v2.7.1+incompatible' },
  { name: 'github.com/RobotsAndPencils/go-saml', version: 'v0.0.0-20170520135329-fb13cb52a46b' },
]

before(async () => {
  fake = await startOsvFake(goRecords())
  work = await tempDir('detbuild-go-scan-')
  await writeJson(path.join(work.dir, 'sbom.json'), makeGoSbom(PKGS))
  await writeFile(path.join(work.dir, 'go.zip'), goExportZip())
})

after(async () => {
  await fake.close()
  await work.cleanup()
})

const opts = (extra: Partial<ScanOptions> = {}): ScanOptions =>
  goScanOptions(work.dir, { osvUrl: fake.url, client: { timeoutMs: 2000, retries: 0 }, ...extra })

const byPackage = (findings: Array<{ name: string; version: string; id: string }>): string[] =>
  findings.map((f) => `${f.name}@${f.version} ${f.id}`).sort()

const EXPECTED = [
  'github.com/RobotsAndPencils/go-saml@v0.0.0-20170520135329-fb13cb52a46b GO-2020-0047',
  'github.com/docker/distribution@v2.6.2+incompatible GO-2021-0072',
  'golang.org/x/net@v0.0.0-20220127200216-cd36cc0744dd GO-2023-2102',
  'golang.org/x/net@v0.0.0-20220127200216-cd36cc0744dd GO-2024-2687',
  'golang.org/x/net@v0.16.0 GO-2023-2102',
  'golang.org/x/net@v0.16.0 GO-2024-2687',
  'stdlib@go1.20.4 GO-2023-1841',
  'stdlib@go1.20.4 GO-2023-2102',
  'stdlib@go1.20.4 GO-2023-2185',
  'stdlib@go1.20.4 GO-2024-2598',
  'stdlib@go1.20.4 GO-2024-2687',
]

test('online: Go modules, pseudo-versions, +incompatible, capitals and the Go release (stdlib + toolchain)', async () => {
  const r = await runScan(opts())
  assert.equal(r.report.complete, true, JSON.stringify(r.report.uncheckedReasons))
  assert.deepEqual(byPackage(r.report.findings), EXPECTED)
  // asked the way OSV's Go records write versions: no `v`, the release as semver, under both names
  const asked = fake.queries.flat().map((q) => q.package.purl)
  assert.ok(asked.includes('pkg:golang/stdlib@1.20.4'))
  assert.ok(asked.includes('pkg:golang/toolchain@1.20.4'))
  assert.ok(asked.includes('pkg:golang/golang.org/x/net@0.16.0'))
  assert.ok(
    asked.includes('pkg:golang/github.com/RobotsAndPencils/go-saml@0.0.0-20170520135329-fb13cb52a46b'),
  )
  assert.ok(!asked.some((p) => /@v\d/.test(p)), 'no v-prefixed version is sent')
})

test('offline: the Go export (all.zip of GO- records) gives the same findings as the API', async () => {
  const online = await runScan(opts())
  const offline = await runScan(opts({ offlineDb: 'go.zip' }))
  assert.equal(offline.report.complete, true, JSON.stringify(offline.report.uncheckedReasons))
  assert.deepEqual(byPackage(offline.report.findings), EXPECTED)
  const strip = (fs: typeof online.report.findings) =>
    fs
      .map(({ analysis: _a, ...f }) => f)
      .sort((a, b) => `${a.purl} ${a.id}`.localeCompare(`${b.purl} ${b.id}`))
  assert.deepEqual(strip(offline.report.findings), strip(online.report.findings))
  assert.deepEqual(offline.report.source.records, { Go: 8 })
})

test('a GO- record and the GHSA record of the same vulnerability make one finding under the GO- id', async () => {
  for (const r of [await runScan(opts()), await runScan(opts({ offlineDb: 'go.zip' }))]) {
    const f = r.report.findings.find((x) => x.version === 'v0.16.0' && x.id === 'GO-2023-2102')
    assert.ok(f, 'the x/net finding')
    assert.deepEqual(f.records, ['GHSA-4374-p667-p6c8', 'GO-2023-2102'])
    assert.deepEqual(f.aliases, ['CVE-2023-39325', 'GHSA-4374-p667-p6c8'])
    // the severity comes from the GHSA record (the GO- record has none)
    assert.equal(f.severity, 'high')
    assert.equal(f.fixed, '0.17.0')
    // no finding goes by the GHSA id for the same package
    assert.ok(!r.report.findings.some((x) => x.id === 'GHSA-4374-p667-p6c8'))
  }
})

test('the Go release: stdlib and toolchain fixes in Go order, +incompatible fixes', async () => {
  const r = await runScan(opts({ offlineDb: 'go.zip' }))
  const fix = (name: string, id: string) =>
    r.report.findings.find((f) => f.name === name && f.id === id)?.fixed
  assert.equal(fix('stdlib', 'GO-2023-1841'), '1.20.5', 'the toolchain record, matched on the Go release')
  assert.equal(fix('stdlib', 'GO-2023-2102'), '1.20.10')
  assert.equal(fix('github.com/docker/distribution', 'GO-2021-0072'), '2.7.0-rc.0+incompatible')
  assert.equal(fix('github.com/RobotsAndPencils/go-saml', 'GO-2020-0047'), null)
})

test('a module path is matched case-sensitively: a lower-case spelling is another module', async () => {
  const { dir, cleanup } = await tempDir('detbuild-go-case-')
  try {
    const v = 'v0.0.0-20170520135329-fb13cb52a46b'
    await writeJson(
      path.join(dir, 'sbom.json'),
      makeGoSbom([{ name: 'github.com/robotsandpencils/go-saml', version: v }]),
    )
    await writeFile(path.join(dir, 'go.zip'), goExportZip())
    const offline = await runScan(goScanOptions(dir, { offlineDb: 'go.zip' }))
    assert.equal(offline.report.complete, true)
    assert.deepEqual(offline.report.findings, [])
  } finally {
    await cleanup()
  }
})

test('the query purl: Go releases as semver, module versions without the v, capitals kept', () => {
  assert.equal(goQueryPurl('stdlib', 'go1.21rc2'), 'pkg:golang/stdlib@1.21.0-rc.2')
  assert.equal(goQueryPurl('stdlib', 'go1.20'), 'pkg:golang/stdlib@1.20.0')
  assert.equal(
    goQueryPurl('github.com/Azure/go-autorest', 'v14.2.0+incompatible'),
    'pkg:golang/github.com/Azure/go-autorest@14.2.0+incompatible',
  )
})

test('a mixed npm + Go SBOM against one folder holding both exports: both checked, complete', async () => {
  const { dir, cleanup } = await tempDir('detbuild-go-mixed-')
  try {
    const db = path.join(dir, 'osv')
    await mkdir(db)
    for (const f of await readdir(recordsDir)) await copyFile(path.join(recordsDir, f), path.join(db, f))
    for (const f of await readdir(goRecordsDir)) await copyFile(path.join(goRecordsDir, f), path.join(db, f))
    const sbom = makeGoSbom([{ name: 'golang.org/x/net', version: 'v0.16.0' }])
    const npm = makeSbom([{ name: 'minimist', version: '1.2.5' }], ['minimist@1.2.5'])
    sbom.components = [...(sbom.components as unknown[]), ...(npm.components as unknown[])]
    await writeJson(path.join(dir, 'sbom.json'), sbom)
    const r = await runScan(goScanOptions(dir, { offlineDb: 'osv' }))
    assert.equal(r.report.complete, true, JSON.stringify(r.report.uncheckedReasons))
    assert.deepEqual(byPackage(r.report.findings), [
      'golang.org/x/net@v0.16.0 GO-2023-2102',
      'golang.org/x/net@v0.16.0 GO-2024-2687',
      'minimist@1.2.5 GHSA-xvch-5gv4-984h',
    ])
    // npm findings carry no reachability analysis; Go findings do
    assert.ok(r.report.findings.every((f) => (f.analysis === undefined) === (f.name === 'minimist')))
  } finally {
    await cleanup()
  }
})
