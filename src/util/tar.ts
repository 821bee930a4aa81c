/**
 * Deterministic tar and gzip writing, pure (entries in, bytes out): sorted entries, one fixed time,
 * uid/gid 0, no owner names, normalized modes, a fixed gzip header. Shared by the build's archive
 * normalizer and the evidence bundle, so both write archives the same way.
 */
import { gzipSync } from 'node:zlib'
import { Header, Pax } from 'tar'
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

/** gzip level used for every re-packed .tgz (npm's own pack uses 9 too). */
export const GZIP_LEVEL = 9

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

/** Writes a ustar archive (pax records only for long names) from already-normalized entries. */
export function writeTar(entries: readonly ArchiveEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const mtime = new Date(e.mtime * 1000)
    const header = new Header({
      path: e.path,
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      size: e.data.length,
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
      blocks.push(pax.encode())
    }
    blocks.push(block)
    if (e.data.length > 0) {
      blocks.push(e.data)
      const pad = (512 - (e.data.length % 512)) % 512
      if (pad) blocks.push(Buffer.alloc(pad))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

/** gzip with no name, no time, a fixed level and a fixed OS byte (3, Unix) on every platform. */
export function gzipFixed(bytes: Uint8Array): Buffer {
  const out = gzipSync(bytes, { level: GZIP_LEVEL })
  out.writeUInt32LE(0, 4)
  out[9] = 3
  return out
}
