/**
 * The CLI entry: runs the program, turns outcomes and errors into output and an exit code.
 * `runCli` is the only place in detbuild that calls process.exit.
 */
import path from 'node:path'
import { CommanderError } from 'commander'
import { type HostEnv, hostEnvironment } from '../config/index.ts'
import { type ErrorCode, ExitCode, InputError, isWrappedBug, toDetbuildError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { showControls } from '../util/file-name.ts'
import { setMaxInputBytes } from '../util/fs.ts'
import { fromStrayErrno } from '../util/fs-errors.ts'
import { wantsColor } from '../util/log.ts'
import { redactDeep, redactSecrets } from '../util/redact.ts'
import type { GlobalOptions } from './context.ts'
import { buildProgram } from './program.ts'

export interface MainIo {
  /** the host environment (the context resolves what the commands see: config/context.ts) */
  env: HostEnv
  cwd: string
  stdout: (text: string) => void
  stderr: (text: string) => void
  /** colour on stderr (logs, progress) */
  color: boolean
  /** colour on stdout (a command's result text); default none */
  stdoutColor?: boolean
  now?: () => Date
}

/** Runs detbuild with `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], raw: MainIo): Promise<number> {
  // the output edge: whatever reaches stdout or stderr (results, errors, progress, commander's usage
  // text) is redacted — a URL a user gave, or one a server echoed, may carry credentials
  const io: MainIo = {
    ...raw,
    stdout: (text) => raw.stdout(redactSecrets(text)),
    stderr: (text) => raw.stderr(redactSecrets(text)),
  }
  let globals: GlobalOptions | undefined
  let exitCode: number = ExitCode.ok
  const wantsJson = argv.includes('--json')
  const wantsDebug = argv.includes('--debug')
  /** the command a usage error is about, for its hint (the first argument that names one) */
  let command: string | undefined
  try {
    const program = await buildProgram({
      env: io.env,
      processCwd: io.cwd,
      color: io.color,
      stdoutColor: io.stdoutColor === true,
      stdout: io.stdout,
      stderr: io.stderr,
      now: io.now ?? (() => new Date()),
      onGlobals: (g) => {
        globals = g
      },
      onOutcome: (outcome, g) => {
        exitCode = outcome.exitCode
        if (g.json) io.stdout(stableJson(redactDeep(outcome.data)))
        else if (!g.quiet && outcome.text)
          io.stdout(outcome.text.endsWith('\n') ? outcome.text : `${outcome.text}\n`)
      },
    })
    const names = new Set(program.commands.map((c) => c.name()))
    command = argv.find((a) => names.has(a))
    await program.parseAsync([...argv], { from: 'user' })
    return exitCode
  } catch (e) {
    return report(e, globals, globals?.json ?? wantsJson, globals?.debug ?? wantsDebug, io, command)
  } finally {
    // --max-input-bytes holds for this run only
    setMaxInputBytes(undefined)
  }
}

function report(
  e: unknown,
  globals: GlobalOptions | undefined,
  json: boolean,
  debug: boolean,
  io: MainIo,
  command: string | undefined,
): number {
  if (e instanceof CommanderError) {
    // help and version are successes; everything else commander rejects is bad usage
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')
      return ExitCode.ok
    return reportUsage(e, json, io, command)
  }
  // an errno error naming a path that escaped the readers and writers is about that path, not a bug
  const err = toDetbuildError(e, (x) =>
    fromStrayErrno(x, (file) => displayPath(file, globals?.cwd ?? io.cwd)),
  )
  const known = !isWrappedBug(err)
  if (json) io.stdout(stableJson({ error: redactDeep(err.toJSON()) }))
  const hint = known || debug ? '' : ' (this is a bug in detbuild; run with --debug for a stack trace)'
  // one line, whatever the message quotes (a file name, a server's reply): controls are shown, not obeyed
  io.stderr(`detbuild: error [${err.code}]: ${showControls(err.toLine())}${hint}\n`)
  if (debug) io.stderr(`${(e as Error)?.stack ?? ''}\n`)
  return err.exitCode
}

/** commander's error codes → detbuild's (error-codes.ts, USAGE): every usage error is exit 2. */
const USAGE_CODES: Readonly<Record<string, ErrorCode>> = {
  'commander.unknownOption': 'USAGE_UNKNOWN_OPTION',
  'commander.unknownCommand': 'USAGE_UNKNOWN_COMMAND',
  'commander.missingArgument': 'USAGE_MISSING_ARGUMENT',
  'commander.optionMissingArgument': 'USAGE_MISSING_ARGUMENT',
  'commander.missingMandatoryOptionValue': 'USAGE_MISSING_ARGUMENT',
  'commander.invalidArgument': 'USAGE_INVALID_ARGUMENT',
  'commander.excessArguments': 'USAGE_TOO_MANY_ARGUMENTS',
  'commander.conflictingOption': 'USAGE_CONFLICTING_OPTIONS',
}

/**
 * A usage error commander found (an unknown option, a missing argument, a value not among the choices):
 * the one-line `detbuild: error [CODE]: …` form every other error has, naming where to find the usage.
 */
function reportUsage(e: CommanderError, json: boolean, io: MainIo, command: string | undefined): number {
  const code = USAGE_CODES[e.code] ?? 'USAGE_INVALID'
  // commander's message is `error: …`, sometimes with a second line (a suggestion: "Did you mean …?")
  const message = e.message
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
  const err = new InputError(code, message)
  if (json) io.stdout(stableJson({ error: err.toJSON() }))
  const help = code === 'USAGE_UNKNOWN_COMMAND' || !command ? 'detbuild --help' : `detbuild ${command} --help`
  io.stderr(`detbuild: error [${code}]: ${showControls(message)} (see ${help})\n`)
  return ExitCode.badInput
}

/** A path as the user should see it: relative to the project when inside it. */
function displayPath(file: string, cwd: string): string {
  const rel = path.relative(cwd, file)
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : file
}

/** Process entry used by bin/detbuild.js. */
export async function runCli(): Promise<never> {
  const env = hostEnvironment()
  // a reader that stops early (`detbuild sbom --help | head -1`) closes the pipe: the rest of that stream is
  // dropped and the command still ends with its own exit code, without a stack trace
  const closed = new Set<NodeJS.WriteStream>()
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e
      closed.add(stream)
    })
  const write = (stream: NodeJS.WriteStream, t: string) => {
    if (!closed.has(stream)) stream.write(t)
  }
  const code = await main(process.argv.slice(2), {
    env,
    cwd: process.cwd(),
    stdout: (t) => write(process.stdout, t),
    stderr: (t) => write(process.stderr, t),
    color: wantsColor(process.stderr, env),
    stdoutColor: wantsColor(process.stdout, env),
  })
  // let pending stdout writes drain before exiting
  process.exitCode = code
  if (!closed.has(process.stdout))
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()))
  process.exit(code)
}
