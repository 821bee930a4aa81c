/**
 * Deterministic tar and gzip writing: sorted entries, one fixed time, uid/gid 0, no owner names,
 * normalized modes, a fixed gzip header. Shared by the build's archive normalizer and the evidence
 * bundle, so both write archives the same way. Two writers share one header encoder: `writeTar` +
 * `gzipFixed` (bytes in, bytes out, for small archives and as the test oracle) and `writeArchiveFile`,
 * which streams members from disk through gzip into the file in bounded memory (the `tar` package's
 * Pack would stat and read the disk itself, with its own header choices; only its Header and Pax
 * encoders are used here, so the bytes stay what they were).
 */

import { createWriteStream, readFileSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { Transform, type TransformCallback, type Writable } from 'node:stream'
import { finished, pipeline } from 'node:stream/promises'
import { createGzip, gzipSync } from 'node:zlib'
import { Header, Pax } from 'tar'
import { tempNameFor } from './fs.ts'
import { compareCodePoint } from './sort.ts'

export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink'

/** One archive member, as read (before normalization) or as written. */
export interface ArchiveEntry {
  path: string
  type: EntryType
  mode: number
  mtime: number
  uid: number
  gid: number
  uname: string
  gname: string
  linkpath: string
  data: Buffer
}

/**
 * gzip level of every re-packed .tgz and of the evidence bundle (build.json records it, with zlib's
 * version). Chosen by measurement (bench/tar.ts --levels, a 10,190-file node_modules tree of 255 MiB):
 * level 9 took twice the CPU of level 6 for an archive 0.5 % smaller; 6 is also `gzip -n`'s default.
 * Until detbuild 0.1.x it was 9: the same content now gives other .tgz bytes than those versions did.
 */
export const GZIP_LEVEL = 6

const TAR_TYPE_NAMES: Record<EntryType, string> = {
  file: 'File',
  directory: 'Directory',
  symlink: 'SymbolicLink',
  hardlink: 'Link',
}

/** 0755 for directories and anything executable by anyone, 0644 otherwise, 0777 for symlinks. */
export function normalizeMode(type: EntryType, mode: number): number {
  if (type === 'directory') return 0o755
  if (type === 'symlink') return 0o777
  return mode & 0o111 ? 0o755 : 0o644
}

/** Entries with normalized metadata, sorted by path (code point; stable for duplicates). */
export function normalizeEntries(entries: readonly ArchiveEntry[], epoch: number): ArchiveEntry[] {
  return normalizeAny(entries, epoch)
}

/** {@link normalizeEntries} for entries whose data may wait on disk. */
export function normalizeStreamEntries(entries: readonly StreamEntry[], epoch: number): StreamEntry[] {
  return normalizeAny(entries, epoch)
}

function normalizeAny<E extends ArchiveEntry | StreamEntry>(entries: readonly E[], epoch: number): E[] {
  return entries
    .map((e) => ({
      ...e,
      path: e.type === 'directory' && !e.path.endsWith('/') ? `${e.path}/` : e.path,
      mode: normalizeMode(e.type, e.mode),
      mtime: epoch,
      uid: 0,
      gid: 0,
      uname: '',
      gname: '',
      data: e.type === 'file' ? e.data : Buffer.alloc(0),
    }))
    .sort((a, b) => compareCodePoint(a.path, b.path))
}

/** The header block(s) of one member: a pax record first when ustar cannot hold its name or link. */
function headerBlocks(e: Omit<ArchiveEntry, 'data'>, size: number): Buffer[] {
  const mtime = new Date(e.mtime * 1000)
  const header = new Header({
    path: e.path,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size,
    mtime,
    type: TAR_TYPE_NAMES[e.type] as 'File',
    linkpath: e.linkpath,
    uname: e.uname,
    gname: e.gname,
    devmaj: 0,
    devmin: 0,
  })
  const block = Buffer.alloc(512)
  if (header.encode(block)) {
    const pax = new Pax({ path: e.path, ...(e.linkpath ? { linkpath: e.linkpath } : {}), mtime })
    return [pax.encode(), block]
  }
  return [block]
}

const padding = (size: number): number => (512 - (size % 512)) % 512

/** Writes a ustar archive (pax records only for long names) from already-normalized entries. */
export function writeTar(entries: readonly ArchiveEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    blocks.push(...headerBlocks(e, e.data.length))
    if (e.data.length > 0) {
      blocks.push(e.data)
      const pad = padding(e.data.length)
      if (pad) blocks.push(Buffer.alloc(pad))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

/** gzip with no name, no time, a fixed level and a fixed OS byte (3, Unix) on every platform. */
export function gzipFixed(bytes: Uint8Array, level = GZIP_LEVEL): Buffer {
  const out = gzipSync(bytes, { level })
  out.writeUInt32LE(0, 4)
  out[9] = 3
  return out
}

/**
 * One member of a streamed archive, normalized like {@link normalizeEntries}' result: its data is bytes
 * in memory (small files: manifests, signatures) or a file on disk read while the archive is written.
 */
export interface StreamEntry extends Omit<ArchiveEntry, 'data'> {
  data: Buffer | { file: string; size: number }
}

/** Bytes read from a member's file per call while an archive streams (the writer's memory bound). */
const READ_CHUNK = 1024 * 1024

type Write = (chunk: Buffer) => Promise<void>

/**
 * Collects headers, padding and small members into writes of about {@link READ_CHUNK}: each write is a
 * round trip to zlib's thread, and 10,000 small members written one by one spent most of their time there.
 */
class Batch {
  private parts: Buffer[] = []
  private bytes = 0
  private readonly write: Write
  constructor(write: Write) {
    this.write = write
  }
  async add(chunk: Buffer): Promise<void> {
    this.parts.push(chunk)
    this.bytes += chunk.length
    if (this.bytes >= READ_CHUNK) await this.flush()
  }
  async flush(): Promise<void> {
    if (this.bytes === 0) return
    const chunk = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts, this.bytes)
    this.parts = []
    this.bytes = 0
    await this.write(chunk)
  }
}

/** A member file's bytes when it is small, checked against the size its header already holds. */
function readSmall(e: StreamEntry, file: string, size: number): Buffer {
  const data = readFileSync(file)
  if (data.length !== size) throw new Error(`${e.path} changed size while it was archived`)
  return data
}

/**
 * Writes one member's data from its file through `write`, in two alternating read buffers: one is read
 * into while zlib compresses the other, and a buffer is reused only once its write has completed (zlib
 * has consumed it), so memory stays at two buffers however large the member.
 */
async function writeFileData(e: StreamEntry, file: string, size: number, write: Write): Promise<void> {
  const buffers = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)]
  const pending: Array<Promise<void> | undefined> = [undefined, undefined]
  const handle = await open(file, 'r')
  try {
    let done = 0
    for (let i = 0; done < size; i ^= 1) {
      await pending[i]
      const buffer = buffers[i] as Buffer
      const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_CHUNK, size - done), null)
      if (bytesRead === 0) break
      done += bytesRead
      pending[i] = write(buffer.subarray(0, bytesRead))
      // a failed write is reported by the awaits below, not as an unhandled rejection
      pending[i]?.catch(() => {})
    }
    await Promise.all(pending)
    // the header already holds the size: a member that changed while read would corrupt the archive
    if (done !== size || (await handle.read(Buffer.alloc(1), 0, 1, null)).bytesRead !== 0)
      throw new Error(`${e.path} changed size while it was archived`)
  } finally {
    await handle.close()
  }
}

/** Writes the tar stream of `entries` (already normalized and sorted) through `write`. */
async function writeTarTo(entries: Iterable<StreamEntry>, write: Write): Promise<void> {
  const batch = new Batch(write)
  for (const e of entries) {
    const data = e.type === 'file' ? e.data : Buffer.alloc(0)
    const size = Buffer.isBuffer(data) ? data.length : data.size
    for (const block of headerBlocks(e, size)) await batch.add(block)
    if (Buffer.isBuffer(data)) {
      if (data.length > 0) await batch.add(data)
    } else if (size < READ_CHUNK) {
      // a small member is read at once (synchronously: zlib compresses the previous batch meanwhile)
      if (size > 0) await batch.add(readSmall(e, data.file, size))
      else readSmall(e, data.file, 0)
    } else {
      await batch.flush()
      await writeFileData(e, data.file, size, write)
    }
    const pad = padding(size)
    if (pad) await batch.add(Buffer.alloc(pad))
  }
  await batch.add(Buffer.alloc(1024))
  await batch.flush()
}

/** Sets gzip's header time to 0 and its OS byte to 3 (Unix), as {@link gzipFixed} does, while it streams. */
function fixGzipHeader(): Transform {
  let at = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done: TransformCallback) {
      for (let i = Math.max(at, 4); i < Math.min(at + chunk.length, 10); i++) {
        if (i <= 7) chunk[i - at] = 0
        else if (i === 9) chunk[i - at] = 3
      }
      at += chunk.length
      done(null, chunk)
    },
  })
}

/**
 * Writes a tar (or, with `gzipLevel`, a .tar.gz) of already-normalized, sorted entries to `file`,
 * atomically (a temporary file beside it, then a rename). Byte for byte what `gzipFixed(writeTar(…))`
 * gives for the same entries, in memory bounded by two read buffers and zlib's state.
 */
export async function writeArchiveFile(
  entries: Iterable<StreamEntry>,
  file: string,
  options: { gzipLevel: number | null },
): Promise<void> {
  const tmp = tempNameFor(file)
  const out = createWriteStream(tmp, { mode: 0o644 })
  const gzip = options.gzipLevel === null ? null : createGzip({ level: options.gzipLevel })
  const sink: Writable = gzip ?? out
  const piped = gzip ? pipeline(gzip, fixGzipHeader(), out) : finished(out)
  piped.catch(() => {})
  const write: Write = (chunk) =>
    new Promise((resolve, reject) => sink.write(chunk, (e) => (e ? reject(e) : resolve())))
  try {
    try {
      await writeTarTo(entries, write)
      sink.end()
    } catch (e) {
      sink.destroy(e as Error)
      throw e
    }
    await piped
    await rename(tmp, file)
  } catch (e) {
    // the file is opened asynchronously: wait until the stream has closed (its open done, its fd
    // released) before removing it, or the open could create it again after the removal
    if (!out.closed) {
      const closed = new Promise<void>((resolve) => out.once('close', () => resolve()))
      out.destroy()
      await closed
    }
    await rm(tmp, { force: true })
    throw e
  }
}
