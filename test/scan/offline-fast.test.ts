/**
 * The fast offline path: the record scanner never says something JSON.parse would not, the loader
 * keeps exactly the records a full parse would match, batched inflation reads what one-by-one does,
 * and the package index cache is found by content and rebuilt when it does not fit.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdir, readdir, readFile, utimes, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { DetbuildError } from '../../src/errors.ts'
import { runScan, type ScanOptions } from '../../src/scan/index.ts'
import {
  loadOfflineDb,
  type OfflineDb,
  type OfflineDbOptions,
  zipFailure,
} from '../../src/scan/offline-db.ts'
import { assertOsvRecord, OsvIndex } from '../../src/scan/osv-index.ts'
import { nameTokens, type RecordSummary, scanRecord, skimRecord } from '../../src/scan/record-scan.ts'
import { CacheSeal } from '../../src/util/cache-seal.ts'
import { parseJsonText } from '../../src/util/json-parse.ts'
import { silentLogger } from '../../src/util/log.ts'
import { forEachZipEntry, readZipEntries, readZipEntry } from '../../src/util/zip.ts'
import { generatedDir, makeZip, recordsDir, tempDir, writeDirectSbom } from './helpers.ts'

/** The key the index cache tests seal with (a scan takes its own from util/cache-seal.ts's key file). */
const SEAL = new CacheSeal(Buffer.alloc(32, 1), 'run')

/** Writes an index file's body as detbuild would, sealed: the checks behind the seal are what is tested. */
function writeIndex(file: string, body: string): Promise<void> {
  return writeFile(file, SEAL.wrap(body))
}

const fixtureTexts = [recordsDir, generatedDir].flatMap((dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f), 'utf8')),
)

/** What the full parse (the one reader + assertOsvRecord) says about a record: the scanner's truth. */
function truth(bytes: Buffer): RecordSummary | 'invalid' {
  let record: ReturnType<typeof assertOsvRecord>
  try {
    record = assertOsvRecord(parseJsonText(bytes.toString('utf8')), 'x')
  } catch {
    return 'invalid'
  }
  const names: string[] = []
  const ecosystems: string[] = []
  for (const a of record.affected ?? []) {
    if (!a.package) continue
    names.push(a.package.name)
    ecosystems.push(a.package.ecosystem)
  }
  return { id: record.id, modified: record.modified, withdrawn: Boolean(record.withdrawn), names, ecosystems }
}

/** The scanner either abstains (null) or agrees with the full parse. Returns whether it answered. */
function assertSound(bytes: Buffer, label: string): boolean {
  const s = scanRecord(bytes)
  if (s === null) return false
  const t = truth(bytes)
  assert.notEqual(t, 'invalid', `${label}: the scanner accepted a record JSON.parse/assertOsvRecord refuse`)
  assert.deepEqual(s, t, label)
  return true
}

/** Every character as a \uXXXX escape (valid JSON for the same string). */
const escapeAll = (s: string): string =>
  [...s]
    .map((c) =>
      c.codePointAt(0)! > 0xffff
        ? JSON.stringify(c).slice(1, -1)
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
    .join('')

/** Tricky package names: prefixes and suffixes of each other, scoped, needing JSON escapes. */
const NAMES = [
  'lodash',
  'lodash-es',
  'lodash.trim',
  'lo',
  'dash',
  '@scope/lodash',
  '@cypress/request',
  'request',
  'a"quoted"pkg',
  'back\\slash',
  'ünïcode-pkg',
  'tab\tname',
]

function synthetic(id: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    modified: `2024-0${(id.length % 9) + 1}-01T00:00:00Z`,
    summary: `about ${name}`,
    affected: [
      {
        package: { ecosystem: 'npm', name },
        ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '2.0.0' }] }],
      },
    ],
    ...extra,
  }
}

/** Entries of an export that exercises the scanner's shortcuts and the loader's rules. */
function trickyEntries(): Array<{ name: string; data: string }> {
  // unique entry names (the generated withdrawn variant shares its id with a real record)
  const out: Array<{ name: string; data: string }> = fixtureTexts.map((t, i) => {
    const r = JSON.parse(t) as { id: string }
    return { name: `F${String(i).padStart(2, '0')}-${r.id}.json`, data: t }
  })
  NAMES.forEach((name, i) => {
    const plain = JSON.stringify(synthetic(`SYN-PLAIN-${i}`, name))
    out.push({ name: `SYN-PLAIN-${i}.json`, data: plain })
    // the same package name spelled with escapes only
    const escaped = JSON.stringify(synthetic(`SYN-ESC-${i}`, 'PLACEHOLDER')).replace(
      '"PLACEHOLDER"',
      `"${escapeAll(name)}"`,
    )
    out.push({ name: `SYN-ESC-${i}.json`, data: escaped })
    // "/" escaped as "\/" and a pretty layout with CRLF and tabs
    const pretty = JSON.stringify(synthetic(`SYN-PRETTY-${i}`, name), null, '\t')
      .replaceAll('\n', '\r\n')
      .replaceAll('/', '\\/')
    out.push({ name: `SYN-PRETTY-${i}.json`, data: pretty })
    // the name only in prose: must not match
    out.push({
      name: `SYN-PROSE-${i}.json`,
      data: JSON.stringify(
        synthetic(`SYN-PROSE-${i}`, `other-${i}`, { details: `"name": ${JSON.stringify(name)}` }),
      ),
    })
    // withdrawn: counted, never kept
    out.push({
      name: `SYN-WD-${i}.json`,
      data: JSON.stringify(synthetic(`SYN-WD-${i}`, name, { withdrawn: '2024-06-01T00:00:00Z' })),
    })
  })
  // a duplicate id: the first entry (by name) wins even though only the second names a package
  out.push({ name: 'DUP-a.json', data: JSON.stringify(synthetic('DUP-1', 'nobody-uses-this')) })
  out.push({ name: 'DUP-b.json', data: JSON.stringify(synthetic('DUP-1', 'lodash')) })
  // an escaped key: the scanner abstains, the full parse decides
  out.push({
    name: 'SYN-KEY.json',
    data: JSON.stringify(synthetic('SYN-KEY', 'PLACEHOLDER')).replace(
      '"name":"PLACEHOLDER"',
      '"n\\u0061me":"lo"',
    ),
  })
  // a package name in a duplicate key (JSON.parse keeps the last), and odd whitespace around the colon
  out.push({
    name: 'SYN-DUPKEY.json',
    data: JSON.stringify(synthetic('SYN-DUPKEY', 'PLACEHOLDER')).replace(
      '"name":"PLACEHOLDER"',
      '"name":"nobody-uses-this","name" \r\n\t:\t "lodash"',
    ),
  })
  out.push({
    name: 'SYN-SCOPED.json',
    data: JSON.stringify(synthetic('SYN-SCOPED', '@cypress/request')).replace(
      '"@cypress/request"',
      '"@cypress\\/request"',
    ),
  })
  // a newer `modified` in a record nobody matches: still the export's date
  out.push({
    name: 'ZZZ-LATEST.json',
    data: JSON.stringify({ ...synthetic('ZZZ', 'unrelated'), modified: '2030-01-01T00:00:00Z' }),
  })
  return out
}

/** The old semantics: every record parsed, in entry-name order, into one index. */
function referenceIndex(entries: Array<{ name: string; data: string }>): OsvIndex {
  const index = new OsvIndex({ slim: true })
  for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
    index.add(JSON.parse(e.data), e.name)
  return index
}

const VERSIONS = ['0.0.1', '1.0.0', '1.2.5', '2.0.0', '4.17.20', '5.0.0']

/**
 * The loaded export agrees with parsing everything: the same facts, the same matches for every name of
 * interest; for other names (`others`) it holds at most what the reference has (it keeps less).
 */
function assertSameAs(
  db: OfflineDb,
  ref: OsvIndex,
  names: readonly string[],
  label: string,
  others: readonly string[] = [],
): void {
  assert.equal(db.lastUpdate, ref.lastUpdate, `${label}: lastUpdate`)
  assert.equal(db.records, ref.size, `${label}: records`)
  assert.equal(db.withdrawn, ref.withdrawn, `${label}: withdrawn`)
  const rows = (index: OsvIndex, name: string, v: string) =>
    index.match('npm', name, v).map((m) => JSON.stringify([m.record.id, m.fixed, m.unparsable]))
  for (const v of VERSIONS) {
    for (const name of names)
      assert.deepEqual(rows(db.index, name, v), rows(ref, name, v), `${label}: ${name}@${v}`)
    for (const name of others) {
      const want = new Set(rows(ref, name, v))
      for (const got of rows(db.index, name, v)) assert.ok(want.has(got), `${label}: ${name}@${v} ${got}`)
    }
  }
}

test('scanRecord summarises every fixture record exactly as JSON.parse reads it', () => {
  for (const text of fixtureTexts) {
    const r = JSON.parse(text) as { id: string }
    for (const [how, t] of [
      ['as published', text],
      ['minified', JSON.stringify(JSON.parse(text))],
      ['CRLF and tabs', JSON.stringify(JSON.parse(text), null, '\t').replaceAll('\n', '\r\n')],
    ] as const) {
      assert.ok(assertSound(Buffer.from(t), `${r.id} ${how}`), `${r.id} ${how}: takes the fast path`)
    }
  }
  for (const e of trickyEntries()) assertSound(Buffer.from(e.data), e.name)
})

/**
 * The skip rule's two reads agree with the full parse on every record it accepts: `nameTokens` lists
 * (at least) every package name, or abstains; `skimRecord` reads the summary exactly, or abstains.
 */
function assertSkipSound(bytes: Buffer, label: string): void {
  const t = truth(bytes)
  if (t === 'invalid') return
  const tokens = nameTokens(bytes)
  if (tokens !== null) for (const n of t.names) assert.ok(tokens.includes(n), `${label}: ${n} in ${tokens}`)
  const s = skimRecord(bytes)
  if (s !== null) assert.deepEqual(s, t, `${label}: skim`)
}

test('the skip rule: nameTokens lists every package name, skimRecord reads what JSON.parse reads', () => {
  let skimmed = 0
  let listed = 0
  for (const text of fixtureTexts) {
    for (const t of [
      text,
      JSON.stringify(JSON.parse(text)),
      JSON.stringify(JSON.parse(text), null, '\t').replaceAll('\n', '\r\n'),
    ]) {
      assertSkipSound(Buffer.from(t), t.slice(0, 40))
      if (skimRecord(Buffer.from(t)) !== null) skimmed++
      if (nameTokens(Buffer.from(t)) !== null) listed++
    }
  }
  assert.ok(skimmed > fixtureTexts.length && listed > fixtureTexts.length, 'the fixtures take the skip path')
  for (const e of trickyEntries()) assertSkipSound(Buffer.from(e.data), e.name)
  // escapes that could spell a name or a key: no answer, the record is inspected
  const scoped = JSON.stringify(synthetic('S', '@cypress/request')).replaceAll('/', '\\/')
  assert.equal(nameTokens(Buffer.from(scoped)), null)
  const esc = JSON.stringify(synthetic('S', 'PLACEHOLDER')).replace(
    '"PLACEHOLDER"',
    `"${escapeAll('lodash')}"`,
  )
  assert.equal(nameTokens(Buffer.from(esc)), null)
  const detailsU = JSON.stringify(synthetic('S', 'x', { details: 'caf\u00e9' })).replace('é', '\\u00e9')
  assert.equal(nameTokens(Buffer.from(detailsU)), null, 'a \\u escape anywhere')
  assert.equal(nameTokens(Buffer.from('{"package": {"name": 5}}')), null, 'a name that is not a string')
  assert.deepEqual(nameTokens(Buffer.from('{"name" : "b", "x": "name", "y": ["name", "c"]}')), ['b'])
  // mutations of valid records that stay valid: still exact
  const base = fixtureTexts[0]!
  for (let i = 0; i < base.length; i += 7) {
    for (const c of [' ', '"', '}', '[', ',', '\\']) {
      const text = base.slice(0, i) + c + base.slice(i + 1)
      assertSkipSound(Buffer.from(text), `mutation ${i} ${c}`)
    }
  }
})

test('scanRecord never accepts a damaged record: every truncation and deterministic byte mutations', () => {
  const probes = [
    '"',
    '\\',
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '\u0001',
    '\u001f',
    '\n',
    'a',
    '0',
    '-',
    ' ',
    'e',
    'n',
    '\u00e9',
  ]
  let answered = 0
  for (const text of fixtureTexts.slice(0, 6)) {
    const bytes = Buffer.from(JSON.stringify(JSON.parse(text)))
    for (let cut = 0; cut < bytes.length; cut++) assertSound(bytes.subarray(0, cut), `truncated at ${cut}`)
    for (let i = 0; i < 600; i++) {
      const at = (i * 7919) % bytes.length
      const probe = Buffer.from(probes[i % probes.length]!)
      const mutated = Buffer.concat([bytes.subarray(0, at), probe, bytes.subarray(at + 1)])
      if (assertSound(mutated, `byte ${at} → ${JSON.stringify(probes[i % probes.length])}`)) answered++
      const inserted = Buffer.concat([bytes.subarray(0, at), probe, bytes.subarray(at)])
      assertSound(inserted, `inserted at ${at}`)
    }
  }
  assert.ok(answered > 0, 'some harmless mutations still take the fast path')
  assert.equal(scanRecord(Buffer.from('')), null)
  assert.equal(scanRecord(Buffer.from('\ufeff{"id":"A","modified":"x"}')), null, 'a BOM is not JSON')
  assert.equal(scanRecord(Buffer.from('{"id":"A","modified":"x","id":"B"}')), null, 'duplicate keys')
  assert.equal(scanRecord(Buffer.from('{"id":"","modified":"x"}')), null, 'empty id')
  assert.equal(scanRecord(Buffer.from('{"id":"A","modified":"x","affected":{}}')), null)
  assert.equal(scanRecord(Buffer.from('{"id":"A","modified":"x","affected":[{"ranges":[{}]}]}')), null)
  assert.equal(scanRecord(Buffer.from('{"id":"A","modified":"x","withdrawn":true}')), null)
  assert.deepEqual(scanRecord(Buffer.from(' {"modified":"m","id":"A","withdrawn":""} ')), {
    id: 'A',
    modified: 'm',
    withdrawn: false,
    names: [],
    ecosystems: [],
  })
})

test('the prefilter never drops a matching record: zip and folder give what parsing everything gives', async () => {
  const entries = trickyEntries()
  const ref = referenceIndex(entries)
  const t = await tempDir()
  try {
    await writeFile(path.join(t.dir, 'all.zip'), makeZip(entries))
    await mkdir(path.join(t.dir, 'db'))
    for (const e of entries) await writeFile(path.join(t.dir, 'db', e.name), e.data)
    const sets: string[][] = [
      NAMES,
      ...NAMES.map((n) => [n]),
      ['minimist', 'lodash', 'express', '@cypress/request'],
    ]
    for (const names of sets) {
      for (const where of ['all.zip', 'db']) {
        const db = await loadOfflineDb(path.join(t.dir, where), where, { names: new Set(names) })
        assertSameAs(db, ref, names, `${where} ${names.join(',')}`, [
          ...NAMES,
          'minimist',
          'lodash-es',
          'nobody-uses-this',
          'other-0',
        ])
        for (const n of names) {
          // keeps nothing but what names a package of interest
          for (const v of VERSIONS)
            for (const m of db.index.match('npm', n, v))
              assert.ok(m.record.affected?.some((a) => names.includes(a.package?.name ?? '')))
        }
      }
    }
    const all = await loadOfflineDb(path.join(t.dir, 'all.zip'), 'all.zip')
    assertSameAs(all, ref, NAMES, 'without a name filter')
  } finally {
    await t.cleanup()
  }
})

test('batched inflation reads stored entries, wrong central CRCs, and fails on a damaged entry in order', async () => {
  const data = fixtureTexts.map((d, i) => ({ name: `E${String(i).padStart(3, '0')}.json`, data: d }))
  const zip = makeZip(
    data.map((e, i) => ({
      ...e,
      ...(i % 5 === 1 ? { stored: true } : {}),
      ...(i === 3 ? { crc: 12345 } : {}),
    })),
  )
  const entries = readZipEntries(zip, zipFailure('x.zip'))
  const seen: string[] = []
  forEachZipEntry(zip, entries, null, zipFailure('x.zip'), (i, bytes) => {
    seen.push(`${entries[i]!.name}:${bytes.toString('utf8') === data[i]!.data}`)
  })
  assert.deepEqual(
    seen,
    data.map((e) => `${e.name}:true`),
  )
  const some: number[] = []
  forEachZipEntry(zip, entries, [2, 3, 9], zipFailure('x.zip'), (i, bytes) => {
    assert.equal(bytes.toString('utf8'), data[i]!.data)
    some.push(i)
  })
  assert.deepEqual(some, [2, 3, 9])

  // entry 4's compressed size cut short in the central directory: the batch fails, one-by-one names it
  const damaged = readZipEntries(zip, zipFailure('x.zip')).map((e, i) =>
    i === 4 ? { ...e, compressedSize: e.compressedSize - 7 } : e,
  )
  const visited: number[] = []
  assert.throws(
    () => forEachZipEntry(zip, damaged, null, zipFailure('x.zip'), (i) => visited.push(i)),
    (e: unknown) =>
      e instanceof DetbuildError && e.code === 'SCAN_EXPORT_INVALID' && e.message.includes('E004.json'),
  )
  assert.deepEqual(visited, [0, 1, 2, 3], 'entries before the damaged one were read, in order')
  assert.throws(() => readZipEntry(zip, damaged[4]!, zipFailure('x.zip')), { code: 'SCAN_EXPORT_INVALID' })
})

test('a number beyond ±1.8e308 in a record: the scanner abstains, the full parse refuses (a skipped record passes)', async () => {
  const base = JSON.parse(fixtureTexts[0]!) as Record<string, unknown>
  for (const raw of ['1e400', '-1e400', '1E+309', '1'.repeat(310), '-0.5e99999']) {
    const text = JSON.stringify({ ...base, database_specific: { n: '@@' } }).replace('"@@"', raw)
    assert.equal(scanRecord(Buffer.from(text)), null, raw.slice(0, 20))
    assert.equal(truth(Buffer.from(text)), 'invalid', raw.slice(0, 20))
  }
  for (const raw of ['1e308', '-1.5e-400', '1'.repeat(309)]) {
    const text = JSON.stringify({ ...base, database_specific: { n: '@@' } }).replace('"@@"', raw)
    assert.ok(assertSound(Buffer.from(text), raw.slice(0, 20)), `${raw.slice(0, 20)}: takes the fast path`)
  }
  const t = await tempDir()
  try {
    const bad = JSON.stringify({ ...base, id: 'X-1', database_specific: { n: '@@' } }).replace(
      '"@@"',
      '-1e400',
    )
    await writeFile(
      path.join(t.dir, 'all.zip'),
      makeZip([
        ...fixtureTexts.map((d, i) => ({ name: `E${i}.json`, data: d })),
        { name: 'bad.json', data: bad },
      ]),
    )
    // it names no package of the SBOM: skipped, only counted
    const db = await loadOfflineDb(path.join(t.dir, 'all.zip'), 'all.zip', {
      names: new Set(['no-such-package']),
    })
    assert.equal(
      db.records,
      referenceIndex(fixtureTexts.map((d, i) => ({ name: `E${i}.json`, data: d }))).size + 1,
    )
    // one it names is inspected: refused, as before
    const named = (base as { affected: Array<{ package: { name: string } }> }).affected[0]!.package.name
    await assert.rejects(
      loadOfflineDb(path.join(t.dir, 'all.zip'), 'all.zip', { names: new Set([named]) }),
      (e: { code?: string; message?: string }) =>
        e.code === 'SCAN_EXPORT_INVALID' && /the number -1e400 is out of range/.test(e.message ?? ''),
    )
  } finally {
    await t.cleanup()
  }
})

test('a malformed record that names no SBOM package is skipped; one that could matter still fails (exit 2)', async () => {
  const t = await tempDir()
  const zipPath = path.join(t.dir, 'all.zip')
  const load = (names: string[], extra: Partial<OfflineDbOptions> = {}) =>
    loadOfflineDb(zipPath, 'all.zip', { names: new Set(names), ...extra })
  try {
    const good = fixtureTexts.map((d, i) => ({ name: `E${i}.json`, data: d }))
    const raw = (id: string, name: string) =>
      `{"id": "${id}", "modified": "2024-01-01T00:00:00Z", "details": "raw\tcontrol", "affected": [{"package": {"ecosystem": "npm", "name": "${name}"}}]}`
    const bad = { name: 'bad.json', data: raw('X', 'left-pad') }
    await writeFile(zipPath, makeZip([...good, bad]))
    // names no package of the SBOM: skipped without validation, still counted
    const skipped = await load(['minimist'])
    assert.equal(skipped.records, referenceIndex(good).size + 1)
    assert.equal(
      skipped.lastUpdate,
      referenceIndex([...good, { name: 'z.json', data: raw('X', 'left-pad').replace('\t', ' ') }]).lastUpdate,
    )
    // names one (in any letter case): inspected, refused as before
    for (const names of [['left-pad'], ['LEFT-PAD', 'minimist']])
      await assert.rejects(load(names), { code: 'SCAN_EXPORT_INVALID' }, names.join())
    // takes its id from a later record that is inspected: read again in full, and refused
    await writeFile(
      zipPath,
      makeZip([
        ...good,
        { name: 'a-bad.json', data: raw('DUP', 'left-pad') },
        { name: 'b.json', data: raw('DUP', 'minimist').replace('\t', ' ') },
      ]),
    )
    await assert.rejects(
      load(['minimist']),
      (e: { code?: string; file?: string }) =>
        e.code === 'SCAN_EXPORT_INVALID' && e.file === 'all.zip:a-bad.json',
    )
    // the same with a well-formed first record: it wins, as it always did
    await writeFile(
      zipPath,
      makeZip([
        ...good,
        { name: 'a-good.json', data: raw('DUP', 'left-pad').replace('\t', ' ') },
        { name: 'b.json', data: raw('DUP', 'minimist').replace('\t', ' ') },
      ]),
    )
    const dup = await load(['minimist'])
    assert.ok(dup.index.match('npm', 'minimist', '1.0.0').every((m) => m.record.id !== 'DUP'))
    // the facts it cannot be counted without (here: no id) still fail the scan
    await writeFile(
      zipPath,
      makeZip([...good, { name: 'bad.json', data: '{"modified": "2024-01-01T00:00:00Z"}' }]),
    )
    await assert.rejects(load(['minimist']), { code: 'SCAN_OSV_RECORD_INVALID' })
    // the index cache, built by a scan that skipped the record, sends a scan that needs it to inspect it
    await writeFile(zipPath, makeZip([...good, bad]))
    const cache = { indexCacheDir: path.join(t.dir, 'cache'), indexCacheMinEntries: 0, indexCacheSeal: SEAL }
    assert.equal((await load(['minimist'], cache)).indexCache, 'written')
    assert.equal((await load(['minimist'], cache)).indexCache, 'hit')
    await assert.rejects(load(['left-pad'], cache), { code: 'SCAN_EXPORT_INVALID' })
    await assert.rejects(load(['left-pad']), { code: 'SCAN_EXPORT_INVALID' })
  } finally {
    await t.cleanup()
  }
})

test('the package index cache: found by content (not time), rebuilt when the export or the file changes', async () => {
  const t = await tempDir()
  try {
    const entries = trickyEntries()
    const zipPath = path.join(t.dir, 'all.zip')
    const cacheDir = path.join(t.dir, 'cache')
    await writeFile(zipPath, makeZip(entries))
    const names = new Set(['lodash', '@scope/lodash', 'minimist', 'a"quoted"pkg'])
    const opts = { names, indexCacheDir: cacheDir, indexCacheMinEntries: 0, indexCacheSeal: SEAL }
    const check = (db: OfflineDb, ref: OsvIndex, label: string) =>
      assertSameAs(db, ref, [...names], label, ['lodash-es', 'express'])

    const first = await loadOfflineDb(zipPath, 'all.zip', opts)
    assert.equal(first.indexCache, 'written')
    assert.deepEqual(await readdir(cacheDir), [`${first.sha256}.json`])
    const ref = referenceIndex(entries)
    check(first, ref, 'first')

    const second = await loadOfflineDb(zipPath, 'all.zip', opts)
    assert.equal(second.indexCache, 'hit')
    check(second, ref, 'cached')
    // other packages of interest come from the same index
    const other = await loadOfflineDb(zipPath, 'all.zip', { ...opts, names: new Set(['express', 'lo']) })
    assert.equal(other.indexCache, 'hit')
    assertSameAs(other, ref, ['express', 'lo'], 'cached, other names')

    // a new file time alone changes nothing
    await utimes(zipPath, new Date('2001-01-01T00:00:00Z'), new Date('2001-01-01T00:00:00Z'))
    assert.equal((await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache, 'hit')

    // new content with the same number of entries: another digest, a new index; the old one goes
    const changed = entries.map((e) =>
      e.name === 'SYN-PROSE-0.json'
        ? { name: e.name, data: JSON.stringify(synthetic('SYN-NEW', 'lodash')) }
        : e,
    )
    await writeFile(zipPath, makeZip(changed))
    const third = await loadOfflineDb(zipPath, 'all.zip', opts)
    assert.equal(third.indexCache, 'written')
    assert.notEqual(third.sha256, first.sha256)
    check(third, referenceIndex(changed), 'changed export')
    assert.ok(third.index.match('npm', 'lodash', '1.0.0').some((m) => m.record.id === 'SYN-NEW'))
    assert.deepEqual(await readdir(cacheDir), [`${third.sha256}.json`])

    // a damaged or foreign index file is ignored and rebuilt
    const file = path.join(cacheDir, `${third.sha256}.json`)
    await writeIndex(file, '{"format": 1, "exportSha256": "')
    assert.equal((await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache, 'written')
    const good = JSON.parse(SEAL.unwrap(await readFile(file, 'utf8'))!) as Record<string, unknown>
    await writeIndex(file, JSON.stringify({ ...good, exportSha256: first.sha256 }))
    assert.equal((await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache, 'written')
    // an index of an older format (no per-ecosystem counts, records checked less strictly) is rebuilt
    assert.equal(good.format, 5)
    assert.ok(Array.isArray(good.ecosystems))
    await writeIndex(file, JSON.stringify({ ...good, format: 1 }))
    assert.equal((await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache, 'written')
    // the index is read with JSON.parse alone: a number beyond ±1.8e308 (Infinity once parsed) and a
    // value nested a million deep are refused by the type checks, never walked: rebuilt
    const goodText = JSON.stringify(good)
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`
    for (const [from, to] of [
      [/"records":\d+/, '"records":1e400'],
      [/"withdrawn":\d+/, '"withdrawn":-1e400'],
      [/"names":\[/, `"names":[${deep},`],
      [/"lastUpdate":[^,]*,/, `"lastUpdate":${deep},`],
    ] as const) {
      const bad = goodText.replace(from, to)
      assert.notEqual(bad, goodText, `${from} is in the index file`)
      await writeIndex(file, bad)
      assert.equal(
        (await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache,
        'written',
        `${to.slice(0, 20)}`,
      )
    }
    const hit = await loadOfflineDb(zipPath, 'all.zip', opts)
    assert.equal(hit.indexCache, 'hit')
    assert.deepEqual(hit.ecosystems, third.ecosystems, 'the cached counts are the counted ones')
    // an entry past the export's end, or names out of order (a lookup could miss one): rebuilt
    const list = Buffer.from(good.list as string, 'base64')
    list.writeUInt32LE(999999, 0)
    await writeIndex(file, JSON.stringify({ ...good, list: list.toString('base64') }))
    const rebuilt = await loadOfflineDb(zipPath, 'all.zip', opts)
    assert.equal(rebuilt.indexCache, 'written')
    check(rebuilt, referenceIndex(changed), 'rebuilt')
    const cachedNames = good.names as string[]
    assert.ok(cachedNames.length > 2 && cachedNames.includes('lodash'))
    await writeIndex(file, JSON.stringify({ ...good, names: [...cachedNames].reverse() }))
    assert.equal((await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache, 'written')
    check(await loadOfflineDb(zipPath, 'all.zip', opts), referenceIndex(changed), 'after unordered names')

    // an index that lists no entry for any package is well-formed: planted in the folder (a restored CI
    // cache), only the seal keeps it from hiding every record
    const empty = JSON.stringify({
      ...good,
      names: [],
      starts: Buffer.alloc(4).toString('base64'),
      list: '',
      always: [],
    })
    for (const planted of [`${empty}\n`, new CacheSeal(Buffer.alloc(32, 2), 'run').wrap(empty)]) {
      await writeFile(file, planted)
      const db = await loadOfflineDb(zipPath, 'all.zip', opts)
      assert.equal(db.indexCache, 'written')
      check(db, referenceIndex(changed), 'after a planted index')
    }
    await writeIndex(file, empty)
    const hidden = await loadOfflineDb(zipPath, 'all.zip', opts)
    assert.equal(hidden.indexCache, 'hit')
    assert.equal(hidden.index.match('npm', 'lodash', '1.0.0').length, 0, 'sealed, it would hide every record')
    await writeFile(file, '')
    assert.equal((await loadOfflineDb(zipPath, 'all.zip', opts)).indexCache, 'written')

    // small exports and runs without a name filter do not use the cache
    assert.equal(
      (await loadOfflineDb(zipPath, 'all.zip', { names, indexCacheDir: cacheDir, indexCacheSeal: SEAL }))
        .indexCache,
      'off',
    )
    assert.equal(
      (
        await loadOfflineDb(zipPath, 'all.zip', {
          indexCacheDir: cacheDir,
          indexCacheMinEntries: 0,
          indexCacheSeal: SEAL,
        })
      ).indexCache,
      'off',
    )
  } finally {
    await t.cleanup()
  }
})

test('detbuild scan with the index cache: the same bytes on the first, cached and uncached runs', async () => {
  const t = await tempDir()
  try {
    const entries = fixtureTexts.map((d) => ({
      name: `${(JSON.parse(d) as { id: string }).id}.json`,
      data: d,
    }))
    for (let i = 0; entries.length < 1100; i++)
      entries.push({
        name: `FILL-${i}.json`,
        data: JSON.stringify(synthetic(`FILL-${i}`, `filler-${i % 50}`)),
      })
    await writeFile(path.join(t.dir, 'all.zip'), makeZip(entries))
    const pkgs = [
      { name: 'minimist', version: '1.2.5' },
      { name: 'lodash', version: '4.17.20' },
      { name: 'filler-3', version: '1.0.0' },
      { name: 'express', version: '4.17.1' },
    ]
    await writeDirectSbom(path.join(t.dir, 'sbom.json'), pkgs)
    const options = (cacheDir: string | null, out: string): ScanOptions => ({
      cwd: t.dir,
      out: path.join(t.dir, out),
      sbom: 'sbom.json',
      offlineDb: 'all.zip',
      cacheDir,
      failOn: null,
      omitDev: false,
      env: { SOURCE_DATE_EPOCH: '1700000000' },
      now: new Date('2026-01-01T00:00:00Z'),
      log: silentLogger,
    })
    const cache = path.join(t.dir, 'cache')
    const runs = [
      await runScan(options(null, 'a')),
      await runScan(options(cache, 'b')),
      await runScan(options(cache, 'c')),
    ]
    assert.equal((await readdir(path.join(cache, 'offline-index'))).length, 1)
    assert.ok(runs[0]!.report.findings.length >= 3)
    for (const name of runs[0]!.files) {
      const a = await readFile(path.join(t.dir, 'a', name))
      assert.ok(a.equals(await readFile(path.join(t.dir, 'b', name))), `${name}: first cached run`)
      assert.ok(a.equals(await readFile(path.join(t.dir, 'c', name))), `${name}: cached run`)
    }
  } finally {
    await t.cleanup()
  }
})

test('entry names: non-ASCII and upper-case `.JSON` names are ordered by code point, as before', async () => {
  const t = await tempDir()
  try {
    const rec = (id: string, name: string) => JSON.stringify(synthetic(id, name))
    // archive order unlike name order; 'Z' (U+005A) < 'é' (U+00E9) < 'ü' (U+00FC): the first wins its id
    const entries = [
      { name: 'ü.json', data: rec('DUP', 'lodash'), flags: 0x800 },
      { name: 'é.JSON', data: rec('DUP', 'lodash'), flags: 0x800 },
      { name: 'Z.json', data: rec('DUP', 'nobody-uses-this') },
      { name: 'b.Json', data: rec('B', 'lodash') },
      { name: 'not-a-record.txt', data: 'x' },
    ]
    await writeFile(path.join(t.dir, 'all.zip'), makeZip(entries))
    const db = await loadOfflineDb(path.join(t.dir, 'all.zip'), 'all.zip', { names: new Set(['lodash']) })
    assert.equal(db.records, 2)
    assert.deepEqual(
      db.index.match('npm', 'lodash', '1.0.0').map((m) => m.record.id),
      ['B'],
      'Z.json took the id DUP',
    )
    // without Z.json, é.JSON comes before ü.json
    await writeFile(path.join(t.dir, 'all.zip'), makeZip(entries.filter((e) => e.name !== 'Z.json')))
    const two = await loadOfflineDb(path.join(t.dir, 'all.zip'), 'all.zip', { names: new Set(['lodash']) })
    assert.deepEqual(
      two.index.match('npm', 'lodash', '1.0.0').map((m) => m.record.id),
      ['B', 'DUP'],
    )
  } finally {
    await t.cleanup()
  }
})
