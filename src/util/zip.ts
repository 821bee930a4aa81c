/**
 * Pure: detbuild's one ZIP reader (stored and deflated entries, ZIP64), for the build's archive normalizer
 * and for OSV exports such as `https://osv-vulnerabilities.storage.googleapis.com/npm/all.zip`. Every
 * archive is hostile: offsets and sizes are checked against the buffer before use, a declared size beyond
 * what deflate can produce is refused, and inflation is capped at the declared size, so a bomb costs no
 * more memory than its honest size. The central directory is read into plain data (which can be handed
 * to a worker thread); entries are decompressed one at a time, on demand.
 *
 * No ZIP library is among detbuild's dependencies (Node's zlib inflates; the container format is read
 * here), so this stays hand-written; callers pass `fail` to throw their own error code and message.
 */
import { crc32 as crc32Of, gunzipSync, inflateRawSync } from 'node:zlib'

/** Throws the caller's error for a problem described by `why` (e.g. `entry a.json is truncated`). */
export type ZipFail = (why: string) => never

export interface ZipEntry {
  /** UTF-8 when the entry says so (general purpose flag 11), otherwise Latin-1 */
  name: string
  /** 0 stored, 8 deflated (others are refused when read) */
  method: number
  /** offset of the entry's data in the archive */
  start: number
  compressedSize: number
  /** uncompressed size, from the central directory */
  size: number
  /** CRC-32 of the uncompressed bytes, from the central directory */
  crc32: number
  /** DOS date and time fields, as written */
  dosDate: number
  dosTime: number
  /** Unix type and permission bits when the entry was made on Unix, else 0 */
  unixMode: number
}

/** Deflate cannot expand more than about 1032:1; a declared size beyond that is a lie. */
const MAX_RATIO = 1032

const EOCD = 0x06054b50
const ZIP64_LOCATOR = 0x07064b50
const ZIP64_EOCD = 0x06064b50
const CENTRAL = 0x02014b50
const LOCAL = 0x04034b50

/** Whether the bytes start like a ZIP archive (a local file header). */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04
}

/**
 * The entries of the central directory, directories included, in archive order. Each entry's local
 * header is checked and its data must lie inside the buffer; encrypted entries are refused.
 */
export function readZipEntries(buf: Buffer, fail: ZipFail): ZipEntry[] {
  const dir = readZipDirectory(buf, 0, buf.length, fail)
  if ('need' in dir) return fail('central directory not found')
  const out: ZipEntry[] = []
  for (const c of dir.entries) {
    const { localOffset: _offset, encrypted: _encrypted, ...entry } = c
    out.push({ ...entry, start: zipDataStart(buf, 0, buf.length, c, fail) })
  }
  if (dir.damage !== null) fail(dir.damage)
  return out
}

/** A central directory entry: a ZipEntry whose data start is not known until its local header is read. */
export interface ZipCentralEntry extends Omit<ZipEntry, 'start'> {
  /** offset of the entry's local header */
  localOffset: number
  /** general purpose flag 0 (refused by `locateZipEntry`, in archive order) */
  encrypted: boolean
}

/**
 * The central directory, read from `tail`: the bytes of the archive from offset `tailStart` to its end
 * (`size` bytes in all), so a large archive need not be in memory to be indexed. When the directory
 * (or the ZIP64 record) starts before `tailStart`, the answer is `{ need }`: call again with the bytes
 * from that offset. A damaged directory entry ends the list: `damage` says why, and the caller fails
 * with it after it has checked the local headers of the entries before it (`readZipEntries`'s order).
 */
export function readZipDirectory(
  tail: Buffer,
  tailStart: number,
  size: number,
  fail: ZipFail,
): { entries: ZipCentralEntry[]; damage: string | null } | { need: number } {
  const dir = readZipTable(tail, tailStart, size, fail)
  if ('need' in dir) return dir
  const entries: ZipCentralEntry[] = []
  for (let i = 0; i < dir.table.count; i++) entries.push(dir.table.entry(i))
  return { entries, damage: dir.damage }
}

/**
 * The central directory as columns, one typed array per field (no object per entry: an export of
 * 200,000 records would otherwise hold 200,000 objects and names for the whole read). Names are decoded
 * on demand from the directory's bytes, which it keeps.
 */
export class ZipTable {
  count = 0
  localOffset: Float64Array
  compressedSize: Float64Array
  size: Float64Array
  crc32: Uint32Array
  method: Uint16Array
  flags: Uint16Array
  dosDate: Uint16Array
  dosTime: Uint16Array
  unixMode: Uint32Array
  /** where each entry's name is in `bytes`, and its length */
  nameAt: Uint32Array
  nameLen: Uint16Array
  /** the directory's bytes (the tail it was read from) */
  readonly bytes: Buffer

  constructor(bytes: Buffer, capacity: number) {
    this.bytes = bytes
    this.localOffset = new Float64Array(capacity)
    this.compressedSize = new Float64Array(capacity)
    this.size = new Float64Array(capacity)
    this.crc32 = new Uint32Array(capacity)
    this.method = new Uint16Array(capacity)
    this.flags = new Uint16Array(capacity)
    this.dosDate = new Uint16Array(capacity)
    this.dosTime = new Uint16Array(capacity)
    this.unixMode = new Uint32Array(capacity)
    this.nameAt = new Uint32Array(capacity)
    this.nameLen = new Uint16Array(capacity)
  }

  /** UTF-8 when the entry says so (general purpose flag 11), otherwise Latin-1 */
  name(i: number): string {
    const at = this.nameAt[i]!
    return this.bytes.toString(this.flags[i]! & 0x800 ? 'utf8' : 'latin1', at, at + this.nameLen[i]!)
  }

  encrypted(i: number): boolean {
    return (this.flags[i]! & 0x1) !== 0
  }

  entry(i: number): ZipCentralEntry {
    return {
      name: this.name(i),
      method: this.method[i]!,
      localOffset: this.localOffset[i]!,
      encrypted: this.encrypted(i),
      compressedSize: this.compressedSize[i]!,
      size: this.size[i]!,
      crc32: this.crc32[i]!,
      dosDate: this.dosDate[i]!,
      dosTime: this.dosTime[i]!,
      unixMode: this.unixMode[i]!,
    }
  }
}

/** `readZipDirectory`, as a ZipTable: the same checks, the same answers. */
export function readZipTable(
  tail: Buffer,
  tailStart: number,
  size: number,
  fail: ZipFail,
): { table: ZipTable; damage: string | null } | { need: number } {
  const buf = tail
  const at = (abs: number): number => abs - tailStart
  let eocd = -1
  for (let i = size - 22; i >= Math.max(tailStart, size - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(at(i)) === EOCD) {
      eocd = i
      break
    }
  }
  if (eocd < 0) {
    if (tailStart > 0 && tailStart > size - 22 - 0xffff) return { need: Math.max(0, size - 22 - 0xffff) }
    fail('end of central directory not found (not a ZIP, or truncated)')
  }
  let count = buf.readUInt16LE(at(eocd + 10))
  let cdOffset = buf.readUInt32LE(at(eocd + 16))
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20
    if (loc < 0) fail('ZIP64 locator missing')
    if (loc < tailStart) return { need: loc }
    if (buf.readUInt32LE(at(loc)) !== ZIP64_LOCATOR) fail('ZIP64 locator missing')
    const z64 = Number(buf.readBigUInt64LE(at(loc + 8)))
    if (z64 + 56 > size) fail('ZIP64 directory missing')
    if (z64 < tailStart) return { need: z64 }
    if (buf.readUInt32LE(at(z64)) !== ZIP64_EOCD) fail('ZIP64 directory missing')
    count = Number(buf.readBigUInt64LE(at(z64 + 32)))
    cdOffset = Number(buf.readBigUInt64LE(at(z64 + 48)))
  }
  // a directory said to start before the tail is read from there (never from before the archive)
  if (count > 0 && cdOffset < tailStart && cdOffset + 46 <= size) return { need: cdOffset }
  // no more entries than the bytes can hold (46 bytes each): a lying count allocates nothing
  const t = new ZipTable(buf, Math.min(count, Math.floor(buf.length / 46) + 1))
  let p = cdOffset
  for (let n = 0; n < count; n++) {
    if (p + 46 > size || p < tailStart || n >= t.nameAt.length || buf.readUInt32LE(at(p)) !== CENTRAL)
      return { table: t, damage: `central directory entry ${n} is damaged` }
    const q = at(p)
    const madeBy = buf.readUInt16LE(q + 4)
    const flags = buf.readUInt16LE(q + 8)
    let compressedSize = buf.readUInt32LE(q + 20)
    let entrySize = buf.readUInt32LE(q + 24)
    const nameLen = buf.readUInt16LE(q + 28)
    const extraLen = buf.readUInt16LE(q + 30)
    const commentLen = buf.readUInt16LE(q + 32)
    const external = buf.readUInt32LE(q + 38)
    let localOffset = buf.readUInt32LE(q + 42)
    const extraEnd = q + 46 + nameLen + extraLen
    if (extraEnd + commentLen > buf.length)
      return { table: t, damage: `central directory entry ${n} is damaged` }
    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present
    let e = q + 46 + nameLen
    while (e + 4 <= extraEnd) {
      const id = buf.readUInt16LE(e)
      const end = e + 4 + buf.readUInt16LE(e + 2)
      if (id === 0x0001) {
        const limit = Math.min(end, extraEnd)
        let r = e + 4
        let damagedField = false
        for (const field of [0, 1, 2]) {
          const value = field === 0 ? entrySize : field === 1 ? compressedSize : localOffset
          if (value !== 0xffffffff) continue
          if (r + 8 > limit) {
            damagedField = true
            break
          }
          const wide = Number(buf.readBigUInt64LE(r))
          r += 8
          if (field === 0) entrySize = wide
          else if (field === 1) compressedSize = wide
          else localOffset = wide
        }
        if (damagedField) {
          const name = buf.toString(flags & 0x800 ? 'utf8' : 'latin1', q + 46, q + 46 + nameLen)
          return { table: t, damage: `entry ${name} has a damaged ZIP64 field` }
        }
      }
      e = end
    }
    p = extraEnd + commentLen + tailStart
    t.method[n] = buf.readUInt16LE(q + 10)
    t.dosTime[n] = buf.readUInt16LE(q + 12)
    t.dosDate[n] = buf.readUInt16LE(q + 14)
    t.crc32[n] = buf.readUInt32LE(q + 16)
    t.flags[n] = flags
    t.compressedSize[n] = compressedSize
    t.size[n] = entrySize
    t.localOffset[n] = localOffset
    t.unixMode[n] = madeBy >> 8 === 3 ? external >>> 16 : 0
    t.nameAt[n] = q + 46
    t.nameLen[n] = nameLen
    t.count = n + 1
  }
  return { table: t, damage: null }
}

/** Bytes of a local file header before its name and extra field. */
export const LOCAL_HEADER = 30

/**
 * Where an entry's data starts, from its local header. `bytes` holds the archive's bytes from offset
 * `bytesStart`, at least through the local header's fixed part (`LOCAL_HEADER` bytes) when the archive
 * (`size` bytes) has them; the data itself must lie inside the archive. Refuses an encrypted entry, a
 * damaged local header and truncated data, in that order.
 */
export function zipDataStart(
  bytes: Buffer,
  bytesStart: number,
  size: number,
  c: ZipCentralEntry,
  fail: ZipFail,
): number {
  return zipTableDataStart(
    bytes,
    bytesStart,
    size,
    c.encrypted,
    c.localOffset,
    c.compressedSize,
    () => c.name,
    fail,
  )
}

/** `zipDataStart` for an entry of a ZipTable (the name is decoded only for a message). */
export function zipTableDataStart(
  bytes: Buffer,
  bytesStart: number,
  size: number,
  encrypted: boolean,
  localOffset: number,
  compressedSize: number,
  name: () => string,
  fail: ZipFail,
): number {
  if (encrypted) fail(`entry ${name()} is encrypted`)
  const q = localOffset - bytesStart
  if (localOffset + LOCAL_HEADER > size || q < 0 || bytes.readUInt32LE(q) !== LOCAL)
    fail(`entry ${name()} is damaged`)
  const start = localOffset + LOCAL_HEADER + bytes.readUInt16LE(q + 26) + bytes.readUInt16LE(q + 28)
  if (start + compressedSize > size) fail(`entry ${name()} is truncated`)
  return start
}

/**
 * The bytes of an entry, exactly its declared size (checked against its CRC-32 too with `checkCrc`).
 * Stored entries are not copied; a deflated entry is inflated into one buffer of its declared size.
 */
export function readZipEntry(
  buf: Buffer,
  e: ZipEntry,
  fail: ZipFail,
  options: { checkCrc?: boolean } = {},
): Buffer {
  const raw = buf.subarray(e.start, e.start + e.compressedSize)
  const expected = e.size
  let data: Buffer
  if (e.method === 0) data = raw
  else if (e.method === 8) {
    if (expected > raw.length * MAX_RATIO + 64) fail(`entry ${e.name} has the wrong size`)
    try {
      // one output buffer of the declared size (+1 to see an overrun): the default 16 KiB chunk per
      // small entry made inflating a 50,000-record export mostly allocation and garbage collection
      data = inflateRawSync(raw, {
        chunkSize: Math.max(64, expected + 1),
        maxOutputLength: Math.max(1, expected + 1),
      })
    } catch {
      return fail(`entry ${e.name} cannot be inflated`)
    }
  } else return fail(`entry ${e.name} uses unsupported compression method ${e.method}`)
  if (data.length !== expected) fail(`entry ${e.name} has the wrong size`)
  if (options.checkCrc && crc32Of(data) !== e.crc32) fail(`entry ${e.name} fails its CRC-32 check`)
  return data
}

/** Uncompressed bytes inflated per batch by `forEachZipEntry`: bounds its memory. */
const BATCH_BYTES = 2 * 1024 * 1024
/** gzip member header: magic, deflate, no flags, no time, no extra flags, OS unknown */
const GZIP_HEADER = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]

/**
 * Calls `visit` with the bytes of each entry (all, or those numbered in `only`, ascending), in order.
 *
 * Inflating 50,000 small entries one call each costs far more in per-call set-up than in inflation.
 * So deflated entries are inflated in batches with one call: each entry's deflate data, with the CRC-32
 * and size from the central directory, becomes one member of a multi-member gzip stream, which zlib
 * inflates and checks member by member. A batch that does not inflate cleanly, to exactly the declared
 * sizes, is read again entry by entry with `readZipEntry`, so a damaged entry fails exactly as it would
 * alone (and one whose CRC-32 is merely wrong still reads, as before). The bytes given to `visit` are
 * valid only during the call.
 */
export function forEachZipEntry(
  buf: Buffer,
  entries: readonly ZipEntry[],
  only: readonly number[] | null,
  fail: ZipFail,
  visit: (index: number, bytes: Buffer) => void,
): void {
  const count = only === null ? entries.length : only.length
  const at = (k: number): number => (only === null ? k : only[k]!)
  let k = 0
  while (k < count) {
    // a batch: consecutive deflated entries up to BATCH_BYTES of output (at least one entry)
    let end = k
    let out = 0
    let input = 0
    while (end < count) {
      const e = entries[at(end)]!
      if (e.method !== 8 || e.size > raw32(e)) break
      if (end > k && out + e.size > BATCH_BYTES) break
      out += e.size
      input += GZIP_HEADER.length + e.compressedSize + 8
      end++
    }
    if (end === k) {
      // stored, or a size the reader must judge: one at a time
      const i = at(k)
      visit(i, readZipEntry(buf, entries[i]!, fail))
      k++
      continue
    }
    const data = end - k > 1 ? inflateBatch(buf, entries, at, k, end, input, out) : null
    if (data === null) {
      for (let j = k; j < end; j++) visit(at(j), readZipEntry(buf, entries[at(j)]!, fail))
    } else {
      let offset = 0
      for (let j = k; j < end; j++) {
        const i = at(j)
        const size = entries[i]!.size
        visit(i, data.subarray(offset, offset + size))
        offset += size
      }
    }
    k = end
  }
}

/** Largest size a deflated entry can honestly declare (sizes beyond go to `readZipEntry` to fail). */
function raw32(e: ZipEntry): number {
  return Math.min(e.compressedSize * MAX_RATIO + 64, 0xffffffff)
}

/** Entries `at(k)…at(end - 1)` inflated as one multi-member gzip stream; null when anything is off. */
function inflateBatch(
  buf: Buffer,
  entries: readonly ZipEntry[],
  at: (k: number) => number,
  k: number,
  end: number,
  inputSize: number,
  outputSize: number,
): Buffer | null {
  const input = Buffer.allocUnsafe(inputSize)
  let p = 0
  for (let j = k; j < end; j++) {
    const e = entries[at(j)]!
    if (e.start + e.compressedSize > buf.length) return null
    for (let h = 0; h < GZIP_HEADER.length; h++) input[p++] = GZIP_HEADER[h]!
    p += buf.copy(input, p, e.start, e.start + e.compressedSize)
    p = input.writeUInt32LE(e.crc32 >>> 0, p)
    p = input.writeUInt32LE(e.size >>> 0, p)
  }
  try {
    const out = gunzipSync(input, {
      chunkSize: Math.max(64, outputSize + 1),
      maxOutputLength: Math.max(1, outputSize + 1),
    })
    return out.length === outputSize ? out : null
  } catch {
    return null
  }
}
