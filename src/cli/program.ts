import { stat } from 'node:fs/promises'
import path from 'node:path'
import { Command, Option } from 'commander'
import { type HostEnv, resolveContext } from '../config/index.ts'
import { InputError } from '../errors.ts'
import { setMaxInputBytes, toFsError } from '../util/fs.ts'
import { createLogger } from '../util/log.ts'
import { VERSION } from '../version.ts'
import { register as registerBuild } from './commands/build.ts'
import { register as registerBundle } from './commands/bundle.ts'
import { register as registerInit } from './commands/init.ts'
import { register as registerInspect } from './commands/inspect.ts'
import { register as registerKeygen } from './commands/keygen.ts'
import { register as registerLock } from './commands/lock.ts'
import { register as registerPolicy } from './commands/policy.ts'
import { register as registerReport } from './commands/report.ts'
import { register as registerRun } from './commands/run.ts'
import { register as registerSbom } from './commands/sbom.ts'
import { register as registerScan } from './commands/scan.ts'
import { register as registerSign } from './commands/sign.ts'
import { register as registerTrust } from './commands/trust.ts'
import { register as registerUpload } from './commands/upload.ts'
import { register as registerVerify } from './commands/verify.ts'
import type { CommandEnv, CommandOutcome, GlobalOptions, RegisterCommand, Registrar } from './context.ts'

export interface ProgramIo {
  /** the host environment: handed to the context (config/context.ts), which passes on the allowlisted part */
  env: HostEnv
  processCwd: string
  /** colour on stderr (logs, progress) */
  color: boolean
  /** colour on stdout (results): each stream's own terminal decides; default none */
  stdoutColor?: boolean
  stdout: (text: string) => void
  stderr: (text: string) => void
  now: () => Date
  /** receives each command's outcome */
  onOutcome: (outcome: CommandOutcome, globals: GlobalOptions) => void
  /** receives the resolved globals as soon as a command starts (for error formatting) */
  onGlobals: (globals: GlobalOptions) => void
}

/**
 * The commands, in pipeline order. Each file only declares its options and imports its core lazily, so all
 * are loaded up front (static imports: one chunk in the CLI bundle, not a file per command).
 */
const commands: readonly RegisterCommand[] = [
  registerRun,
  registerInit,
  registerLock,
  registerBuild,
  registerSbom,
  registerScan,
  registerPolicy,
  registerSign,
  registerVerify,
  registerTrust,
  registerReport,
  registerBundle,
  registerUpload,
  registerInspect,
  registerKeygen,
]

/** The commands that write into the workspace (or the project folder: detbuild.lock, the config). */
const WRITES_WORKSPACE: ReadonlySet<string> = new Set([
  'run',
  'init',
  'lock',
  'build',
  'sbom',
  'scan',
  'policy',
  'sign',
  'report',
  'bundle',
  'upload',
])

export async function buildProgram(io: ProgramIo): Promise<Command> {
  const program = new Command('detbuild')
    .description(
      'Reproducible builds, CycloneDX SBOMs, OSV scans, sigstore signatures and audit evidence bundles.',
    )
    .version(VERSION, '-V, --version')
    .option('-C, --cwd <dir>', 'project directory', '.')
    .option('--out <dir>', 'workspace directory for outputs (default: <cwd>/.detbuild)')
    .option('--json', 'print a machine-readable result on stdout', false)
    .option('-q, --quiet', 'print nothing but errors', false)
    .option('--debug', 'print debug logs and stack traces', false)
    .option(
      '--max-input-bytes <n>',
      'refuse input files larger than this (default: 256 MiB for SBOMs, lockfiles and results; 16 MiB for config, policy, ignore and key files)',
    )
    .addOption(new Option('--no-color', 'disable colours (also NO_COLOR)'))
    // every command's --help lists these options too (set before the commands: they inherit it)
    .configureHelp({ showGlobalOptions: true })
    .exitOverride()
    // commander's own usage errors are reported by the entry (main.ts), in detbuild's one-line form
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: () => {} })

  const registrar: Registrar = {
    wrap(action) {
      return async (...args: unknown[]) => {
        const command = args[args.length - 1] as Command
        const raw = command.optsWithGlobals() as Record<string, unknown>
        const cwd = path.resolve(io.processCwd, String(raw.cwd ?? '.'))
        await assertProjectDir(cwd, String(raw.cwd ?? '.'))
        setMaxInputBytes(toMaxInputBytes(raw.maxInputBytes))
        const globals: GlobalOptions = Object.freeze({
          cwd,
          out: path.resolve(cwd, raw.out ? String(raw.out) : '.detbuild'),
          json: raw.json === true,
          quiet: raw.quiet === true,
          debug: raw.debug === true,
          color: io.color && raw.color !== false,
          stdoutColor: io.stdoutColor === true && raw.color !== false,
        })
        io.onGlobals(globals)
        const env: CommandEnv = {
          globals,
          now: io.now,
          resolveContext: ({ extraEnv, ...request } = {}) =>
            resolveContext({
              cwd: globals.cwd,
              ...request,
              env: extraEnv ? { ...io.env, ...extraEnv } : io.env,
              now: io.now,
            }),
          log: createLogger({
            quiet: globals.quiet || globals.json,
            debug: globals.debug,
            color: globals.color,
            write: (line) => io.stderr(`${line}\n`),
          }),
        }
        const positional = args
          .slice(0, -2)
          .flat()
          .filter((a): a is string => typeof a === 'string')
        // a killed earlier command may have left temporary files: gone before anything reads the workspace
        if (WRITES_WORKSPACE.has(command.name())) {
          const { openWorkspace } = await import('../util/fs.ts')
          await openWorkspace(globals.cwd, globals.out)
        }
        const options = command.opts()
        const outcome = await action(options as never, env, positional)
        io.onOutcome(outcome, globals)
      }
    },
  }
  for (const register of commands) register(program, registrar)
  return program
}

/** `-C` must name an existing folder: a typo must not look like an empty project. */
async function assertProjectDir(cwd: string, given: string): Promise<void> {
  let isDir: boolean
  try {
    isDir = (await stat(cwd)).isDirectory()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new InputError('USAGE_CWD_INVALID', 'the project folder (-C) does not exist', { file: given })
    throw toFsError(e, given, 'USAGE_CWD_INVALID', 'list')
  }
  if (!isDir)
    throw new InputError('USAGE_CWD_INVALID', 'the project folder (-C) is not a folder', { file: given })
}

function toMaxInputBytes(value: unknown): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < 1)
    throw new InputError(
      'USAGE_MAX_INPUT_BYTES',
      '--max-input-bytes must be a positive whole number of bytes',
    )
  return n
}
