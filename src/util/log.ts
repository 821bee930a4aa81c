/**
 * Edge: the one logger. Writes to stderr; stdout carries only a command's result. Every message is
 * redacted first: messages quote URLs and server replies, which may carry credentials.
 */
import { redactSecrets } from './redact.ts'

/** Where detbuild reports progress and warnings (stderr by default); every message is redacted. */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  debug(message: string): void
  readonly color: boolean
}

/** Options of {@link createLogger}: `quiet` drops info, `debug` adds debug lines, `write` replaces stderr. */
export interface LoggerOptions {
  quiet?: boolean
  debug?: boolean
  color?: boolean
  write?: (line: string) => void
}

const paint = (on: boolean, code: string, s: string): string => (on ? `\u001b[${code}m${s}\u001b[0m` : s)

/** A {@link Logger} that redacts credentials from every line before writing it. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const sink = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const write = (line: string) => sink(redactSecrets(line))
  const color = options.color ?? false
  return {
    color,
    info(message) {
      if (!options.quiet) write(message)
    },
    warn(message) {
      write(`${paint(color, '33', 'warning:')} ${message}`)
    },
    debug(message) {
      if (options.debug) write(paint(color, '2', `debug: ${message}`))
    },
  }
}

/** A logger that drops everything (library use and tests). */
export const silentLogger: Logger = createLogger({ quiet: true, write: () => {} })

/**
 * Whether to use colour on `stream` (each stream decides for itself: `detbuild policy | less` keeps a
 * coloured stderr): FORCE_COLOR wins (`0` or `false` turns colour off, as in Node), then NO_COLOR
 * (https://no-color.org), then whether the stream is a terminal.
 */
export function wantsColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false'
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false
  return stream.isTTY === true && env.TERM !== 'dumb'
}
