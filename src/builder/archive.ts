/**
 * Archive normalization: tar, gzip'd tar and zip are re-packed with sorted entries, one fixed time,
 * uid/gid 0, no user/group names and normalized modes, so that the same content gives the same bytes
 * whatever umask, clock, user or directory order the build ran with. `normalizeArchive` is pure (bytes
 * in, bytes out); `normalizeArchiveFile` (the build's edge) streams a tar or .tgz through the same
 * checks, each member's data into a private folder, and writes the result from there: memory stays
 * bounded whatever the archive's size.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { constants, crc32, createGunzip, deflateRawSync, gunzipSync } from 'node:zlib'
import { Parser } from 'tar'
import { InputError } from '../errors.ts'
import {
  type ArchiveEntry,
  type EntryType,
  GZIP_LEVEL,
  gzipFixed,
  normalizeEntries,
  normalizeStreamEntries,
  type StreamEntry,
  writeArchiveFile,
  writeTar,
} from '../util/tar.ts'
import { readZipEntries as listZip, readZipEntry } from '../util/zip.ts'

export type ArchiveKind = 'tar' | 'tgz' | 'zip'

/** Which normalizer applies to an output file name, if any. */
export function archiveKindOf(name: string): ArchiveKind | null {
  const lower = name.toLowerCase()
  if (lower.endsWith('.tgz') || lower.endsWith('.tar.gz')) return 'tgz'
  if (lower.endsWith('.tar')) return 'tar'
  if (lower.endsWith('.zip')) return 'zip'
  return null
}

const TAR_TYPES: Record<string, EntryType> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'directory',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
}

/** Reads every member of a tar (gzip'd or not). Devices, fifos and unknown types are refused. */
export async function readTarEntries(bytes: Uint8Array, display = 'archive'): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = []
  const problems: string[] = []
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      strict: true,
      onwarn: (_code: string, message: string | Error) => problems.push(String(message)),
    })
    parser.on('entry', (entry) => {
      const type = TAR_TYPES[entry.type]
      if (!type) {
        problems.push(`unsupported member type ${entry.type} at ${entry.path}`)
        entry.resume()
        return
      }
      const chunks: Buffer[] = []
      entry.on('data', (c: Buffer) => chunks.push(c))
      entry.on('end', () => {
        entries.push({
          path: entry.path,
          type,
          mode: entry.mode ?? 0,
          mtime: entry.mtime ? Math.floor(entry.mtime.getTime() / 1000) : 0,
          uid: entry.uid ?? 0,
          gid: entry.gid ?? 0,
          uname: entry.uname ?? '',
          gname: entry.gname ?? '',
          linkpath: entry.linkpath ?? '',
          data: Buffer.concat(chunks),
        })
      })
    })
    parser.on('error', reject)
    parser.on('end', () => resolve())
    parser.end(Buffer.from(bytes))
  })
  if (problems.length > 0)
    throw new InputError('BUILD_ARCHIVE_INVALID', `cannot normalize ${display}: ${problems[0]}`, {
      file: display,
    })
  return entries
}

// ---------------------------------------------------------------- zip

const SIG_LOCAL = 0x04034b50
const SIG_CENTRAL = 0x02014b50
const SIG_EOCD = 0x06054b50

/** Reads a zip (stored or deflated members, ZIP64; no encryption), every member checked by size and CRC-32. */
export function readZipEntries(bytes: Uint8Array, display = 'archive'): ArchiveEntry[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const fail = (why: string): never => {
    throw new InputError('BUILD_ARCHIVE_INVALID', `cannot normalize ${display}: ${why}`, { file: display })
  }
  return listZip(buf, fail).map((e): ArchiveEntry => {
    const data = Buffer.from(readZipEntry(buf, e, fail, { checkCrc: true }))
    const isDir = e.name.endsWith('/')
    const isLink = (e.unixMode & 0o170000) === 0o120000
    return {
      path: e.name,
      type: isDir ? 'directory' : isLink ? 'symlink' : 'file',
      mode: e.unixMode & 0o7777,
      mtime: fromDosTime(e.dosDate, e.dosTime),
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      linkpath: isLink ? data.toString('utf8') : '',
      data: isLink ? Buffer.alloc(0) : data,
    }
  })
}

function fromDosTime(date: number, time: number): number {
  const y = ((date >> 9) & 0x7f) + 1980
  const mo = ((date >> 5) & 0xf) - 1
  const d = date & 0x1f
  return Math.floor(Date.UTC(y, mo, d, (time >> 11) & 0x1f, (time >> 5) & 0x3f, (time & 0x1f) * 2) / 1000)
}

/** DOS date/time (UTC, 2-second resolution), clamped to the format's 1980–2107 range. */
export function toDosTime(epoch: number): { date: number; time: number } {
  const min = Date.UTC(1980, 0, 1) / 1000
  const max = Date.UTC(2107, 11, 31, 23, 59, 58) / 1000
  const d = new Date(Math.min(Math.max(epoch, min), max) * 1000)
  return {
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  }
}

/** Deflate level of every re-packed zip member (build.json records it, with zlib's version). */
export const ZIP_DEFLATE_LEVEL = 9

/**
 * Writes a zip from normalized entries: no extra fields, no comments, no data descriptors, one fixed
 * DOS time, Unix modes in the external attributes, raw deflate at level 9 (stored when smaller).
 */
export function writeZip(entries: readonly ArchiveEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const e of entries) {
    if (e.type === 'hardlink')
      throw new InputError('BUILD_ARCHIVE_INVALID', `zip cannot hold hard link ${e.path}`)
    const name = Buffer.from(e.path, 'utf8')
    const content = e.type === 'symlink' ? Buffer.from(e.linkpath, 'utf8') : e.data
    const deflated =
      content.length > 0
        ? deflateRawSync(content, { level: ZIP_DEFLATE_LEVEL, strategy: constants.Z_DEFAULT_STRATEGY })
        : content
    const useDeflate = content.length > 0 && deflated.length < content.length
    const body = useDeflate ? deflated : content
    const method = useDeflate ? 8 : 0
    const crc = crc32(content)
    const { date, time } = toDosTime(e.mtime)
    const utf8 = /[^\x20-\x7e]/.test(e.path) ? 0x800 : 0
    const typeBits = e.type === 'directory' ? 0o040000 : e.type === 'symlink' ? 0o120000 : 0o100000
    const external = (((typeBits | e.mode) << 16) >>> 0) | (e.type === 'directory' ? 0x10 : 0)

    const local = Buffer.alloc(30)
    local.writeUInt32LE(SIG_LOCAL, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(utf8, 6)
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(time, 10)
    local.writeUInt16LE(date, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(content.length, 22)
    local.writeUInt16LE(name.length, 26)
    local.writeUInt16LE(0, 28)
    locals.push(local, name, body)

    const central = Buffer.alloc(46)
    central.writeUInt32LE(SIG_CENTRAL, 0)
    central.writeUInt16LE((3 << 8) | 20, 4)
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(utf8, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(time, 12)
    central.writeUInt16LE(date, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(content.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(external >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += 30 + name.length + body.length
    if (offset > 0xffffffff)
      throw new InputError('BUILD_ARCHIVE_INVALID', 'zip larger than 4 GiB (zip64) is not supported')
  }
  const cd = Buffer.concat(centrals)
  const eocd = Buffer.alloc(22)
  eocd.writeUInt32LE(SIG_EOCD, 0)
  eocd.writeUInt16LE(entries.length, 8)
  eocd.writeUInt16LE(entries.length, 10)
  eocd.writeUInt32LE(cd.length, 12)
  eocd.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, cd, eocd])
}

/** Reads an archive of a known kind into its entries (for normalizing and for comparing). */
export async function readArchive(
  kind: ArchiveKind,
  bytes: Uint8Array,
  display: string,
): Promise<ArchiveEntry[]> {
  if (kind === 'zip') return readZipEntries(bytes, display)
  if (kind === 'tgz') {
    let plain: Buffer
    try {
      plain = gunzipSync(bytes)
    } catch (e) {
      throw new InputError('BUILD_ARCHIVE_INVALID', `cannot normalize ${display}: not a gzip file`, {
        file: display,
        cause: e,
      })
    }
    return readTarEntries(plain, display)
  }
  return readTarEntries(bytes, display)
}

/** Re-packs an archive deterministically. Same content ⇒ same bytes. */
export async function normalizeArchive(
  kind: ArchiveKind,
  bytes: Uint8Array,
  epoch: number,
  display = 'archive',
): Promise<Buffer> {
  const entries = normalizeEntries(await readArchive(kind, bytes, display), epoch)
  switch (kind) {
    case 'tar':
      return writeTar(entries)
    case 'tgz':
      return gzipFixed(writeTar(entries))
    case 'zip':
      return writeZip(entries)
  }
}

/**
 * Reads a tar (gzip'd when `gzipped`) from `file` as a stream: every member's data goes to its own file
 * in `workDir`, named by its position (never by its member name, which is hostile), and the member's
 * metadata is kept. The same member types and parser warnings are refused as {@link readTarEntries}'.
 */
async function readTarToDisk(
  file: string,
  gzipped: boolean,
  workDir: string,
  display: string,
): Promise<StreamEntry[]> {
  const entries: StreamEntry[] = []
  const problems: string[] = []
  const written: Promise<void>[] = []
  const parser = new Parser({
    strict: true,
    onwarn: (_code: string, message: string | Error) => problems.push(String(message)),
  })
  parser.on('entry', (entry) => {
    const type = TAR_TYPES[entry.type]
    if (!type) {
      problems.push(`unsupported member type ${entry.type} at ${entry.path}`)
      entry.resume()
      return
    }
    const meta = {
      path: entry.path,
      type,
      mode: entry.mode ?? 0,
      mtime: entry.mtime ? Math.floor(entry.mtime.getTime() / 1000) : 0,
      uid: entry.uid ?? 0,
      gid: entry.gid ?? 0,
      uname: entry.uname ?? '',
      gname: entry.gname ?? '',
      linkpath: entry.linkpath ?? '',
    }
    if (type !== 'file') {
      entry.resume()
      entries.push({ ...meta, data: Buffer.alloc(0) })
      return
    }
    // the header's size: the parser fails on a short member, and the writer checks the file's size
    const data = { file: path.join(workDir, String(entries.length)), size: entry.size ?? 0 }
    entries.push({ ...meta, data })
    // the entry pauses while the file is slow, and the parser (and the read) with it
    written.push(pipeline(entry, createWriteStream(data.file)))
  })
  const source = createReadStream(file)
  try {
    if (gzipped) {
      const gunzip = createGunzip()
      await pipeline(source, gunzip, parser).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code?.startsWith('Z_'))
          throw new InputError('BUILD_ARCHIVE_INVALID', `cannot normalize ${display}: not a gzip file`, {
            file: display,
            cause: e,
          })
        throw e
      })
    } else await pipeline(source, parser)
    await Promise.all(written)
  } catch (e) {
    await Promise.allSettled(written)
    throw e
  }
  if (problems.length > 0)
    throw new InputError('BUILD_ARCHIVE_INVALID', `cannot normalize ${display}: ${problems[0]}`, {
      file: display,
    })
  return entries
}

/**
 * Re-packs the archive in `input` deterministically into `output` (same content ⇒ same bytes as
 * {@link normalizeArchive}). A tar or .tgz streams through `workDir` (an empty private folder); a zip
 * is still read whole (its reader and writer work on bytes).
 */
export async function normalizeArchiveFile(
  kind: ArchiveKind,
  input: string,
  output: string,
  epoch: number,
  workDir: string,
  display = 'archive',
): Promise<void> {
  if (kind === 'zip') {
    await writeFile(output, await normalizeArchive(kind, await readFile(input), epoch, display))
    return
  }
  const entries = normalizeStreamEntries(await readTarToDisk(input, kind === 'tgz', workDir, display), epoch)
  await writeArchiveFile(entries, output, { gzipLevel: kind === 'tgz' ? GZIP_LEVEL : null })
}
