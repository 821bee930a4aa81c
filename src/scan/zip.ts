/**
 * Pure: a minimal ZIP reader (stored and deflated entries, ZIP64) for OSV exports such as
 * `https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip`. Entries are yielded one at a
 * time so that only one decompressed record is held at once.
 */
import { inflateRawSync } from 'node:zlib'
import { InputError } from '../errors.ts'

export interface ZipEntry {
  name: string
  /** decompresses the entry (on demand, so only one is held at a time) */
  read: () => Buffer
}

const EOCD = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_EOCD = 0x06064b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
}

export function readZipEntries(buf: Buffer, file: string): ZipEntry[] {
  const out: ZipEntry[] = []
  const fail = (why: string): never => {
    throw new InputError('SCAN_EXPORT_INVALID', `not a readable ZIP archive: ${why}`, { file })
  }
  let eocd = -1
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i
      break
    }
  }
  if (eocd < 0) fail('end of central directory not found (truncated?)')
  let count = buf.readUInt16LE(eocd + 10)
  let cdOffset = buf.readUInt32LE(eocd + 16)
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20
    if (loc < 0 || buf.readUInt32LE(loc) !== ZIP64_LOCATOR) fail('ZIP64 locator missing')
    const z64 = Number(buf.readBigUInt64LE(loc + 8))
    if (z64 < 0 || z64 + 56 > buf.length || buf.readUInt32LE(z64) !== ZIP64_EOCD)
      fail('ZIP64 directory missing')
    count = Number(buf.readBigUInt64LE(z64 + 32))
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48))
  }
  let p = cdOffset
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL)
      fail(`central directory entry ${n} is damaged`)
    const method = buf.readUInt16LE(p + 10)
    let compSize = buf.readUInt32LE(p + 20)
    let size = buf.readUInt32LE(p + 24)
    const nameLen = buf.readUInt16LE(p + 28)
    const extraLen = buf.readUInt16LE(p + 30)
    const commentLen = buf.readUInt16LE(p + 32)
    let localOffset = buf.readUInt32LE(p + 42)
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen)
    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present
    let e = p + 46 + nameLen
    const extraEnd = e + extraLen
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e)
      const len = buf.readUInt16LE(e + 2)
      if (id === 0x0001) {
        let q = e + 4
        if (size === 0xffffffff) {
          size = Number(buf.readBigUInt64LE(q))
          q += 8
        }
        if (compSize === 0xffffffff) {
          compSize = Number(buf.readBigUInt64LE(q))
          q += 8
        }
        if (localOffset === 0xffffffff) localOffset = Number(buf.readBigUInt64LE(q))
      }
      e += 4 + len
    }
    p = extraEnd + commentLen
    if (name.endsWith('/')) continue
    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL)
      fail(`entry ${name} is damaged`)
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28)
    if (start + compSize > buf.length) fail(`entry ${name} is truncated`)
    const raw = buf.subarray(start, start + compSize)
    const expected = size
    out.push({
      name,
      read: () => {
        let data: Buffer
        if (method === 0) data = Buffer.from(raw)
        else if (method === 8) {
          try {
            data = inflateRawSync(raw)
          } catch {
            return fail(`entry ${name} cannot be inflated`)
          }
        } else return fail(`entry ${name} uses unsupported compression method ${method}`)
        if (data.length !== expected) fail(`entry ${name} has the wrong size`)
        return data
      },
    })
  }
  return out
}
