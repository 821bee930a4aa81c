/** Edge: files. Atomic writes and reads that fail with one clear line naming the file. */
import { link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { parseJson } from './json-parse.ts'

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
 * sees a half-written output and a failure leaves the previous file untouched.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  await writeFilesAtomic([{ file, data, mode }])
}

export interface AtomicFile {
  file: string
  data: string | Uint8Array
  mode?: number
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
  let at = files[0]?.file ?? ''
  try {
    for (const f of files) {
      at = f.file
      await mkdir(path.dirname(f.file), { recursive: true })
      const entry: { file: string; tmp: string; backup?: string } = { file: f.file, tmp: tempNameFor(f.file) }
      staged.push(entry)
      await writeFile(entry.tmp, f.data, { mode: f.mode ?? 0o644 })
    }
    if (files.length > 1) {
      // a hard link keeps the previous bytes reachable for the roll-back without copying them
      for (const s of staged) {
        at = s.file
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
    throw unwritable(e, at)
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
    throw unwritable(e, staged[done.length]?.file ?? at)
  }
  await cleanup()
}

/** The output folder or file is unusable (a folder in the way, no space, no permission): exit 2. */
function unwritable(e: unknown, file: string): unknown {
  const err = e as NodeJS.ErrnoException
  if (typeof err?.code !== 'string' || !/^E[A-Z]+$/.test(err.code)) return e
  const why =
    err.code === 'EISDIR' || err.code === 'EPERM'
      ? 'cannot be replaced (a folder or a protected file is in the way)'
      : err.code === 'EACCES'
        ? 'permission denied'
        : err.code === 'ENOSPC'
          ? 'no space left on the device'
          : `cannot write (${err.code})`
  return new InputError('OUTPUT_UNWRITABLE', why, { file, cause: e })
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
