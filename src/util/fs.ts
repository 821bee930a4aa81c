/** Edge: files. Atomic writes and capped reads that fail with one clear line naming the file. */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { toFsError } from './fs-errors.ts'
import { parseJson } from './json-parse.ts'

export { fromStrayErrno, isErrnoError, toFsError } from './fs-errors.ts'

/**
 * How large an input may be before reading it is refused (exit 2, `INPUT_TOO_LARGE`): SBOMs,
 * lockfiles, scan results and archives are `data`; configuration, policies, ignore files and keys are
 * `config`. `--max-input-bytes` raises (or lowers) both.
 */
export const DEFAULT_MAX_INPUT_BYTES = { data: 256 * 1024 * 1024, config: 16 * 1024 * 1024 } as const
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
export async function ensureDir(dir: string, display = dir, code = 'OUTPUT_UNWRITABLE'): Promise<void> {
  try {
    await mkdir(dir, { recursive: true })
  } catch (e) {
    throw toFsError(e, display, code, 'mkdir')
  }
}

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename, so a reader never
 * sees a half-written output and a failure leaves the previous file untouched. The temporary name's
 * randomness never reaches an output. Failures name `display` (exit 2; a full disk exit 3).
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  mode = 0o644,
  display = file,
): Promise<void> {
  const dir = path.dirname(file)
  const shownDir = path.dirname(display)
  await ensureDir(dir, shownDir === '.' ? dir : shownDir)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeFile(tmp, data, { mode })
    await rename(tmp, file)
  } catch (e) {
    await rm(tmp, { force: true })
    throw toFsError(e, display, 'OUTPUT_UNWRITABLE', 'write')
  }
}

/**
 * Reads a file's bytes, refusing one larger than the cap for its kind before reading it (fstat), and
 * again if it grows while being read. Any failure is a DetbuildError naming `display`.
 */
async function readCapped(file: string, code: string, display: string, kind: InputKind): Promise<Buffer> {
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
    return Buffer.concat(chunks, total)
  } catch (e) {
    throw toFsError(e, display, code, 'read')
  } finally {
    await handle.close()
  }
}

/** Reads a text file (capped by its kind); a missing or unreadable file is an InputError naming it. */
export async function readTextFile(
  file: string,
  code = 'INPUT_UNREADABLE',
  display = file,
  kind: InputKind = 'data',
): Promise<string> {
  return (await readCapped(file, code, display, kind)).toString('utf8')
}

/** Reads a file's bytes (capped by its kind); a missing or unreadable file is an InputError naming it. */
export async function readBytesFile(
  file: string,
  code = 'INPUT_UNREADABLE',
  display = file,
  kind: InputKind = 'data',
): Promise<Buffer> {
  return readCapped(file, code, display, kind)
}

/** Reads and parses a JSON file (capped, depth-checked) with file/line/column errors. */
export async function readJsonFile(
  file: string,
  code = 'INPUT_JSON_INVALID',
  display = file,
  kind: InputKind = 'data',
): Promise<unknown> {
  return parseJson(await readTextFile(file, code, display, kind), display, code)
}

/** The entries of a folder; a missing path, a file or a refused folder is an error naming it. */
export async function listDir(dir: string, code = 'INPUT_UNREADABLE', display = dir): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch (e) {
    throw toFsError(e, display, code, 'list')
  }
}

/** True when `file` exists; false only when it is absent (a symlink loop or a refused path throws). */
export async function exists(file: string, display = file, code = 'INPUT_UNREADABLE'): Promise<boolean> {
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
