import { type Command, Option } from 'commander'
import { SIGNING_FLAGS, TRUST_FLAGS } from '../flags/index.ts'
import { parseDuration } from '../util/duration.ts'
import type { FlagSpec } from '../util/flag-spec.ts'
import type { Logger } from '../util/log.ts'

/** The step's own flags from its table, with the step's own help and defaults. */
function addFlags(command: Command, table: readonly FlagSpec[]): Command {
  for (const f of table)
    if (f.default === undefined) command.option(f.flag, f.description)
    else command.option(f.flag, f.description, f.default)
  return command
}

/** The signing flags `detbuild sign` and `detbuild bundle` share (sign/flags.ts; resolved by sign/config.ts). */
export function addSigningOptions(command: Command): Command {
  return addFlags(command, SIGNING_FLAGS)
}

/** Warns about a deprecated form of a signing flag: `--timeout` without a unit (read as seconds). */
export function warnDeprecatedSigningFlags(flags: { timeout?: string }, log: Logger): void {
  if (flags.timeout !== undefined && parseDuration(flags.timeout, 's')?.bare)
    log.warn(
      `--timeout ${flags.timeout} without a unit is deprecated: it is read as seconds; write --timeout ${flags.timeout}s`,
    )
}

/**
 * Who must have signed, and the trust root: the flags `detbuild verify` and `detbuild policy` share
 * (verify/flags.ts; resolved by verify/options.ts into src/verify's TrustFlags).
 */
export function addTrustOptions(command: Command): Command {
  return addFlags(command, TRUST_FLAGS)
}

/** `detbuild run`'s flags for one step's table: its run name, `<step>: ` help, no defaults. */
export function addRunFlags(command: Command, table: readonly FlagSpec[], step: string): Command {
  for (const f of table) if (f.run) command.option(f.run.flag ?? f.flag, `${step}: ${f.run.description}`)
  return command
}

/**
 * The values commander parsed for a step's run flags, under the step's own option names (`--verify-key`
 * → TrustFlags' `key`); flags not given are absent (a `--no-x` flag only when given: false).
 */
export function runFlagValues<T extends object>(
  flags: Readonly<Record<string, unknown>>,
  table: readonly FlagSpec<keyof T & string>[],
): Partial<T> {
  // a flag with an argument gives a string, a switch a boolean: the step's options type says the same
  const values: Record<string, string | boolean> = {}
  for (const f of table) {
    if (!f.run) continue
    const option = new Option(f.run.flag ?? f.flag)
    const value = flags[option.attributeName()]
    if (typeof value === 'string' || value === !option.negate) values[f.key] = value
  }
  return values as Partial<T>
}
