import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import { OsvCache, RecordCacheFolder } from '../../src/scan/osv-cache.ts'
import { parseRetryAfter } from '../../src/scan/osv-client.ts'
import { openCacheSeal } from '../../src/util/cache-seal.ts'
import { silentLogger } from '../../src/util/log.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { recordsDir, tempDir, writeDirectSbom } from './helpers.ts'

const records = loadRecords(recordsDir)
const pkgs = [
  { name: 'minimist', version: '1.2.5' },
  { name: 'lodash', version: '4.17.20' },
  { name: 'express', version: '4.19.1' },
  { name: 'body-parser', version: '1.20.2' },
  { name: 'cookie', version: '0.6.0' },
  { name: 'request', version: '2.88.2' },
  { name: 'left-pad', version: '1.3.0' },
  { name: '@cypress/request', version: '2.88.11' },
]

let fake: OsvFake
let work: { dir: string; cleanup: () => Promise<void> }
const sleeps: number[] = []

before(async () => {
  fake = await startOsvFake(records, { pageSize: 1 })
  work = await tempDir()
  await writeDirectSbom(path.join(work.dir, 'sbom.json'), pkgs)
})
after(async () => {
  await fake.close()
  await work.cleanup()
})

function options(extra: Partial<ScanOptions> = {}): ScanOptions {
  return {
    cwd: work.dir,
    out: path.join(work.dir, 'out'),
    sbom: 'sbom.json',
    osvUrl: fake.url,
    cacheDir: null,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    now: new Date('2026-01-01T00:00:00Z'),
    log: silentLogger,
    ...extra,
    client: {
      sleep: async (ms) => {
        sleeps.push(ms)
      },
      random: () => 0.5,
      timeoutMs: 2000,
      retries: 3,
      ...extra.client,
    },
  }
}

function reset(): void {
  fake.faults.querybatch.length = 0
  fake.faults.vulns.length = 0
  fake.always.querybatch = null
  fake.always.vulns = null
  fake.requests.querybatch = 0
  fake.requests.vulns = 0
  fake.queries.length = 0
  sleeps.length = 0
}

test('online and offline give identical findings for the same data (with pagination)', async () => {
  reset()
  const online = await runScan(options())
  assert.equal(online.exitCode, 0)
  assert.equal(online.report.complete, true)
  assert.ok(fake.requests.querybatch > 1, 'followed next_page_token')
  for (const q of fake.queries.flat()) {
    assert.equal(q.version, undefined, 'no version next to a versioned purl')
    assert.match(q.package.purl, /^pkg:npm\/.+@/)
  }
  const offline = await runScan(options({ offlineDb: recordsDir }))
  assert.deepEqual(online.report.findings, offline.report.findings)
  assert.deepEqual(online.report.counts, offline.report.counts)
  assert.deepEqual(
    online.report.findings.map((f) => `${f.name}@${f.version} ${f.id}`),
    // worst first: severity, score, id, package
    [
      'minimist@1.2.5 GHSA-xvch-5gv4-984h',
      'body-parser@1.20.2 GHSA-qwcr-r2fm-qrc7',
      'lodash@4.17.20 GHSA-35jh-r3h4-6jhm',
      '@cypress/request@2.88.11 GHSA-p8p7-x288-28g6',
      'request@2.88.2 GHSA-p8p7-x288-28g6',
      'express@4.19.1 GHSA-rv95-896h-c2vc',
      'lodash@4.17.20 GHSA-29mw-wpgm-hmr9',
      'express@4.19.1 GHSA-qw6h-vgh9-j6wx',
      'cookie@0.6.0 GHSA-pxg6-pf52-xh8x',
    ],
  )
  assert.equal(online.report.source.kind, 'api')
  assert.equal(online.report.source.url, fake.url)
})

test('429 with Retry-After, 500 and malformed replies are retried, then succeed', async () => {
  reset()
  fake.faults.querybatch.push({ kind: '429', retryAfter: '2' }, { kind: '500' }, { kind: 'malformed' })
  fake.faults.vulns.push({ kind: '500' }, { kind: '429', retryAfter: '1' })
  const r = await runScan(options())
  assert.equal(r.exitCode, 0)
  assert.equal(r.report.complete, true)
  assert.equal(r.report.findings.length, 9)
  assert.ok(sleeps.includes(2000), 'waited the Retry-After of 2 s')
  assert.ok(sleeps.includes(1000), 'waited the Retry-After of 1 s')
})

test('a slow reply beyond the timeout is retried', async () => {
  reset()
  fake.faults.querybatch.push({ kind: 'slow', ms: 400 })
  const r = await runScan(options({ client: { timeoutMs: 150 } }))
  assert.equal(r.exitCode, 0)
  assert.equal(r.report.findings.length, 9)
})

test('server down after retries: exit 3, every package named as unchecked, never clean', async () => {
  reset()
  fake.always.querybatch = { kind: '500' }
  const r = await runScan(options())
  assert.equal(r.exitCode, 3)
  assert.equal(r.report.complete, false)
  assert.equal(r.report.unchecked.length, pkgs.length)
  assert.equal(fake.requests.querybatch, 4, 'first attempt + 3 retries')
  assert.match(r.text, /INCOMPLETE/)
  assert.doesNotMatch(r.text, /no known vulnerabilities/)
  const v = JSON.parse(await readFile(path.join(work.dir, 'out', WorkspaceFiles.vulns), 'utf8'))
  assert.equal(v.complete, false)
})

test('a hanging server times out and the scan is incomplete', async () => {
  reset()
  fake.always.querybatch = { kind: 'hang' }
  const r = await runScan(options({ client: { timeoutMs: 100, retries: 1 } }))
  assert.equal(r.exitCode, 3)
  assert.equal(r.report.unchecked.length, pkgs.length)
})

test('a truncated reply (fewer results than queries) leaves every queried package unchecked (exit 3)', async () => {
  reset()
  fake.always.querybatch = { kind: 'truncated' }
  const r = await runScan(options())
  assert.equal(r.exitCode, 3)
  // results are positional: once the count is wrong, none of them can be attributed to a package
  assert.equal(r.report.unchecked.length, pkgs.length)
  for (const u of r.report.unchecked) assert.match(r.report.uncheckedReasons[u]!, /^SCAN_OSV_REPLY_INVALID: /)
})

test('a record that cannot be fetched still reports the finding and makes the scan incomplete', async () => {
  reset()
  fake.always.vulns = { kind: '500' }
  const r = await runScan(options({ client: { retries: 0 } }))
  assert.equal(r.exitCode, 3)
  assert.ok(r.report.findings.some((f) => f.id === 'GHSA-xvch-5gv4-984h' && f.severity === 'unknown'))
  assert.ok(r.report.unchecked.includes('pkg:npm/minimist@1.2.5'))
})

test('the disk cache is keyed by source, id and modified, named by hashes, and saves the record fetches', async () => {
  reset()
  const cache = await tempDir()
  try {
    await runScan(options({ cacheDir: cache.dir }))
    const first = fake.requests.vulns
    assert.ok(first > 0)
    // one folder of its own, file names chosen by detbuild (sha256), never by the server's ids
    assert.deepEqual(await readdir(cache.dir), [RecordCacheFolder])
    const names = await readdir(path.join(cache.dir, RecordCacheFolder))
    assert.equal(names.length, first)
    for (const n of names) assert.match(n, /^[0-9a-f]{64}\.json$/)
    const minimist = new OsvCache(cache.dir, `api ${fake.url}`, await openCacheSeal({})).fileFor(
      'GHSA-xvch-5gv4-984h',
      '2023-02-27T14:47:14Z',
    )
    assert.ok(names.includes(path.basename(minimist)))
    fake.requests.vulns = 0
    const again = await runScan(options({ cacheDir: cache.dir }))
    assert.equal(fake.requests.vulns, 0)
    assert.equal(again.report.findings.length, 9)
  } finally {
    await cache.cleanup()
  }
})

test('Retry-After accepts seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3', 0), 3000)
  assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000)
  assert.equal(parseRetryAfter('soon', 0), null)
  assert.equal(parseRetryAfter(null, 0), null)
})
