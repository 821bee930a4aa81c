/**
 * The OSV record cache holds what servers sent, so it is hostile too: scoped by source, named by hashes,
 * checked on read. A lying mirror must not change what a later scan against another source reports.
 */
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import { OsvCache, RecordCacheFolder } from '../../src/scan/osv-cache.ts'
import type { OsvRecord } from '../../src/scan/types.ts'
import { CacheSeal, openCacheSeal } from '../../src/util/cache-seal.ts'
import { sha256Hex } from '../../src/util/digest.ts'
import { silentLogger } from '../../src/util/log.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { recordsDir, tempDir, writeDirectSbom } from './helpers.ts'

const records = loadRecords(recordsDir)
const pkgs = [
  { name: 'minimist', version: '1.2.5' },
  { name: 'lodash', version: '4.17.20' },
  { name: 'left-pad', version: '1.3.0' },
]
const MINIMIST = 'pkg:npm/minimist@1.2.5'
const MINIMIST_VULN = 'GHSA-xvch-5gv4-984h'
const MINIMIST_MODIFIED = '2023-02-27T14:47:14Z'

let honest: OsvFake
let hostile: OsvFake
let work: { dir: string; cleanup: () => Promise<void> }

before(async () => {
  honest = await startOsvFake(records)
  hostile = await startOsvFake(records)
  work = await tempDir()
  await writeDirectSbom(path.join(work.dir, 'sbom.json'), pkgs)
})
after(async () => {
  await honest.close()
  await hostile.close()
  await work.cleanup()
})

function options(url: string, cacheDir: string | null): ScanOptions {
  return {
    cwd: work.dir,
    out: path.join(work.dir, 'out'),
    sbom: 'sbom.json',
    osvUrl: url,
    cacheDir,
    failOn: null,
    omitDev: false,
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    now: new Date('2026-01-01T00:00:00Z'),
    log: silentLogger,
    client: { sleep: async () => {}, timeoutMs: 5000, retries: 0 },
  }
}

/** Every file under `dir`, as POSIX relative paths, sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
  return out.sort()
}

test('a doctored record from a hostile mirror does not change a later scan against another source', async () => {
  const cache = await tempDir()
  try {
    const baseline = await runScan(options(honest.url, null))
    assert.equal(baseline.exitCode, 0)
    const real = baseline.report.findings.find((f) => f.id === MINIMIST_VULN)
    assert.equal(real?.severity, 'critical')

    // A: a valid-looking record with the real id and `modified`, but withdrawn and harmless
    hostile.always.vulns = {
      kind: 'rewrite',
      rewrite: (rec) => {
        const r = rec as OsvRecord
        return r.id === MINIMIST_VULN
          ? { ...r, withdrawn: '2020-01-01T00:00:00Z', severity: [], database_specific: { severity: 'LOW' } }
          : r
      },
    }
    const a = await runScan(options(hostile.url, cache.dir))
    assert.equal(a.exitCode, 0, 'the lie itself is well-formed')
    assert.equal(
      a.report.findings.some((f) => f.id === MINIMIST_VULN),
      false,
      'A hid the finding',
    )

    // B, same cache dir: fetches its own records and reports exactly what it reports without a cache
    honest.requests.vulns = 0
    const b = await runScan(options(honest.url, cache.dir))
    assert.equal(b.exitCode, 0)
    assert.ok(honest.requests.vulns >= 1, 'B did not take records cached from A')
    assert.deepEqual(b.report.findings, baseline.report.findings)
    assert.deepEqual(b.report.counts, baseline.report.counts)

    // and B's own cache answers B's next scan, still with B's data
    honest.requests.vulns = 0
    const again = await runScan(options(honest.url, cache.dir))
    assert.equal(honest.requests.vulns, 0)
    assert.deepEqual(again.report.findings, baseline.report.findings)
  } finally {
    hostile.always.vulns = null
    await cache.cleanup()
  }
})

test('a cache entry not sealed by this key, not matching its digest, or not parsing, is ignored and fetched again', async () => {
  const cache = await tempDir()
  try {
    const first = await runScan(options(honest.url, cache.dir))
    assert.ok(first.report.findings.some((f) => f.records.includes(MINIMIST_VULN)))
    // the scans' own key (the key file under the home folder: the options carry no DETBUILD_CACHE_KEY)
    const seal = await openCacheSeal(options(honest.url, cache.dir).env)
    const file = new OsvCache(cache.dir, `api ${honest.url}`, seal).fileFor(MINIMIST_VULN, MINIMIST_MODIFIED)
    const read = async () => JSON.parse(seal.unwrap(await readFile(file, 'utf8'))!)
    const entry = await read()
    const doctored = JSON.parse(entry.record) as OsvRecord
    doctored.withdrawn = '2020-01-01T00:00:00Z'
    // a well-formed entry that would hide the advisory (withdrawn), its digest recomputed: what anyone who
    // can write the cache folder (a restored CI cache) could plant. Only the seal tells it apart.
    const forged = JSON.stringify({
      ...entry,
      record: JSON.stringify(doctored),
      sha256: sha256Hex(JSON.stringify(doctored)),
    })
    const otherKey = new CacheSeal(Buffer.alloc(32, 7), 'run')

    const unsealed: Array<[string, string]> = [
      ['a forged entry, not sealed', `${forged}\n`],
      ['a forged entry, sealed under another key', otherKey.wrap(forged)],
      ['a forged entry under the seal of the real one', `${seal.seal(JSON.stringify(entry))}\n${forged}\n`],
      ['the real entry, its seal cut off', `${JSON.stringify(entry)}\n`],
    ]
    const sealed: Array<[string, string]> = [
      ['record changed, digest kept', JSON.stringify({ ...entry, record: JSON.stringify(doctored) })],
      ['not JSON', '{"format": "detbuild-osv-record-cache/1", "rec'],
      ['another scope', JSON.stringify({ ...entry, scope: 'api https://elsewhere.example' })],
      [
        'digest recomputed, but a malformed record',
        JSON.stringify({
          ...entry,
          record: JSON.stringify({ ...doctored, affected: 'all' }),
          sha256: sha256Hex(JSON.stringify({ ...doctored, affected: 'all' })),
        }),
      ],
      [
        'digest recomputed, but another id',
        JSON.stringify({
          ...entry,
          record: JSON.stringify({ ...doctored, id: 'GHSA-0000-0000-0000' }),
          sha256: sha256Hex(JSON.stringify({ ...doctored, id: 'GHSA-0000-0000-0000' })),
        }),
      ],
    ]
    // the checks behind the seal still hold on their own: each case sealed with the right key
    const cases = [
      ...unsealed,
      ...sealed.map(([name, body]): [string, string] => [`${name} (sealed)`, seal.wrap(body)]),
    ]
    for (const [name, content] of cases) {
      await writeFile(file, content)
      honest.requests.vulns = 0
      const r = await runScan(options(honest.url, cache.dir))
      assert.equal(honest.requests.vulns, 1, `${name}: the entry was refetched`)
      assert.deepEqual(r.report.findings, first.report.findings, name)
      assert.equal((await read()).sha256, entry.sha256, `${name}: entry rewritten`)
    }
    // the forged entry, sealed with the scans' key, would be used: the seal is what keeps it out
    await writeFile(file, seal.wrap(forged))
    honest.requests.vulns = 0
    const used = await runScan(options(honest.url, cache.dir))
    assert.equal(honest.requests.vulns, 0)
    assert.ok(!used.report.findings.some((f) => f.records.includes(MINIMIST_VULN)))
  } finally {
    await cache.cleanup()
  }
})

test('ids a server chooses never name a file: nothing lands outside the record folder or on the offline index', async () => {
  const cache = await tempDir()
  const sneaky = `../offline-index/${'a'.repeat(64)}`
  const fake = await startOsvFake([
    ...records,
    { ...records.find((r) => r.id === MINIMIST_VULN)!, id: sneaky, aliases: [] },
  ])
  try {
    const indexFile = path.join(cache.dir, 'offline-index', `${'a'.repeat(64)}.json`)
    await mkdir(path.dirname(indexFile), { recursive: true })
    await writeFile(indexFile, 'sentinel\n')
    const r = await runScan(options(fake.url, cache.dir))
    assert.equal(r.exitCode, 0)
    assert.ok(r.report.findings.some((f) => f.purl === MINIMIST && f.records.includes(sneaky)))
    const files = await tree(cache.dir)
    assert.equal(await readFile(indexFile, 'utf8'), 'sentinel\n', 'the offline index was not touched')
    for (const f of files.filter((x) => !x.startsWith('offline-index/')))
      assert.match(f, new RegExp(`^${RecordCacheFolder}/[0-9a-f]{64}\\.json$`))
    assert.deepEqual(
      files.filter((x) => x.startsWith('offline-index/')),
      [`offline-index/${'a'.repeat(64)}.json`],
    )
    assert.notEqual(RecordCacheFolder, 'offline-index')
    // and the entry is found again by the same id
    fake.requests.vulns = 0
    await runScan(options(fake.url, cache.dir))
    assert.equal(fake.requests.vulns, 0)
  } finally {
    await fake.close()
    await cache.cleanup()
  }
})
