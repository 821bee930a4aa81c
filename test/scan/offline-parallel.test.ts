/**
 * The ZIP export read in one pass and in worker threads: the same answer (and the same first error)
 * with workers, without them, and when no worker can start (the bundled GitHub Action has no worker
 * files: the fallback runs the batches in the loading thread); the digest is the file's sha256.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { ExportPool } from '../../src/scan/export-pool.ts'
import { type ExportBatch, META, processBatch } from '../../src/scan/offline-batch.ts'
import { loadOfflineDb, type OfflineDb, zipFailure } from '../../src/scan/offline-db.ts'
import { readZipEntries } from '../../src/util/zip.ts'
import { generatedDir, makeZip, recordsDir, tempDir } from './helpers.ts'

const fixtures = [recordsDir, generatedDir].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8')),
)

/** A worker module that does not exist: what the bundled Action meets. */
const MISSING_WORKER = new URL('./no-such-export-worker.js', import.meta.url)

const NAMES = new Set(['lodash', 'minimist', 'express', '@cypress/request', 'filler-3'])

function record(id: string, name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    modified: `2024-01-${String((id.length % 28) + 1).padStart(2, '0')}T00:00:00Z`,
    affected: [
      {
        package: { ecosystem: 'npm', name },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '9.0.0' }] }],
      },
    ],
    ...extra,
  })
}

/** An export in an archive order unlike the name order, with duplicates, withdrawn and escaped names. */
function entries(): Array<{ name: string; data: string }> {
  const out = fixtures.map((d, i) => ({ name: `F${String(i).padStart(3, '0')}.json`, data: d }))
  for (let i = 0; i < 1500; i++)
    out.push({
      name: `FILL-${String(i).padStart(5, '0')}.json`,
      data: record(`FILL-${i}`, `filler-${i % 40}`),
    })
  out.push({ name: 'DUP-b.json', data: record('DUP-1', 'lodash') })
  out.push({ name: 'DUP-a.json', data: record('DUP-1', 'nobody') })
  out.push({ name: 'WD.json', data: record('WD-1', 'lodash', { withdrawn: '2024-02-01T00:00:00Z' }) })
  out.push({
    name: 'ESC.json',
    data: record('ESC-1', 'PLACEHOLDER').replace('"PLACEHOLDER"', '"\\u006c\\u006fdash"'),
  })
  out.push({ name: 'LATE.json', data: record('LATE-1', 'unrelated', { modified: '2031-01-01T00:00:00Z' }) })
  // archive order: reversed (the loader reads in entry-name order all the same)
  return out.reverse()
}

function facts(db: OfflineDb): unknown {
  const matches: string[] = []
  for (const name of [...NAMES, 'nobody', 'unrelated'])
    for (const v of ['1.0.0', '4.17.20', '9.0.0'])
      for (const m of db.index.match('npm', name, v))
        matches.push(JSON.stringify([name, v, m.record.id, m.fixed, m.unparsable, m.record]))
  return {
    sha256: db.sha256,
    records: db.records,
    withdrawn: db.withdrawn,
    lastUpdate: db.lastUpdate,
    ecosystems: db.ecosystems,
    kept: db.index.size,
    matches,
  }
}

test('workers, no workers, and workers that cannot start: the same export, the same answer', async () => {
  const t = await tempDir()
  try {
    for (const zip64 of [false, true]) {
      const file = path.join(t.dir, `all${zip64 ? '64' : ''}.zip`)
      const bytes = makeZip(entries(), { zip64 })
      await writeFile(file, bytes)
      const load = (o: { threads: number; workerUrl?: URL }) =>
        loadOfflineDb(file, 'all.zip', { names: NAMES, ...o })
      const one = await load({ threads: 1 })
      const two = await load({ threads: 2 })
      const broken = await load({ threads: 2, workerUrl: MISSING_WORKER })
      assert.equal(one.sha256, createHash('sha256').update(bytes).digest('hex'), 'the digest is the file’s')
      assert.deepEqual(facts(two), facts(one), `workers (zip64 ${zip64})`)
      assert.deepEqual(facts(broken), facts(one), `fallback (zip64 ${zip64})`)
      // the rules the sequential reader had: the first entry by name wins, withdrawn never kept,
      // an escaped name is the name, the latest date of any record is the export's
      const ids = (db: OfflineDb) => db.index.match('npm', 'lodash', '1.0.0').map((m) => m.record.id)
      assert.ok(!ids(one).includes('DUP-1'), 'DUP-a (nobody) came first by name')
      assert.ok(!ids(one).includes('WD-1'))
      assert.ok(ids(one).includes('ESC-1'))
      assert.equal(one.lastUpdate, '2031-01-01T00:00:00Z')
      assert.ok(one.withdrawn >= 1)
      // the folder reader (sequential, in this thread) is the reference
      const folder = path.join(t.dir, `db${zip64 ? '64' : ''}`)
      await mkdir(folder)
      for (const e of entries()) await writeFile(path.join(folder, e.name), e.data)
      const ref = (await loadOfflineDb(folder, 'db', { names: NAMES })) as OfflineDb
      assert.deepEqual({ ...(facts(one) as object), sha256: '' }, { ...(facts(ref) as object), sha256: '' })
    }
  } finally {
    await t.cleanup()
  }
})

test('a worker that cannot start hands its batches to the loading thread', async () => {
  const zip = makeZip(fixtures.map((d, i) => ({ name: `E${i}.json`, data: d })))
  const list = readZipEntries(zip, zipFailure('x.zip'))
  const meta: number[] = []
  let used = 0
  const parts: Buffer[] = []
  list.forEach((e, k) => {
    parts.push(zip.subarray(e.start, e.start + e.compressedSize))
    meta.push(k, e.method, used, e.compressedSize, e.size, e.crc32)
    used += e.compressedSize
  })
  const batch: ExportBatch = {
    data: Buffer.concat(parts),
    meta: Float64Array.from(meta),
    names: JSON.stringify(list.map((e) => e.name)),
    full: false,
  }
  assert.equal(meta.length, list.length * META)
  const setup = { display: 'x.zip', names: ['lodash'], noteNames: true }
  const pool = new ExportPool(setup, 2, MISSING_WORKER)
  try {
    const results = await Promise.all([pool.run(batch), pool.run(batch)])
    const here = processBatch(setup, batch, false)
    for (const r of results) {
      const rows = typeof r.summaries === 'string' ? JSON.parse(r.summaries) : r.summaries
      assert.deepEqual(rows, here.summaries)
      assert.deepEqual(r.records, here.records)
      assert.equal(r.lastUpdate, here.lastUpdate)
    }
    assert.ok(here.records.length > 0, 'lodash records are kept')
    assert.equal(pool.inThread, 2, 'both batches ran in this thread')
  } finally {
    await pool.close()
  }
  // a worker that starts answers with the same rows (as JSON text)
  const live = new ExportPool(setup, 1)
  try {
    const r = await live.run(batch)
    assert.equal(typeof r.summaries, 'string')
    assert.deepEqual(JSON.parse(r.summaries as string), processBatch(setup, batch, false).summaries)
    assert.equal(live.inThread, 0)
  } finally {
    await live.close()
  }
})

test('the first error is the sequential reader’s: ZIP structure first, then records in name order', async () => {
  const t = await tempDir()
  try {
    const good = entries()
    const file = path.join(t.dir, 'all.zip')
    const first = async (zip: Buffer) => {
      await writeFile(file, zip)
      const got: string[] = []
      for (const o of [{ threads: 1 }, { threads: 2 }, { threads: 2, workerUrl: MISSING_WORKER }]) {
        const e = await loadOfflineDb(file, 'all.zip', { names: NAMES, ...o }).then(
          () => 'no error',
          (e: { code?: string; message?: string }) => `${e.code}: ${e.message}`,
        )
        got.push(e)
      }
      assert.equal(new Set(got).size, 1, got.join('\n'))
      return got[0]!
    }
    // two bad records: the one of the lower name fails the load, wherever it is in the archive
    const bad = [
      { name: 'ZZ-shape.json', data: '{"id": 5, "modified": "2024-01-01T00:00:00Z"}' },
      ...good,
      { name: 'AA-syntax.json', data: '{"id": "X", "modified": "2024-01-01T00:00:00Z",' },
    ]
    assert.match(await first(makeZip(bad)), /^SCAN_EXPORT_INVALID: invalid JSON .*$/)
    assert.match(await first(makeZip(bad.slice(0, -1))), /^SCAN_OSV_RECORD_INVALID: not an OSV record: id/)
    // a damaged local header late in the archive beats a bad record early in it
    const zip = makeZip(bad)
    const list = readZipEntries(zip, zipFailure('all.zip'))
    const last = list[list.length - 2]!
    const local = last.start - 30 - Buffer.byteLength(last.name)
    zip.writeUInt32LE(0x12345678, local)
    assert.equal(
      await first(zip),
      `SCAN_EXPORT_INVALID: not a readable ZIP archive: entry ${last.name} is damaged`,
    )
  } finally {
    await t.cleanup()
  }
})

test('entries far apart (a large file that is not a record between them) read the same', async () => {
  const t = await tempDir()
  try {
    const list = entries()
    const padded = [
      ...list.slice(0, 40),
      // stored: 10 MB in the archive, more than two of the loader's 4 MiB reads
      { name: 'padding.bin', data: Buffer.alloc(10 * 1024 * 1024, 0x61), stored: true },
      ...list.slice(40),
    ]
    const file = path.join(t.dir, 'all.zip')
    await writeFile(file, makeZip(list))
    const plain = await loadOfflineDb(file, 'all.zip', { names: NAMES, threads: 1 })
    await writeFile(file, makeZip(padded))
    for (const threads of [1, 2]) {
      const db = await loadOfflineDb(file, 'all.zip', { names: NAMES, threads })
      assert.deepEqual({ ...(facts(db) as object), sha256: '' }, { ...(facts(plain) as object), sha256: '' })
      assert.equal(db.sha256, createHash('sha256').update(readFileSync(file)).digest('hex'))
    }
  } finally {
    await t.cleanup()
  }
})
