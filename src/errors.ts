/**
 * The one error hierarchy. Every error detbuild raises on purpose is a DetbuildError with a stable
 * `DOMAIN_REASON` code and the exit code the README documents. Only the CLI and Action entries turn
 * errors into text.
 */
import type { ErrorCode } from './error-codes.ts'

export type { ErrorCode } from './error-codes.ts'

/** The exit codes detbuild documents: 0 ok, 1 a check said no, 2 bad input, 3 incomplete, 70 a bug. */
export const ExitCode = {
  /** success */
  ok: 0,
  /** a check said no: policy, verification, findings at/above --fail-on, not reproducible */
  checkFailed: 1,
  /** bad usage or bad input */
  badInput: 2,
  /** could not answer: network, service down, truncated reply */
  incomplete: 3,
  /** a bug in detbuild */
  internal: 70,
} as const
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

export interface ErrorOptions {
  /** file the problem is about, relative to the project when possible */
  file?: string
  /** structured extra data, printed with --json */
  details?: Record<string, unknown>
  cause?: unknown
}

/** The base of every error detbuild throws on purpose: a stable `code`, the CLI's `exitCode`, the file it is about. */
export class DetbuildError extends Error {
  readonly code: ErrorCode
  readonly exitCode: ExitCode
  readonly file: string | undefined
  readonly details: Record<string, unknown> | undefined

  constructor(code: ErrorCode, exitCode: ExitCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.exitCode = exitCode
    this.file = options.file
    this.details = options.details
  }

  /** The one line printed for a user: `file: message` when a file is known. */
  toLine(): string {
    return this.file && !this.message.startsWith(this.file) ? `${this.file}: ${this.message}` : this.message
  }

  toJSON(): { code: ErrorCode; message: string; file?: string; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      ...(this.file ? { file: this.file } : {}),
      ...(this.details ? { details: this.details } : {}),
    }
  }
}

/** Bad usage or bad input (exit 2). */
export class InputError extends DetbuildError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, ExitCode.badInput, message, options)
  }
}

/** A check said no (exit 1). */
export class CheckFailedError extends DetbuildError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, ExitCode.checkFailed, message, options)
  }
}

/** Could not answer: network, service, truncated data (exit 3). Never reported as success. */
export class IncompleteError extends DetbuildError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, ExitCode.incomplete, message, options)
  }
}

/** A bug: an invariant that should hold did not (exit 70). */
export class InternalError extends DetbuildError {
  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(code, ExitCode.internal, message, options)
  }
}

/** Whether `e` is one of detbuild's own errors (then `code` and `exitCode` are meaningful). */
export function isDetbuildError(e: unknown): e is DetbuildError {
  return e instanceof DetbuildError
}

/**
 * Any thrown value as a DetbuildError, the one place that decides what is a bug: a DetbuildError is kept;
 * `recognise` may name what else is not a bug (the entries pass `fromStrayErrno`, so that a file-system
 * error naming a path stays a path problem); anything left is `INTERNAL_ERROR` (exit 70) with the value as
 * its `cause`. Used by every entry that reports errors: the CLI, the Action and each step of `run`.
 */
export function toDetbuildError(
  e: unknown,
  recognise?: (e: unknown) => DetbuildError | undefined,
): DetbuildError {
  if (isDetbuildError(e)) return e
  return (
    recognise?.(e) ??
    new InternalError('INTERNAL_ERROR', e instanceof Error ? e.message : String(e), { cause: e })
  )
}

/** True when `err` is `toDetbuildError`'s wrapping of a value that was not a DetbuildError: a bug. */
export function isWrappedBug(err: DetbuildError): boolean {
  return err.code === 'INTERNAL_ERROR' && !isDetbuildError(err.cause)
}
