import type { Command } from 'commander'
import type { Context, ContextInput, HostEnv } from '../config/index.ts'
import type { ExitCode } from '../errors.ts'
import type { Logger } from '../util/log.ts'

/** Global options, resolved once (absolute paths) and frozen. */
export interface GlobalOptions {
  readonly cwd: string
  readonly out: string
  readonly json: boolean
  readonly quiet: boolean
  readonly debug: boolean
  /** colour on stderr (logs, progress) */
  readonly color: boolean
  /** colour on stdout (a command's result text) */
  readonly stdoutColor: boolean
}

/** What a command hands back to the entry: nothing else prints results or exits. */
export interface CommandOutcome {
  exitCode: ExitCode
  /** printed as JSON on stdout with --json */
  data: unknown
  /** printed on stdout otherwise (unless --quiet) */
  text: string
}

/** What a command may change when it resolves its context (the project folder, the config, the cache root). */
export type ContextRequest = Partial<Omit<ContextInput, 'env' | 'now'>> & {
  /** variables added to the host's (the demo project's) */
  extraEnv?: HostEnv
}

export interface CommandEnv {
  readonly globals: GlobalOptions
  readonly log: Logger
  readonly now: () => Date
  /**
   * Resolves this command's context (config/context.ts) from the host environment the entry was given,
   * the project folder (-C) and the clock: the only way a command sees the environment. Call it once.
   */
  readonly resolveContext: (request?: ContextRequest) => Promise<Context>
}

export type CommandAction<O> = (options: O, env: CommandEnv, args: string[]) => Promise<CommandOutcome>

/** Registers one command; `wrap` turns a typed action into commander's action callback. */
export interface Registrar {
  wrap<O>(action: CommandAction<O>): (...args: unknown[]) => Promise<void>
}

export type RegisterCommand = (program: Command, registrar: Registrar) => void
