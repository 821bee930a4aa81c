import type { Command } from 'commander'
import type { ExitCode } from '../errors.ts'
import type { Logger } from '../util/log.ts'

/** Global options, resolved once (absolute paths) and frozen. */
export interface GlobalOptions {
  readonly cwd: string
  readonly out: string
  readonly json: boolean
  readonly quiet: boolean
  readonly debug: boolean
  readonly color: boolean
}

/** What a command hands back to the entry: nothing else prints results or exits. */
export interface CommandOutcome {
  exitCode: ExitCode
  /** printed as JSON on stdout with --json */
  data: unknown
  /** printed on stdout otherwise (unless --quiet) */
  text: string
}

export interface CommandEnv {
  readonly globals: GlobalOptions
  readonly log: Logger
  readonly env: NodeJS.ProcessEnv
  readonly now: () => Date
}

export type CommandAction<O> = (options: O, env: CommandEnv, args: string[]) => Promise<CommandOutcome>

/** Registers one command; `wrap` turns a typed action into commander's action callback. */
export interface Registrar {
  wrap<O>(action: CommandAction<O>): (...args: unknown[]) => Promise<void>
}

export type RegisterCommand = (program: Command, registrar: Registrar) => void
