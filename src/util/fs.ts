/** Edge: files. Atomic writes and capped reads that fail with one clear line naming the file. */

import { closeSync, openSync, writeSync } from 'node:fs'
import { chmod, copyFile, link, mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { ErrorCode } from '../errors.ts'
import { InputError } from '../errors.ts'
import { toFsError } from './fs-errors.ts'
import { parseJson } from './json-parse.ts'

export { fromStrayErrno, toFsError } from './fs-errors.ts'

/**
 * How large an input may be before reading it is refused (exit 2, `INPUT_TOO_LARGE`): SBOMs,
 * lockfiles, scan results and archives are `data`; configuration, policies, ignore files and keys are
 * `config`; offline OSV exports (ZIP files) are `export`. `--max-input-bytes` raises (or lowers) them all.
 */
export const DEFAULT_MAX_INPUT_BYTES = {
  data: 256 * 1024 * 1024,
  config: 16 * 1024 * 1024,
  // an offline OSV export of every ecosystem is over a GiB; 2 GiB is also the most Node reads at once
  export: 2 * 1024 * 1024 * 1024 - 1,
} as const
export type InputKind = keyof typeof DEFAULT_MAX_INPUT_BYTES

let maxInputBytes: number | undefined

/** Sets the global input size cap (`--max-input-bytes`); undefined restores the defaults. */
export function setMaxInputBytes(bytes: number | undefined): void {
  maxInputBytes = bytes
}

/** The size cap for an input of this kind. */
export function maxInputBytesFor(kind: InputKind): number {
  return maxInputBytes ?? DEFAULT_MAX_INPUT_BYTES[kind]
}

/** Creates a folder (and its parents); a file in the way or a refused path is an error naming it. */
export async function ensureDir(
  dir: string,
  display = dir,
  code: ErrorCode = 'OUTPUT_UNWRITABLE',
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (e) {
    throw toFsError(e, display, code, 'mkdir')
  }
}

/**
 * detbuild's own temporary names: `.<name>.detbuild-<pid>-<n>.tmp`, beside the file they become. The
 * pid says whose they are, so the next command can tell a killed run's leftovers from a live writer's.
 */
const TEMP_NAME = /^\..+\.detbuild-(\d+)-\d+\.tmp$/
let tempCounter = 0

/** A fresh temporary path beside `file`, in detbuild's own naming (for writers that stream). */
export function tempNameFor(file: string): string {
  tempCounter += 1
  return path.join(path.dirname(file), `.${path.basename(file)}.detbuild-${process.pid}-${tempCounter}.tmp`)
}

/** Whether `name` is one of detbuild's temporary files; returns the pid that made it. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_NAME.exec(name)
  return m ? Number(m[1]) : undefined
}

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename, so a reader never
 * sees a half-written output and a failure leaves the previous file untouched. Failures name `display`
 * (exit 2; a full disk exit 3).
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array | readonly Uint8Array[],
  mode = 0o644,
  display = file,
): Promise<void> {
  await writeFilesAtomic([{ file, data, mode, display }])
}

/**
 * Copies a file atomically (a temporary file beside `to`, then a rename), mode 0644 (or `mode`): the kernel
 * copies (copy_file_range or a reflink), so the bytes never pass through this process whatever their size.
 * Failures name `display` (exit 2; a full disk exit 3).
 */
export async function copyFileAtomic(from: string, to: string, display = to, mode = 0o644): Promise<void> {
  const shownDir = path.dirname(display)
  await ensureDir(path.dirname(to), shownDir === '.' ? path.dirname(to) : shownDir)
  const tmp = tempNameFor(to)
  try {
    await copyFile(from, tmp)
    await chmod(tmp, mode)
    await rename(tmp, to)
  } catch (e) {
    await rm(tmp, { force: true })
    throw toFsError(e, display, 'OUTPUT_UNWRITABLE', 'write')
  }
}

export type AtomicFile = {
  file: string
  /** the path as the user should see it in an error (default: `file`) */
  display?: string
} & (
  | {
      /** the bytes, or their pieces in order (a large output need not be one buffer) */
      data: string | Uint8Array | readonly Uint8Array[]
      mode?: number
    }
  | {
      /** a temporary file {@link stageFile} wrote beside `file`: renamed into place (and removed on failure) */
      staged: string
    }
)

/**
 * Writes a file under a temporary name beside `file` (mode 0644), for {@link writeFilesAtomic} to rename
 * into place with other files (`staged`): `fill` writes its bytes at the offsets it chooses, synchronously,
 * so a large output is written as it is made, never held whole. On any failure the temporary file is
 * removed; failures name `display` (exit 2; a full disk exit 3).
 */
export async function stageFile<T>(
  file: string,
  fill: (write: (bytes: Uint8Array, at: number) => void) => T,
  display = file,
): Promise<{ tmp: string; result: T }> {
  const shownDir = path.dirname(display)
  await ensureDir(path.dirname(file), shownDir === '.' ? path.dirname(file) : shownDir)
  const tmp = tempNameFor(file)
  let fd: number | undefined
  let made = false
  try {
    // 'wx': never a file (or link) that is there already, and only a file made here is removed below
    fd = openSync(tmp, 'wx', 0o644)
    made = true
    const out = fd
    const result = fill((bytes, at) => {
      for (let done = 0; done < bytes.length; )
        done += writeSync(out, bytes, done, bytes.length - done, at + done)
    })
    fd = undefined
    closeSync(out)
    return { tmp, result }
  } catch (e) {
    if (fd !== undefined) closeSync(fd)
    if (made) await rm(tmp, { force: true })
    if (e instanceof Error && 'syscall' in e) throw toFsError(e, display, 'OUTPUT_UNWRITABLE', 'write')
    throw e
  }
}

/** The renames writeFilesAtomic makes (injectable, so a test can fail one between two others). */
export interface RenameOps {
  rename(from: string, to: string): Promise<void>
}

/**
 * Writes several files as one set: all or none. Every temporary file is written first; then the
 * renames; if one of them fails, the files already renamed get their previous content back (or are
 * removed if they did not exist), so a reader never sees a JSON SBOM beside the XML of another run.
 */
export async function writeFilesAtomic(
  files: readonly AtomicFile[],
  ops: RenameOps = { rename },
): Promise<void> {
  const staged: Array<{ file: string; tmp: string; backup?: string }> = []
  const cleanup = async () => {
    for (const s of staged) {
      await rm(s.tmp, { force: true })
      if (s.backup) await rm(s.backup, { force: true })
    }
  }
  // the file being worked on, for the error line
  let at: AtomicFile | undefined = files[0]
  const shown = (f: AtomicFile | undefined): string => f?.display ?? f?.file ?? ''
  try {
    for (const f of files) {
      at = f
      const shownDir = path.dirname(shown(f))
      await ensureDir(path.dirname(f.file), shownDir === '.' ? path.dirname(f.file) : shownDir)
      if ('staged' in f) {
        staged.push({ file: f.file, tmp: f.staged })
        continue
      }
      const entry: { file: string; tmp: string; backup?: string } = { file: f.file, tmp: tempNameFor(f.file) }
      staged.push(entry)
      await writeFile(entry.tmp, f.data, { mode: f.mode ?? 0o644 })
    }
    if (files.length > 1) {
      // a hard link keeps the previous bytes reachable for the roll-back without copying them
      for (const [i, s] of staged.entries()) {
        at = files[i]
        const backup = tempNameFor(s.file)
        try {
          await link(s.file, backup)
          s.backup = backup
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
        }
      }
    }
  } catch (e) {
    await cleanup()
    throw toFsError(e, shown(at), 'OUTPUT_UNWRITABLE', 'write')
  }
  const done: typeof staged = []
  try {
    for (const s of staged) {
      await ops.rename(s.tmp, s.file)
      done.push(s)
    }
  } catch (e) {
    for (const s of done.reverse()) {
      if (s.backup) await rename(s.backup, s.file).catch(() => {})
      else await rm(s.file, { force: true })
    }
    await cleanup()
    throw toFsError(e, shown(files[done.length] ?? at), 'OUTPUT_UNWRITABLE', 'write')
  }
  await cleanup()
}

/**
 * Removes the temporary files a killed detbuild left in `dir` (and its subfolders, `depth` deep; links
 * are not followed). Files of a process that is still running are kept: it may be writing them now.
 * Called once when a command opens the workspace, so no later step ever takes a leftover for an output.
 */
export async function removeStaleTempFiles(dir: string, depth = 4): Promise<string[]> {
  const removed: string[] = []
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return removed
  }
  for (const e of entries) {
    const full = path.join(dir, e.name)
    if (e.isDirectory()) {
      if (depth > 0) removed.push(...(await removeStaleTempFiles(full, depth - 1)))
      continue
    }
    const pid = tempFileOwner(e.name)
    if (pid === undefined || isAlive(pid)) continue
    await rm(full, { force: true })
    removed.push(full)
  }
  return removed
}

/**
 * What every command that writes does once before it starts: removes a killed run's temporary files
 * from the workspace (`out`, with its subfolders) and the project folder (`cwd`, top level only).
 */
export async function openWorkspace(cwd: string, out: string): Promise<string[]> {
  return [...(await removeStaleTempFiles(out)), ...(await removeStaleTempFiles(cwd, 0))]
}

function isAlive(pid: number): boolean {
  // pid 0 and negative pids name process groups: such a file is not one of ours to judge
  if (pid === process.pid || !Number.isSafeInteger(pid) || pid <= 0) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: alive but someone else's; only "no such process" is dead
    return (e as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * Reads a file's bytes, refusing one larger than the cap for its kind before reading it (fstat), and
 * again if it grows while being read. Any failure is a DetbuildError naming `display`.
 */
async function readCapped(file: string, code: ErrorCode, display: string, kind: InputKind): Promise<Buffer> {
  const cap = maxInputBytesFor(kind)
  const tooLarge = (size: string) =>
    new InputError(
      'INPUT_TOO_LARGE',
      `${size} is over the ${cap}-byte input limit (raise it with --max-input-bytes)`,
      {
        file: display,
        details: { limit: cap },
      },
    )
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(file, 'r')
  } catch (e) {
    throw toFsError(e, display, code, 'read')
  }
  try {
    const info = await handle.stat()
    if (info.isDirectory()) throw new InputError(code, 'is a directory, expected a file', { file: display })
    if (info.size > cap) throw tooLarge(`${info.size} bytes`)
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      // one read for a regular file (its size + 1 to see the end), 64 KiB steps for pipes; never past cap + 1
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(info.size + 1 - total, 65536), cap + 1 - total))
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > cap) throw tooLarge('the file')
      chunks.push(chunk.subarray(0, bytesRead))
    }
    // a regular file arrives in one read: hand that buffer back instead of copying it
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total)
  } catch (e) {
    throw toFsError(e, display, code, 'read')
  } finally {
    await handle.close()
  }
}

/** Reads a text file (capped by its kind); a missing or unreadable file is an InputError naming it. */
export async function readTextFile(
  file: string,
  code: ErrorCode = 'INPUT_UNREADABLE',
  display = file,
  kind: InputKind = 'data',
): Promise<string> {
  return (await readCapped(file, code, display, kind)).toString('utf8')
}

/** Reads a file's bytes (capped by its kind); a missing or unreadable file is an InputError naming it. */
export async function readBytesFile(
  file: string,
  code: ErrorCode = 'INPUT_UNREADABLE',
  display = file,
  kind: InputKind = 'data',
): Promise<Buffer> {
  return readCapped(file, code, display, kind)
}

/** Reads and parses a JSON file (capped, depth-checked) with file/line/column errors. */
export async function readJsonFile(
  file: string,
  code: ErrorCode = 'INPUT_JSON_INVALID',
  display = file,
  kind: InputKind = 'data',
): Promise<unknown> {
  return parseJson(await readTextFile(file, code, display, kind), display, code)
}

/** True when `file` exists; false only when it is absent (a symlink loop or a refused path throws). */
export async function exists(
  file: string,
  display = file,
  code: ErrorCode = 'INPUT_UNREADABLE',
): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code
    if (errno === 'ENOENT' || errno === 'ENOTDIR') return false
    throw toFsError(e, display, code, 'read')
  }
}

/** True when `dir` is an existing folder; false when absent or not a folder (a refused path throws). */
export async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw toFsError(e, dir, 'INPUT_UNREADABLE', 'list')
  }
}

/** POSIX path of `file` relative to `root`, for anything written into an output. */
export function toPosixRelative(root: string, file: string): string {
  const rel = path.relative(root, file) || '.'
  return rel.split(path.sep).join('/')
}
