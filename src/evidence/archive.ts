/**
 * The evidence archive, bytes in and bytes out (no files): a deterministic writer built on the build
 * step's tar normalization, and a safe reader that keeps members in memory and refuses anything that
 * could escape a folder, alias another member or exhaust memory. The reader inflates as a stream and
 * counts every byte, so a decompression bomb stops at the limit instead of being inflated.
 */
import { createGunzip } from 'node:zlib'
import { Parser, type ReadEntry } from 'tar'
import { CheckFailedError, InputError } from '../errors.ts'
import {
  GZIP_LEVEL,
  gzipFixed,
  normalizeEntries,
  normalizeStreamEntries,
  type StreamEntry,
  writeArchiveFile,
  writeTar,
} from '../util/tar.ts'
import type { ArchiveLimits, EvidenceFailureCode } from './types.ts'

const member = (path: string, epoch: number) => ({
  path,
  type: 'file' as const,
  mode: 0o644,
  mtime: epoch,
  uid: 0,
  gid: 0,
  uname: '',
  gname: '',
  linkpath: '',
})

/** Packs `files` (path → bytes) into a .tar.gz: sorted, mtime = epoch, 0644, uid/gid 0, no names. */
export function packEvidence(files: ReadonlyMap<string, Uint8Array>, epoch: number): Buffer {
  const entries = [...files].map(([path, data]) => ({
    ...member(path, epoch),
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
  }))
  return gzipFixed(writeTar(normalizeEntries(entries, epoch)))
}

/**
 * Writes what {@link packEvidence} gives for the same members to `target` (atomically), streaming the
 * members that stay on disk (artifacts) instead of holding them in memory.
 */
export async function writeEvidenceArchive(
  files: ReadonlyMap<string, Uint8Array>,
  onDisk: ReadonlyArray<{ path: string; file: string; size: number }>,
  epoch: number,
  target: string,
): Promise<void> {
  const entries: StreamEntry[] = [
    ...[...files].map(([path, data]) => ({
      ...member(path, epoch),
      data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    })),
    ...onDisk.map((m) => ({ ...member(m.path, epoch), data: { file: m.file, size: m.size } })),
  ]
  await writeArchiveFile(normalizeStreamEntries(entries, epoch), target, { gzipLevel: GZIP_LEVEL })
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile'])
const DEVICE_TYPES = new Set(['CharacterDevice', 'BlockDevice'])

function unsafe(code: EvidenceFailureCode, message: string, file?: string): CheckFailedError {
  return new CheckFailedError(code, message, file === undefined ? {} : { details: { entry: file } })
}

/** Why a member name is unsafe, or null. Names must be canonical relative POSIX paths. */
export function pathProblem(name: string): { code: EvidenceFailureCode; why: string } | null {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.startsWith('\\'))
    return { code: 'EVIDENCE_ENTRY_ABSOLUTE', why: 'absolute path' }
  const segments = name.split(/[/\\]/)
  if (segments.includes('..')) return { code: 'EVIDENCE_ENTRY_TRAVERSAL', why: 'path climbs out with ..' }
  if (
    name.includes('\\') ||
    name.includes('\0') ||
    segments.some((s) => s === '' || s === '.') ||
    // control characters could hide a name on a terminal
    [...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)
  )
    return { code: 'EVIDENCE_ENTRY_PATH_INVALID', why: 'not a canonical relative path' }
  return null
}

/**
 * Reads a gzip'd tar into memory. Throws CheckFailedError (exit 1) with its own code for a hostile or
 * oversized member, InputError EVIDENCE_ARCHIVE_INVALID (exit 2) for bytes that are not a gzip'd tar.
 */
export function readEvidenceArchive(
  bytes: Uint8Array,
  limits: ArchiveLimits,
  display = 'evidence archive',
): Promise<Map<string, Buffer>> {
  if (bytes.byteLength > limits.maxArchiveBytes)
    return Promise.reject(
      unsafe(
        'EVIDENCE_ARCHIVE_TOO_LARGE',
        `${display} is ${bytes.byteLength} bytes, over the ${limits.maxArchiveBytes}-byte limit`,
      ),
    )
  if (bytes.byteLength < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b)
    return Promise.reject(
      new InputError('EVIDENCE_ARCHIVE_INVALID', 'not a gzip file (expected a .tar.gz)', { file: display }),
    )

  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>()
    const gunzip = createGunzip()
    // the inner stream is plain tar: no second decompression behind the limits' back
    const parser = new Parser({ brotli: false, zstd: false })
    let settled = false
    let inflated = 0
    let count = 0
    let open = 0
    let sawEnd = false

    const fail = (e: Error): void => {
      if (settled) return
      settled = true
      gunzip.removeAllListeners('data')
      gunzip.destroy()
      reject(e)
    }
    const malformed = (why: string): void =>
      fail(new InputError('EVIDENCE_ARCHIVE_INVALID', `not a readable tar.gz: ${why}`, { file: display }))

    parser.on('warn', (_code: string, message: string | Error) =>
      malformed(message instanceof Error ? message.message : String(message)),
    )
    parser.on('error', (e: Error) => malformed(e.message))
    parser.on('ignoredEntry', (entry: ReadEntry) =>
      fail(unsafe('EVIDENCE_ENTRY_TYPE', `member ${entry.path} cannot be read safely`, entry.path)),
    )
    parser.on('entry', (entry: ReadEntry) => {
      if (settled) return entry.resume()
      const name = entry.path
      count++
      if (count > limits.maxEntries)
        return fail(
          unsafe('EVIDENCE_TOO_MANY_ENTRIES', `more than ${limits.maxEntries} members in ${display}`),
        )
      const problem = pathProblem(name)
      // escaping the folder is the worst problem a member can have: report it whatever its type
      if (problem && problem.code !== 'EVIDENCE_ENTRY_PATH_INVALID')
        return fail(unsafe(problem.code, `member ${JSON.stringify(name)}: ${problem.why}`, name))
      if (entry.type === 'SymbolicLink')
        return fail(unsafe('EVIDENCE_ENTRY_SYMLINK', `member ${name} is a symbolic link`, name))
      if (entry.type === 'Link')
        return fail(unsafe('EVIDENCE_ENTRY_HARDLINK', `member ${name} is a hard link`, name))
      if (DEVICE_TYPES.has(entry.type))
        return fail(unsafe('EVIDENCE_ENTRY_DEVICE', `member ${name} is a device`, name))
      if (!FILE_TYPES.has(entry.type))
        return fail(
          unsafe('EVIDENCE_ENTRY_TYPE', `member ${name} is a ${entry.type}, only files are allowed`, name),
        )
      if (problem) return fail(unsafe(problem.code, `member ${JSON.stringify(name)}: ${problem.why}`, name))
      if (files.has(name))
        return fail(unsafe('EVIDENCE_ENTRY_DUPLICATE', `member ${name} appears more than once`, name))
      const declared = entry.size ?? 0
      if (declared > limits.maxEntryBytes)
        return fail(
          unsafe(
            'EVIDENCE_ENTRY_TOO_LARGE',
            `member ${name} declares ${declared} bytes, over the ${limits.maxEntryBytes}-byte limit`,
            name,
          ),
        )
      // reserve the name now: a second member of the same name is a duplicate even before this one ends
      files.set(name, Buffer.alloc(0))
      const chunks: Buffer[] = []
      let size = 0
      open++
      entry.on('data', (c: Buffer) => {
        size += c.length
        if (size > limits.maxEntryBytes)
          fail(unsafe('EVIDENCE_ENTRY_TOO_LARGE', `member ${name} is over the size limit`, name))
        else chunks.push(c)
      })
      entry.on('end', () => {
        open--
        if (size !== declared) return malformed(`member ${name} is truncated`)
        files.set(name, Buffer.concat(chunks, size))
      })
    })
    // the two zero blocks that end a tar: without them the archive was cut short between members
    parser.on('eof', () => {
      sawEnd = true
    })
    parser.on('end', () => {
      if (settled) return
      if (open > 0 || !sawEnd) return malformed('truncated (no end-of-archive marker)')
      settled = true
      resolve(files)
    })

    gunzip.on('data', (chunk: Buffer) => {
      inflated += chunk.length
      if (inflated > limits.maxTotalBytes)
        return fail(
          unsafe(
            'EVIDENCE_ARCHIVE_TOO_LARGE',
            `${display} inflates to more than ${limits.maxTotalBytes} bytes (limit)`,
          ),
        )
      if (inflated === chunk.length && chunk[0] === 0x1f && chunk[1] === 0x8b)
        return malformed('nested compression')
      parser.write(chunk)
    })
    gunzip.on('error', (e: Error) => malformed(`gzip: ${e.message}`))
    gunzip.on('end', () => {
      if (!settled) parser.end()
    })
    gunzip.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  })
}
