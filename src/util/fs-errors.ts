/**
 * Pure: the one mapping from a failed file-system call (Node's errno errors) to a DetbuildError naming
 * the path. A path the user gave that is missing, of the wrong kind or refused is bad input (exit 2);
 * a full disk or a failing device is "could not finish" (exit 3). Everything else stays a bug (exit 70).
 */

import type { ErrorCode } from '../errors.ts'
import { type DetbuildError, IncompleteError, InputError, isDetbuildError } from '../errors.ts'

/** What the failed call tried to do, for the wording of the message. */
export type FsOperation = 'read' | 'write' | 'mkdir' | 'list'

/** Errno codes that say "the path is wrong or refused" (exit 2). */
const BAD_PATH: Readonly<Record<string, (op: FsOperation) => string>> = {
  ENOENT: (op) => (op === 'read' ? 'file not found' : op === 'list' ? 'folder not found' : 'not found'),
  ENOTDIR: (op) =>
    op === 'list' ? 'is a file, expected a folder' : 'a part of the path is a file, not a folder',
  EISDIR: () => 'is a directory, expected a file',
  EEXIST: (op) => (op === 'mkdir' ? 'is a file, expected a folder' : 'already exists'),
  ELOOP: () => 'too many levels of symbolic links (a symlink loop?)',
  EACCES: () => 'permission denied',
  EPERM: () => 'operation not permitted',
  EROFS: () => 'read-only file system',
  ENAMETOOLONG: () => 'file name too long',
  ENXIO: () => 'no such device',
  ETXTBSY: () => 'file is busy',
}

/** Errno codes that say "the machine could not finish" (exit 3). */
const CANNOT_FINISH: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large for the file system',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  ENOMEM: 'out of memory',
}

/** True for an error from a file-system call (an errno `code` such as ENOENT). */
export function isErrnoError(e: unknown): e is NodeJS.ErrnoException & { code: string } {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!)
  )
}

/**
 * The DetbuildError for a failed file-system call on `display` (the path as the user should see it).
 * `code` is the stable code for a bad path (exit 2); a full disk is `IO_NO_SPACE` and a failing device
 * `IO_FAILED` (exit 3). A DetbuildError passes through unchanged.
 */
export function toFsError(e: unknown, display: string, code: ErrorCode, op: FsOperation): DetbuildError {
  if (isDetbuildError(e)) return e
  const errno = isErrnoError(e) ? e.code : undefined
  const finish = errno ? CANNOT_FINISH[errno] : undefined
  if (finish) {
    const what = op === 'read' || op === 'list' ? 'cannot read' : 'cannot write'
    return new IncompleteError(
      errno === 'ENOSPC' || errno === 'EDQUOT' ? 'IO_NO_SPACE' : 'IO_FAILED',
      `${what}: ${finish}`,
      {
        file: display,
        cause: e,
        details: { errno },
      },
    )
  }
  const bad = errno ? BAD_PATH[errno] : undefined
  const verb = op === 'read' ? 'cannot read' : op === 'list' ? 'cannot list' : 'cannot write'
  const why = bad ? bad(op) : `${verb} (${errno ?? (e instanceof Error ? e.message : String(e))})`
  return new InputError(code, bad && op !== 'read' && op !== 'list' ? `${verb}: ${why}` : why, {
    file: display,
    cause: e,
    ...(errno ? { details: { errno } } : {}),
  })
}

/**
 * The last resort for an errno error that escaped every reader and writer: when it names a path, it is
 * about a path (exit 2, or 3 for a full disk), not a bug. Undefined when it names no path.
 */
export function fromStrayErrno(e: unknown, display: (file: string) => string): DetbuildError | undefined {
  if (!isErrnoError(e) || typeof e.path !== 'string') return undefined
  const op: FsOperation =
    e.syscall === 'mkdir'
      ? 'mkdir'
      : e.syscall === 'scandir' || e.syscall === 'opendir'
        ? 'list'
        : /^(open|read|stat|lstat|access|realpath)/.test(e.syscall ?? '')
          ? 'read'
          : 'write'
  return toFsError(e, display(e.path), 'INPUT_PATH_UNUSABLE', op)
}
