/**
 * Offline exports fail closed: an export with no usable npm record, an unreadable one, one older than
 * --max-db-age, or one with a type-confused record never yields a clean scan; vulns.json says what the
 * export held (digest, records per ecosystem, newest `modified`).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { main } from '../../src/cli/main.ts'
import { WorkspaceFiles } from '../../src/workspace/index.ts'
import { makeZip, recordsDir, tempDir, writeDirectSbom } from './helpers.ts'

const NOW = new Date('2026-01-01T00:00:00Z')

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const code = await main(argv, {
    env: { SOURCE_DATE_EPOCH: '1700000000' },
    cwd: '/',
    stdout: (t) => {
      out += t
    },
    stderr: (t) => {
      err += t
    },
    color: false,
    now: () => NOW,
  })
  return { code, out, err }
}

const readJson = async (file: string): Promise<any> => JSON.parse(await readFile(file, 'utf8'))

const PKGS = [
  { name: 'minimist', version: '1.2.5' },
  { name: 'lodash', version: '4.17.20' },
  { name: '@cypress/request', version: '2.88.11' },
]

/** A project with an SBOM of three npm packages; `scan` runs detbuild scan against `db` in it. */
async function project(): Promise<{
  dir: string
  vulns: () => Promise<any>
  scan: (db: string, ...more: string[]) => Promise<{ code: number; out: string; err: string }>
  cleanup: () => Promise<void>
}> {
  const t = await tempDir()
  await writeDirectSbom(path.join(t.dir, 'sbom.json'), PKGS)
  return {
    dir: t.dir,
    vulns: () => readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulns)),
    scan: (db, ...more) => run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', db, ...more]),
    cleanup: t.cleanup,
  }
}

const realRecords = async (): Promise<Array<{ name: string; data: Buffer }>> =>
  Promise.all(
    (await readdir(recordsDir))
      .sort()
      .map(async (f) => ({ name: f, data: await readFile(path.join(recordsDir, f)) })),
  )

/** A minimal record of another ecosystem (synthetic: only its ecosystem matters here). */
const otherRecord = (id: string, ecosystem: string, name: string): string =>
  JSON.stringify({
    id,
    modified: '2025-03-01T00:00:00Z',
    affected: [
      { package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }] }] },
    ],
  })

test('an empty folder is not a clean scan: exit 3, one line saying what the export holds', async () => {
  const p = await project()
  try {
    await mkdir(path.join(p.dir, 'empty'))
    const r = await p.scan('empty')
    assert.equal(r.code, 3)
    assert.match(
      r.out,
      /^SCAN_EXPORT_NO_RECORDS: export empty holds 0 npm records \(records: none\); 3 npm packages unchecked$/m,
    )
    assert.doesNotMatch(r.out, /no known vulnerabilities/)
    const v = await p.vulns()
    assert.equal(v.complete, false)
    assert.equal(v.source.problem.code, 'SCAN_EXPORT_NO_RECORDS')
    assert.deepEqual(v.source.records, {})
    assert.equal(v.source.lastUpdate, null)
    assert.equal(v.componentsChecked, 0)
    assert.deepEqual(v.unchecked, [
      'pkg:npm/%40cypress/request@2.88.11',
      'pkg:npm/lodash@4.17.20',
      'pkg:npm/minimist@1.2.5',
    ])
    assert.equal(
      v.uncheckedReasons['pkg:npm/lodash@4.17.20'],
      'export empty holds 0 npm records (records: none)',
    )
    const md = await readFile(path.join(p.dir, '.detbuild', WorkspaceFiles.vulnsMarkdown), 'utf8')
    assert.match(md, /SCAN_EXPORT_NO_RECORDS/)
    const json = await p.scan('empty', '--json')
    assert.equal(json.code, 3)
    assert.equal(JSON.parse(json.out).source.problem.code, 'SCAN_EXPORT_NO_RECORDS')
  } finally {
    await p.cleanup()
  }
})

test('a folder of only PyPI (and Go) records: exit 3, the line names what it holds', async () => {
  const p = await project()
  try {
    await mkdir(path.join(p.dir, 'pypi', 'sub'), { recursive: true })
    await writeFile(path.join(p.dir, 'pypi', 'PYSEC-1.json'), otherRecord('PYSEC-1', 'PyPI', 'requests'))
    await writeFile(path.join(p.dir, 'pypi', 'PYSEC-2.json'), otherRecord('PYSEC-2', 'PyPI', 'lodash'))
    await writeFile(path.join(p.dir, 'pypi', 'sub', 'GO-1.json'), otherRecord('GO-1', 'Go', 'example.com/m'))
    const r = await p.scan('pypi')
    assert.equal(r.code, 3)
    assert.match(r.out, /export pypi holds 0 npm records \(records: Go 1, PyPI 2\); 3 npm packages unchecked/)
    const v = await p.vulns()
    assert.deepEqual(v.source.records, { Go: 1, PyPI: 2 })
    assert.equal(v.source.lastUpdate, '2025-03-01T00:00:00Z')
    assert.deepEqual(v.findings, [], 'a PyPI record named like an npm package is not an npm finding')
  } finally {
    await p.cleanup()
  }
})

test('a zip of non-JSON entries holds no records: exit 3', async () => {
  const p = await project()
  try {
    await writeFile(
      path.join(p.dir, 'all.zip'),
      makeZip([
        { name: 'README.txt', data: 'not a record' },
        {
          name: 'GHSA-xvch-5gv4-984h.json.bak',
          data: await readFile(path.join(recordsDir, 'GHSA-xvch-5gv4-984h.json')),
        },
      ]),
    )
    const r = await p.scan('all.zip', '--json')
    assert.equal(r.code, 3)
    const v = JSON.parse(r.out)
    assert.equal(v.source.problem.code, 'SCAN_EXPORT_NO_RECORDS')
    assert.match(v.source.problem.message, /^export all\.zip holds 0 npm records \(records: none\)/)
    assert.equal(v.complete, false)
  } finally {
    await p.cleanup()
  }
})

test('record names are matched ignoring case (.JSON), in a folder and in a zip', async () => {
  const p = await project()
  try {
    const records = await realRecords()
    await mkdir(path.join(p.dir, 'upper'))
    for (const r of records)
      await writeFile(path.join(p.dir, 'upper', r.name.replace(/\.json$/, '.JSON')), r.data)
    await writeFile(
      path.join(p.dir, 'upper.zip'),
      makeZip(records.map((r) => ({ name: r.name.replace(/\.json$/, '.Json'), data: r.data }))),
    )
    const ids = (v: any): string[] => v.findings.map((f: any) => `${f.name} ${f.id}`)
    // worst first (critical, high, then by score and id)
    const expected = [
      'minimist GHSA-xvch-5gv4-984h',
      'lodash GHSA-35jh-r3h4-6jhm',
      '@cypress/request GHSA-p8p7-x288-28g6',
      'lodash GHSA-29mw-wpgm-hmr9',
    ]
    for (const db of ['upper', 'upper.zip']) {
      const r = await p.scan(db)
      assert.equal(r.code, 0, `${db}: ${r.out}${r.err}`)
      const v = await p.vulns()
      assert.deepEqual(ids(v), expected, db)
      assert.equal(v.source.records.npm, records.length)
    }
  } finally {
    await p.cleanup()
  }
})

test('an unreadable export is bad input (exit 2), a missing one too', async () => {
  const p = await project()
  try {
    // a symlink to itself: stat fails with ELOOP, whoever runs the test (root reads through chmod 000)
    await symlink('loop', path.join(p.dir, 'loop'))
    const r = await p.scan('loop', '--json')
    assert.equal(r.code, 2)
    const e = JSON.parse(r.out).error
    assert.equal(e.code, 'SCAN_EXPORT_UNREADABLE')
    assert.equal(e.file, 'loop')
    assert.match(e.message, /ELOOP/)
    // a record file inside a folder that cannot be read
    await mkdir(path.join(p.dir, 'db'))
    await symlink('x.json', path.join(p.dir, 'db', 'x.json'))
    await writeFile(
      path.join(p.dir, 'db', 'GHSA-xvch-5gv4-984h.json'),
      await readFile(path.join(recordsDir, 'GHSA-xvch-5gv4-984h.json')),
    )
    await mkdir(path.join(p.dir, 'db', 'sub.json'))
    const text = await p.scan('db')
    assert.equal(text.code, 0, 'symlinks are not followed, folders named .json are folders')
    const missing = await p.scan('nope', '--json')
    assert.equal(missing.code, 2)
    assert.equal(JSON.parse(missing.out).error.code, 'SCAN_EXPORT_MISSING')
    const plain = await p.scan('loop')
    assert.equal(plain.code, 2)
    assert.equal(plain.err.trim().split('\n').length, 1, 'one line, no stack trace')
    assert.match(plain.err, /loop: OSV export cannot be read \(ELOOP\)/)
  } finally {
    await p.cleanup()
  }
})

test('vulns.json records the export digest, its records per ecosystem and its newest modified', async () => {
  const p = await project()
  try {
    const records = await realRecords()
    const entries = [
      ...records,
      { name: 'PYSEC-1.json', data: Buffer.from(otherRecord('PYSEC-1', 'PyPI', 'requests')) },
      {
        name: 'MULTI.json',
        data: Buffer.from(
          JSON.stringify({
            id: 'MULTI-1',
            modified: '2020-01-01T00:00:00Z',
            affected: [
              { package: { ecosystem: 'npm', name: 'nobody' } },
              { package: { ecosystem: 'Debian:12', name: 'node-nobody' } },
              { package: { ecosystem: 'Debian:11', name: 'node-nobody' } },
            ],
          }),
        ),
      },
    ]
    const newest = [...records.map((r) => JSON.parse(r.data.toString()).modified), '2025-03-01T00:00:00Z']
      .sort()
      .at(-1)
    const zip = makeZip(entries)
    await writeFile(path.join(p.dir, 'all.zip'), zip)
    assert.equal((await p.scan('all.zip')).code, 0)
    const z = await p.vulns()
    assert.equal(z.source.exportSha256, createHash('sha256').update(zip).digest('hex'))
    // a record counts once per ecosystem it names (Debian:12 and Debian:11 are Debian)
    assert.deepEqual(z.source.records, { Debian: 1, PyPI: 1, npm: records.length + 1 })
    assert.equal(z.source.lastUpdate, newest)

    await mkdir(path.join(p.dir, 'db', 'nested'), { recursive: true })
    for (const e of entries)
      await writeFile(path.join(p.dir, 'db', e.name === 'MULTI.json' ? 'nested/MULTI.json' : e.name), e.data)
    await writeFile(path.join(p.dir, 'db', 'notes.txt'), 'ignored')
    assert.equal((await p.scan('db')).code, 0)
    const d = await p.vulns()
    // the folder digest: sha256 over "<relative name>\0<sha256 of the file>\n", names sorted by code point
    const rels = entries.map((e) => (e.name === 'MULTI.json' ? 'nested/MULTI.json' : e.name)).sort()
    const digest = createHash('sha256')
    for (const rel of rels)
      digest.update(
        `${rel}\u0000${createHash('sha256')
          .update(await readFile(path.join(p.dir, 'db', rel)))
          .digest('hex')}\n`,
      )
    assert.equal(d.source.exportSha256, digest.digest('hex'))
    assert.deepEqual(d.source.records, z.source.records)
    assert.equal(d.source.lastUpdate, newest)
    assert.deepEqual(d.findings, z.findings)
    // a changed record changes the folder digest
    await writeFile(path.join(p.dir, 'db', 'PYSEC-1.json'), otherRecord('PYSEC-1', 'PyPI', 'requests2'))
    await p.scan('db')
    assert.notEqual((await p.vulns()).source.exportSha256, d.source.exportSha256)
  } finally {
    await p.cleanup()
  }
})

test('--max-db-age: passes on fresh data, fails closed (exit 3, SCAN_EXPORT_STALE) on older data', async () => {
  const p = await project()
  try {
    // the newest real record fixture is from 2024–2025; detbuild's clock says 2026-01-01
    const v0 = (await p.scan(recordsDir)).code
    assert.equal(v0, 0)
    const newest = Date.parse((await p.vulns()).source.lastUpdate)
    const ageDays = Math.floor((NOW.getTime() - newest) / 86_400_000)
    assert.ok(ageDays > 2, `fixture data is ${ageDays} days old`)

    const pass = await p.scan(recordsDir, '--max-db-age', String(ageDays + 1))
    assert.equal(pass.code, 0)
    assert.equal((await p.vulns()).source.problem, undefined)

    const fail = await p.scan(recordsDir, '--max-db-age', String(ageDays - 1), '--json')
    assert.equal(fail.code, 3)
    const v = JSON.parse(fail.out)
    assert.equal(v.source.problem.code, 'SCAN_EXPORT_STALE')
    assert.match(v.source.problem.message, new RegExp(`older than --max-db-age ${ageDays - 1}`))
    assert.equal(v.complete, false)
    assert.equal(v.unchecked.length, PKGS.length)
    assert.ok(v.findings.length >= 3, 'what the old data knows is still reported')
    const text = await p.scan(recordsDir, '--max-db-age', String(ageDays - 1))
    assert.match(text.out, /^SCAN_EXPORT_STALE: export records is older than --max-db-age/m)

    for (const bad of ['0', '-1', '1.5', 'soon']) {
      const r = await p.scan(recordsDir, '--max-db-age', bad, '--json')
      assert.equal(r.code, 2, bad)
      assert.equal(JSON.parse(r.out).error.code, 'SCAN_USAGE')
    }
    const online = await run(['scan', '-C', p.dir, '--sbom', 'sbom.json', '--max-db-age', '5', '--json'])
    assert.equal(online.code, 2)
    assert.equal(JSON.parse(online.out).error.code, 'SCAN_USAGE')
  } finally {
    await p.cleanup()
  }
})

/** What is read from a record that names no SBOM package (record-scan.ts, skimRecord); the rest is skipped. */
const skimReads = (at: string): boolean =>
  ['id', 'modified', 'withdrawn', 'affected'].includes(at) || /^affected\[\d+\]\.package/.test(at)

test('a type-confused record field is bad input (exit 2) naming the file and the JSON path', async () => {
  const p = await project()
  try {
    const minimist = JSON.parse(await readFile(path.join(recordsDir, 'GHSA-xvch-5gv4-984h.json'), 'utf8'))
    const other = JSON.parse(await readFile(path.join(recordsDir, 'GHSA-qw6h-vgh9-j6wx.json'), 'utf8'))
    const cases: Array<[string, (r: any) => void, string]> = [
      ['references an object', (r) => (r.references = { url: 'x' }), 'references'],
      ['affected an object', (r) => (r.affected = r.affected[0]), 'affected'],
      ['id a number', (r) => (r.id = 42), 'id'],
      ['a range without type', (r) => delete r.affected[0].ranges[0].type, 'affected[0].ranges[0].type'],
      [
        'an event version a number',
        (r) => (r.affected[0].ranges[0].events[0].introduced = 0),
        'affected[0].ranges[0].events[0].introduced',
      ],
      ['a package name a number', (r) => (r.affected[0].package.name = 1), 'affected[0].package.name'],
      ['aliases a string', (r) => (r.aliases = 'CVE-1'), 'aliases'],
      ['a reference url missing', (r) => delete r.references[0].url, 'references[0].url'],
      ['severity a string', (r) => (r.severity = 'HIGH'), 'severity'],
      ['withdrawn true', (r) => (r.withdrawn = true), 'withdrawn'],
    ]
    for (const [label, mutate, at] of cases) {
      // in a record the SBOM needs (parsed in full) and in one it does not (the byte-level fast path)
      for (const base of [minimist, other]) {
        const bad = structuredClone(base)
        mutate(bad)
        const records = (await realRecords()).filter((r) => !r.name.startsWith(base.id))
        await writeFile(
          path.join(p.dir, 'all.zip'),
          makeZip([...records, { name: 'x/BAD.json', data: JSON.stringify(bad) }]),
        )
        const r = await p.scan('all.zip', '--json')
        // a record the SBOM does not need is skipped, not validated: only the fields the export-wide
        // counts read (id, modified, withdrawn, affected[].package) still fail the scan there
        if (base === other && !skimReads(at)) {
          assert.equal(r.code, 0, `${label} (${base.id}): skipped`)
          continue
        }
        assert.equal(r.code, 2, `${label} (${base.id})`)
        const e = JSON.parse(r.out).error
        assert.equal(e.code, 'SCAN_OSV_RECORD_INVALID', label)
        assert.equal(e.file, 'all.zip:x/BAD.json', label)
        assert.equal(e.details.path, at, label)
        assert.ok(e.message.includes(at), `${label}: ${e.message}`)
      }
    }
    // the same in a folder: the file is named
    await mkdir(path.join(p.dir, 'db'))
    await writeFile(path.join(p.dir, 'db', 'BAD.json'), JSON.stringify({ ...minimist, references: 'x' }))
    const r = await p.scan('db')
    assert.equal(r.code, 2)
    assert.match(r.err, /db\/BAD\.json: not an OSV record: references must be an array/)
  } finally {
    await p.cleanup()
  }
})

test('a long unchecked list is cut in the summary, never in vulns.json', async () => {
  const t = await tempDir()
  try {
    const many = Array.from({ length: 60 }, (_, i) => ({
      name: `pkg-${String(i).padStart(2, '0')}`,
      version: '1.0.0',
    }))
    await writeDirectSbom(path.join(t.dir, 'sbom.json'), many)
    await mkdir(path.join(t.dir, 'empty'))
    const r = await run(['scan', '-C', t.dir, '--sbom', 'sbom.json', '--offline-db', 'empty'])
    assert.equal(r.code, 3)
    assert.match(r.out, /^ {2}pkg:npm\/pkg-49@1\.0\.0: /m)
    assert.doesNotMatch(r.out, /pkg-50@/)
    assert.match(r.out, /^ {2}… and 10 more: every one is listed in vulns\.json$/m)
    const v = await readJson(path.join(t.dir, '.detbuild', WorkspaceFiles.vulns))
    assert.equal(v.unchecked.length, 60)
  } finally {
    await t.cleanup()
  }
})

test('an export ZIP over --max-input-bytes is refused before it is read (exit 2, INPUT_TOO_LARGE)', async () => {
  const p = await project()
  try {
    const records = await realRecords()
    await writeFile(path.join(p.dir, 'all.zip'), makeZip(records))
    const ok = await p.scan('all.zip')
    assert.equal(ok.code, 0, ok.err)
    const r = await run([
      '--max-input-bytes',
      '5000',
      'scan',
      '-C',
      p.dir,
      '--sbom',
      'sbom.json',
      '--offline-db',
      'all.zip',
    ])
    assert.equal(r.code, 2, r.err)
    assert.match(r.err, /\[INPUT_TOO_LARGE\]: .*all\.zip: \d+ bytes is over the 5000-byte input limit/)
  } finally {
    await p.cleanup()
  }
})
