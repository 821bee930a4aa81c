/** The evidence archive: deterministic packing and the safe reader's refusals, each with its own code. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { gunzipSync, gzipSync } from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'
import { packEvidence, readEvidenceArchive } from '../../src/evidence/archive.ts'
import { checkContents, parseManifest, toManifest } from '../../src/evidence/manifest.ts'
import { type ArchiveLimits, DEFAULT_LIMITS } from '../../src/evidence/types.ts'
import { type CraftEntry, craftTar, craftTarGz } from './helpers.ts'

const files = (): Map<string, Buffer> =>
  new Map([
    ['sbom.cdx.json', Buffer.from('{"bomFormat":"CycloneDX"}\n')],
    ['build.json', Buffer.from('{"schemaVersion":1}\n')],
    ['artifacts/app.tgz.sigstore.json', Buffer.from('{}\n')],
  ])

async function codeOf(bytes: Uint8Array, limits: ArchiveLimits = DEFAULT_LIMITS): Promise<string> {
  try {
    await readEvidenceArchive(bytes, limits)
  } catch (e) {
    return `${(e as { exitCode: number }).exitCode} ${(e as { code: string }).code}`
  }
  return 'accepted'
}

function listHeaders(tgz: Buffer): Promise<ReadEntry[]> {
  return new Promise((resolve, reject) => {
    const out: ReadEntry[] = []
    const p = new Parser({})
    p.on('entry', (e: ReadEntry) => {
      out.push(e)
      e.resume()
    })
    p.on('end', () => resolve(out))
    p.on('error', reject)
    p.end(gunzipSync(tgz))
  })
}

test('pack: sorted members, fixed mtime, uid/gid 0, no owner names, 0644, gzip header without time or name', async () => {
  const tgz = packEvidence(files(), 1700000000)
  assert.equal(tgz.readUInt32LE(4), 0, 'gzip MTIME is zero')
  assert.equal(tgz[3]! & 0x08, 0, 'no FNAME in the gzip header')
  assert.equal(tgz[9], 3, 'fixed OS byte')
  const headers = await listHeaders(tgz)
  assert.deepEqual(
    headers.map((h) => h.path),
    ['artifacts/app.tgz.sigstore.json', 'build.json', 'sbom.cdx.json'],
  )
  for (const h of headers) {
    assert.equal(h.mtime?.getTime(), 1700000000 * 1000)
    assert.deepEqual([h.uid, h.gid, h.uname ?? '', h.gname ?? '', h.mode], [0, 0, '', '', 0o644])
    assert.equal(h.type, 'File')
  }
})

test('pack twice (any insertion order) gives byte-identical archives; reading gives the same members', async () => {
  const a = packEvidence(files(), 1700000000)
  const b = packEvidence(new Map([...files()].reverse()), 1700000000)
  assert.ok(a.equals(b))
  assert.ok(!a.equals(packEvidence(files(), 1700000001)), 'the epoch is the only time in the archive')
  const members = await readEvidenceArchive(a, DEFAULT_LIMITS)
  assert.deepEqual(members, files())
})

test('manifest: lists every file with size, sha256 and sha512 SRI; checkContents finds each difference', () => {
  const manifest = toManifest(
    files(),
    [{ path: 'artifacts/app.tgz', data: Buffer.from('x'), included: false }],
    1,
  )
  assert.deepEqual(
    manifest.files.map((f) => f.path),
    ['artifacts/app.tgz.sigstore.json', 'build.json', 'sbom.cdx.json'],
  )
  for (const f of manifest.files) assert.match(f.integrity, /^sha512-/)
  assert.equal(manifest.artifacts[0]!.included, false)
  const parsed = parseManifest(Buffer.from(JSON.stringify(manifest)))
  assert.deepEqual(parsed, manifest)
  assert.deepEqual(checkContents(manifest, files()), [])
  const changed = files()
  changed.set('build.json', Buffer.from('{"schemaVersion":2}\n'))
  changed.delete('sbom.cdx.json')
  changed.set('extra.txt', Buffer.from('x'))
  assert.deepEqual(
    checkContents(manifest, changed).map((f) => [f.code, f.file]),
    [
      ['EVIDENCE_FILE_MODIFIED', 'build.json'],
      ['EVIDENCE_FILE_UNLISTED', 'extra.txt'],
      ['EVIDENCE_FILE_MISSING', 'sbom.cdx.json'],
    ],
  )
  for (const bad of [
    'not json',
    '{"schemaVersion":1}',
    JSON.stringify({ ...manifest, files: [{ path: '../x' }] }),
  ])
    assert.equal((parseManifest(Buffer.from(bad)) as { code: string }).code, 'EVIDENCE_MANIFEST_INVALID')
})

const ok: CraftEntry = { path: 'build.json', data: Buffer.from('{}') }
const unsafeCases: Array<[string, CraftEntry[], string]> = [
  [
    'path traversal',
    [ok, { path: '../../etc/cron.d/x', data: Buffer.from('x') }],
    'EVIDENCE_ENTRY_TRAVERSAL',
  ],
  ['traversal inside a path', [{ path: 'a/../../x', data: Buffer.from('x') }], 'EVIDENCE_ENTRY_TRAVERSAL'],
  ['absolute path', [{ path: '/etc/passwd', data: Buffer.from('x') }], 'EVIDENCE_ENTRY_ABSOLUTE'],
  ['drive letter', [{ path: 'C:/x', data: Buffer.from('x') }], 'EVIDENCE_ENTRY_ABSOLUTE'],
  ['non-canonical path', [{ path: 'a/./b', data: Buffer.from('x') }], 'EVIDENCE_ENTRY_PATH_INVALID'],
  ['backslash path', [{ path: 'a\\b', data: Buffer.from('x') }], 'EVIDENCE_ENTRY_PATH_INVALID'],
  [
    'symlink',
    [ok, { path: 'sbom.cdx.json', type: 'SymbolicLink', linkpath: '/etc/passwd' }],
    'EVIDENCE_ENTRY_SYMLINK',
  ],
  ['hard link', [ok, { path: 'x.json', type: 'Link', linkpath: 'build.json' }], 'EVIDENCE_ENTRY_HARDLINK'],
  ['character device', [{ path: 'dev', type: 'CharacterDevice' }], 'EVIDENCE_ENTRY_DEVICE'],
  ['block device', [{ path: 'dev', type: 'BlockDevice' }], 'EVIDENCE_ENTRY_DEVICE'],
  ['fifo', [{ path: 'pipe', type: 'FIFO' }], 'EVIDENCE_ENTRY_TYPE'],
  ['directory', [{ path: 'artifacts/', type: 'Directory' }], 'EVIDENCE_ENTRY_TYPE'],
  ['duplicate name', [ok, { path: 'build.json', data: Buffer.from('{"x":1}') }], 'EVIDENCE_ENTRY_DUPLICATE'],
]
for (const [name, entries, code] of unsafeCases) {
  test(`safe reader refuses a ${name} (exit 1, ${code})`, async () => {
    assert.equal(await codeOf(craftTarGz(entries)), `1 ${code}`)
  })
}

test('an entry declaring more than the limit is refused from its header, before any data is read', async () => {
  // 300 MiB declared, no data follows: the reader must not wait for (or allocate) it
  const tgz = craftTarGz([{ path: 'sbom.cdx.json', size: 300 * 1024 * 1024 }])
  assert.equal(await codeOf(tgz), '1 EVIDENCE_ENTRY_TOO_LARGE')
})

test('a decompression bomb stops at the total limit; too many members and oversized archives are refused', async () => {
  const small: ArchiveLimits = {
    maxArchiveBytes: 1 << 20,
    maxEntryBytes: 1 << 30,
    maxTotalBytes: 1 << 20,
    maxEntries: 5,
  }
  // 32 MiB of zeros compress to ~32 KiB
  const bomb = craftTarGz([{ path: 'zeros.bin', data: Buffer.alloc(32 << 20) }])
  assert.ok(bomb.length < 1 << 20)
  assert.equal(await codeOf(bomb, small), '1 EVIDENCE_ARCHIVE_TOO_LARGE')
  const many = craftTarGz(Array.from({ length: 6 }, (_, i) => ({ path: `f${i}`, data: Buffer.from('x') })))
  assert.equal(await codeOf(many, small), '1 EVIDENCE_TOO_MANY_ENTRIES')
  assert.equal(await codeOf(bomb, { ...small, maxArchiveBytes: 1000 }), '1 EVIDENCE_ARCHIVE_TOO_LARGE')
  assert.equal(
    await codeOf(bomb, { ...small, maxTotalBytes: 1 << 30, maxEntryBytes: 1 << 20 }),
    '1 EVIDENCE_ENTRY_TOO_LARGE',
  )
})

test('bytes that are not a gzip tar are bad input (exit 2)', async () => {
  const good = craftTar([ok, { path: 'sbom.cdx.json', data: Buffer.alloc(2000, 0x61) }])
  assert.equal(await codeOf(Buffer.from('hello, not an archive')), '2 EVIDENCE_ARCHIVE_INVALID')
  assert.equal(await codeOf(good), '2 EVIDENCE_ARCHIVE_INVALID', 'an uncompressed tar')
  const gz = gzipSync(good)
  assert.equal(await codeOf(gz.subarray(0, gz.length - 20)), '2 EVIDENCE_ARCHIVE_INVALID', 'truncated gzip')
  assert.equal(await codeOf(gzipSync(good.subarray(0, 1200))), '2 EVIDENCE_ARCHIVE_INVALID', 'truncated tar')
  assert.equal(await codeOf(gzipSync(gzipSync(good))), '2 EVIDENCE_ARCHIVE_INVALID', 'nested gzip')
  assert.equal(await codeOf(gzipSync(Buffer.from('garbage'.repeat(200)))), '2 EVIDENCE_ARCHIVE_INVALID')
})

test('writeEvidenceArchive streams artifacts from disk into the bytes packEvidence gives in memory', async () => {
  const { writeEvidenceArchive } = await import('../../src/evidence/archive.ts')
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs')
  const { tmpdir } = await import('node:os')
  const path = await import('node:path')
  const dir = mkdtempSync(path.join(tmpdir(), 'detbuild-evidence-stream-'))
  try {
    const artifact = Buffer.alloc(3 * 1024 * 1024 + 11, 'a')
    const file = path.join(dir, 'app.tgz')
    writeFileSync(file, artifact)
    const target = path.join(dir, 'evidence.tar.gz')
    await writeEvidenceArchive(
      files(),
      [{ path: 'artifacts/app.tgz', file, size: artifact.length }],
      1700000000,
      target,
    )
    const inMemory = packEvidence(new Map([...files(), ['artifacts/app.tgz', artifact]]), 1700000000)
    assert.ok(readFileSync(target).equals(inMemory))
    const members = await readEvidenceArchive(inMemory, DEFAULT_LIMITS)
    assert.ok(members.get('artifacts/app.tgz')?.equals(artifact))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
