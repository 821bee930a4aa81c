/**
 * util/zip.ts, the one ZIP reader behind the build's archive normalizer and the offline OSV export:
 * ZIP64 for both, and every hostile-input check either reader had, through both callers' error codes.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { crc32, deflateRawSync } from 'node:zlib'
import { readZipEntries as readBuildZip } from '../../src/build/archive.ts'
import { DetbuildError } from '../../src/errors.ts'
import { zipFailure } from '../../src/scan/offline-db.ts'
import { forEachZipEntry, readZipEntries, readZipEntry, type ZipFail } from '../../src/util/zip.ts'

interface Member {
  name: string
  data: Buffer
  stored?: boolean
  /** written in the central directory instead of the real size */
  size?: number
  flags?: number
}

/**
 * A ZIP written by hand, so each field can be bent. With `zip64`, every central entry saturates its
 * sizes and offset and carries them in a ZIP64 extra field, and the archive ends with a ZIP64 end of
 * central directory and its locator, as streaming writers do for large archives.
 */
function makeZip(members: Member[], zip64 = false): Buffer {
  const parts: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const m of members) {
    const body = m.stored ? m.data : deflateRawSync(m.data)
    const method = m.stored ? 0 : 8
    const name = Buffer.from(m.name, 'utf8')
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(zip64 ? 45 : 20, 4)
    local.writeUInt16LE(method, 8)
    local.writeUInt32LE(crc32(m.data), 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(m.data.length, 22)
    local.writeUInt16LE(name.length, 26)
    parts.push(local, name, body)
    const extra = Buffer.alloc(zip64 ? 28 : 0)
    if (zip64) {
      extra.writeUInt16LE(0x0001, 0)
      extra.writeUInt16LE(24, 2)
      extra.writeBigUInt64LE(BigInt(m.size ?? m.data.length), 4)
      extra.writeBigUInt64LE(BigInt(body.length), 12)
      extra.writeBigUInt64LE(BigInt(offset), 20)
    }
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 45, 4)
    central.writeUInt16LE(45, 6)
    central.writeUInt16LE(m.flags ?? 0x800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt32LE(crc32(m.data), 16)
    central.writeUInt32LE(zip64 ? 0xffffffff : body.length, 20)
    central.writeUInt32LE(zip64 ? 0xffffffff : (m.size ?? m.data.length), 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt16LE(extra.length, 30)
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38)
    central.writeUInt32LE(zip64 ? 0xffffffff : offset, 42)
    centrals.push(central, name, extra)
    offset += 30 + name.length + body.length
  }
  const cd = Buffer.concat(centrals)
  const tail: Buffer[] = []
  if (zip64) {
    const z = Buffer.alloc(56)
    z.writeUInt32LE(0x06064b50, 0)
    z.writeBigUInt64LE(44n, 4)
    z.writeUInt16LE(45, 12)
    z.writeUInt16LE(45, 14)
    z.writeBigUInt64LE(BigInt(members.length), 24)
    z.writeBigUInt64LE(BigInt(members.length), 32)
    z.writeBigUInt64LE(BigInt(cd.length), 40)
    z.writeBigUInt64LE(BigInt(offset), 48)
    const locator = Buffer.alloc(20)
    locator.writeUInt32LE(0x07064b50, 0)
    locator.writeBigUInt64LE(BigInt(offset + cd.length), 8)
    locator.writeUInt32LE(1, 16)
    tail.push(z, locator)
  }
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(0x06054b50, 0)
  eocd.writeUInt16LE(zip64 ? 0xffff : members.length, 8)
  eocd.writeUInt16LE(zip64 ? 0xffff : members.length, 10)
  eocd.writeUInt32LE(zip64 ? 0xffffffff : cd.length, 12)
  eocd.writeUInt32LE(zip64 ? 0xffffffff : offset, 16)
  return Buffer.concat([...parts, cd, ...tail, eocd])
}

const members: Member[] = [
  { name: 'a.json', data: Buffer.from('{"id":"A"}'.repeat(50)) },
  { name: 'dir/b.json', data: Buffer.from('stored bytes'), stored: true },
  { name: 'é.txt', data: Buffer.from('utf-8 name') },
]

const fail: ZipFail = (why) => {
  throw new Error(why)
}

test('ZIP64 archives read the same as plain ones, for the OSV export and for the build normalizer', () => {
  for (const zip64 of [false, true]) {
    const zip = makeZip(members, zip64)
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
      members.map((m) => [m.name, 'file', 0o644, m.data.toString('utf8')]),
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
  const z = makeZip(members.slice(0, 1), true)
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
