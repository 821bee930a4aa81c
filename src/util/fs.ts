/** Edge: files. Atomic writes and reads that fail with one clear line naming the file. */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { parseJson } from './json-parse.ts'

/**
 * Writes a file atomically: a temporary file in the same folder, then a rename, so a reader never
 * sees a half-written output and a failure leaves the previous file untouched. The temporary name's
 * randomness never reaches an output.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const dir = path.dirname(file)
  await mkdir(dir, { recursive: true })
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  try {
    await writeFile(tmp, data, { mode })
    await rename(tmp, file)
  } catch (e) {
    await rm(tmp, { force: true })
    throw e
  }
}

function unreadable(e: unknown, code: string, display: string): InputError {
  const err = e as NodeJS.ErrnoException
  const why =
    err.code === 'ENOENT'
      ? 'file not found'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.code === 'EISDIR'
          ? 'is a directory, expected a file'
          : `cannot read (${err.code ?? err.message})`
  return new InputError(code, why, { file: display, cause: e })
}

/** Reads a text file; a missing or unreadable file is an InputError naming it. */
export async function readTextFile(file: string, code = 'INPUT_UNREADABLE', display = file): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    throw unreadable(e, code, display)
  }
}

/** Reads a file's bytes; a missing or unreadable file is an InputError naming it. */
export async function readBytesFile(
  file: string,
  code = 'INPUT_UNREADABLE',
  display = file,
): Promise<Buffer> {
  try {
    return await readFile(file)
  } catch (e) {
    throw unreadable(e, code, display)
  }
}

/** Reads and parses a JSON file with file/line/column errors. */
export async function readJsonFile(
  file: string,
  code = 'INPUT_JSON_INVALID',
  display = file,
): Promise<unknown> {
  return parseJson(await readTextFile(file, code, display), display, code)
}

export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file)
    return true
  } catch {
    return false
  }
}

/** POSIX path of `file` relative to `root`, for anything written into an output. */
export function toPosixRelative(root: string, file: string): string {
  const rel = path.relative(root, file) || '.'
  return rel.split(path.sep).join('/')
}
