/**
 * util/zip.ts, the one ZIP reader behind the build's archive normalizer and the offline OSV export:
 * ZIP64 for both, and every hostile-input check either reader had, through both callers' error codes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { readZipEntries as readBuildZip } from '../../src/builder/archive.ts'
import { DetbuildError } from '../../src/errors.ts'
import { zipFailure } from '../../src/scan/offline-db.ts'
import { forEachZipEntry, readZipEntries, readZipEntry, type ZipFail } from '../../src/util/zip.ts'
import { makeZip } from '../scan/helpers.ts'

type Member = Parameters<typeof makeZip>[0][number] & { data: Buffer }

const members: Member[] = [
  { name: 'a.json', data: Buffer.from('{"id":"A"}'.repeat(50)) },
  { name: 'dir/b.json', data: Buffer.from('stored bytes'), stored: true },
  { name: 'é.txt', data: Buffer.from('utf-8 name'), flags: 0x800 },
]

const fail: ZipFail = (why) => {
  throw new Error(why)
}

test('ZIP64 archives read the same as plain ones, for the OSV export and for the build normalizer', () => {
  for (const zip64 of [false, true]) {
    const zip = makeZip(members, { zip64 })
    const entries = readZipEntries(zip, fail)
    assert.deepEqual(
      entries.map((e) => e.name),
      members.map((m) => m.name),
    )
    const seen: string[] = []
    forEachZipEntry(zip, entries, null, fail, (_i, bytes) => seen.push(bytes.toString('utf8')))
    assert.deepEqual(
      seen,
      members.map((m) => m.data.toString('utf8')),
    )
    const built = readBuildZip(zip, 'out.zip')
    assert.deepEqual(
      built.map((e) => [e.path, e.type, e.mode, e.data.toString('utf8')]),
      members.map((m) => [m.name, 'file', 0, m.data.toString('utf8')]),
      `zip64: ${zip64}`,
    )
  }
})

test('a name without the UTF-8 flag is read as Latin-1 (as the build normalizer always did)', () => {
  const zip = makeZip([{ name: 'é', data: Buffer.from('x'), flags: 0 }])
  assert.equal(readZipEntries(zip, fail)[0]!.name, 'Ã©')
})

/** Both callers refuse the archive with their own code, as exit-2 bad input naming the file. */
function assertRefused(zip: Buffer, why: RegExp): void {
  assert.throws(
    () => readBuildZip(zip, 'out.zip'),
    (e: unknown) =>
      e instanceof DetbuildError &&
      e.code === 'BUILD_ARCHIVE_INVALID' &&
      e.exitCode === 2 &&
      e.message.startsWith('cannot normalize out.zip: ') &&
      why.test(e.message),
  )
  assert.throws(
    () => {
      const f = zipFailure('all.zip')
      const entries = readZipEntries(zip, f)
      forEachZipEntry(zip, entries, null, f, () => {})
    },
    (e: unknown) =>
      e instanceof DetbuildError &&
      e.code === 'SCAN_EXPORT_INVALID' &&
      e.exitCode === 2 &&
      e.message.startsWith('not a readable ZIP archive: ') &&
      why.test(e.message),
  )
}

test('hostile archives: bombs, lies about sizes, bad offsets, truncation, damaged ZIP64 fields', () => {
  const good = makeZip(members)
  // a deflate bomb: 1 MiB of zeros declared as 4 GiB, beyond what deflate can expand to
  assertRefused(
    makeZip([{ name: 'bomb.json', data: Buffer.alloc(1 << 20), size: 0xfffffff0 }]),
    /bomb\.json has the wrong size/,
  )
  // a smaller lie, within the ratio: inflation stops at the declared size instead of growing
  assertRefused(
    makeZip([{ name: 'lie.json', data: Buffer.alloc(1 << 20), size: 1000 }]),
    /lie\.json cannot be inflated/,
  )
  assertRefused(
    makeZip([{ name: 'lie.json', data: Buffer.from('abc'), stored: true, size: 2 }]),
    /wrong size/,
  )
  assertRefused(good.subarray(0, good.length - 30), /end of central directory not found/)
  // central directory offset beyond the file
  const badOffset = Buffer.from(good)
  badOffset.writeUInt32LE(good.length + 100, good.length - 6)
  assertRefused(badOffset, /central directory entry 0 is damaged/)
  // a member's local header offset pointing into the middle of nowhere
  const cdStart = good.readUInt32LE(good.length - 6)
  const badLocal = Buffer.from(good)
  badLocal.writeUInt32LE(7, cdStart + 42)
  assertRefused(badLocal, /entry a\.json is damaged/)
  // a compressed size reaching past the end of the archive
  const long = Buffer.from(good)
  long.writeUInt32LE(good.length, cdStart + 20)
  assertRefused(long, /entry a\.json is truncated/)
  // an extra field length running off the end: refused, not a RangeError
  const badExtra = Buffer.from(good)
  badExtra.writeUInt16LE(0xffff, cdStart + 30)
  assertRefused(badExtra, /damaged/)
  // a ZIP64 extra field too short for the values it must carry
  const z = makeZip(members.slice(0, 1), { zip64: true })
  const zcd = z.length - 22 - 20 - 56 - (46 + 'a.json'.length + 28)
  const shortExtra = Buffer.from(z)
  shortExtra.writeUInt16LE(8, zcd + 46 + 6 + 2)
  assertRefused(shortExtra, /ZIP64 field/)
  const noLocator = Buffer.from(z)
  noLocator.writeUInt32LE(0, z.length - 22 - 20)
  assertRefused(noLocator, /ZIP64 locator missing/)
  assertRefused(makeZip([{ name: 'secret', data: Buffer.from('x'), flags: 0x801 }]), /secret is encrypted/)
  const method = Buffer.from(good)
  method.writeUInt16LE(12, cdStart + 10)
  assertRefused(method, /unsupported compression method 12/)
})

test('CRC-32: the build normalizer checks it; the OSV reader reads a wrong central CRC, as before', () => {
  const zip = makeZip(members)
  const cdStart = zip.readUInt32LE(zip.length - 6)
  zip.writeUInt32LE(12345, cdStart + 16)
  assert.throws(() => readBuildZip(zip, 'out.zip'), /a\.json fails its CRC-32 check/)
  const entries = readZipEntries(zip, fail)
  assert.equal(readZipEntry(zip, entries[0]!, fail).toString('utf8'), members[0]!.data.toString('utf8'))
})
