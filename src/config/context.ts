/**
 * Edge: the one resolved context of a detbuild invocation — the source date, the cache root, the config
 * file (read once), the environment the steps may see and the clock — made once by the CLI, the Action or
 * the programmatic API, frozen, and passed down. No step reads `process.env` or asks git for a time itself.
 */
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { type ConfigFile, readConfigFile } from './load-build-config.ts'

/** An environment as detbuild reads it: names to values, nothing else. */
export type HostEnv = Readonly<Record<string, string | undefined>>

/**
 * The source date when neither SOURCE_DATE_EPOCH nor a git commit gives one: 1980-01-01T00:00:00Z (zip's
 * epoch). A fixed time, never the clock: two runs of the same source outside git stamp the same bytes.
 */
export const DEFAULT_SOURCE_DATE_EPOCH = 315532800

/** Where the source date came from: the SOURCE_DATE_EPOCH variable, the last commit touching the project folder, the fixed default. */
export type SourceDateFrom = 'env' | 'git' | 'default'

/** How `sbom` (its `--json` `sourceDateEpoch.from`) and `bundle` (its warning) name where the date came from. */
export const SOURCE_DATE_SHOWN: Readonly<Record<SourceDateFrom, 'SOURCE_DATE_EPOCH' | 'git' | 'fallback'>> = {
  env: 'SOURCE_DATE_EPOCH',
  git: 'git',
  default: 'fallback',
}

/** The one source date every command stamps, and where it came from (SOURCE_DATE_EPOCH, git, the 1980 default). */
export interface SourceDate {
  /** seconds since 1970 */
  readonly epoch: number
  readonly from: SourceDateFrom
}

/** The resolved context: data only, frozen. */
export interface Context {
  /** the project folder (absolute) */
  readonly cwd: string
  /** every timestamp detbuild writes (build, SBOM, scan, evidence): see {@link resolveSourceDate} */
  readonly sourceDate: SourceDate
  /** detbuild's cache folder: toolchains, the npm cache, `osv/` (the OSV cache) */
  readonly cacheRoot: string
  /** the project's config file, read and parsed once; null when not asked for or there is none */
  readonly configFile: ConfigFile | null
  /** the environment the steps may see: the allowlisted names of the host's (see {@link allowEnv}) */
  readonly env: HostEnv
  /** the clock: what is really "now" (suppression expiry, policy evaluation, certificate validity) */
  readonly clock: () => Date
}

/** What {@link resolveContext} resolves the context from: the project folder, the host environment, the flags. */
export interface ContextInput {
  /** the project folder (absolute, or relative to the process's folder) */
  cwd: string
  /** the host environment; default: this process's ({@link hostEnvironment}) */
  env?: HostEnv
  /** `--cache-dir` of build, lock and run: replaces the default cache root (relative to `cwd`) */
  cacheDir?: string
  /** read the config file (build, lock, run): `--config`, else the first of CONFIG_FILES in `cwd` */
  readConfig?: boolean
  /** `--config`: an explicit config file (relative to `cwd`); missing is CONFIG_MISSING */
  configFile?: string
  /** names the caller reads on purpose besides the allowlist (e.g. `--key-password-env`'s) */
  allowEnv?: readonly string[]
  /** the clock; default: the real one */
  now?: () => Date
}

/**
 * The host environment of this process, as a copy. The only read of `process.env` in detbuild: the CLI's
 * and the Action's entries call it and hand the value to {@link resolveContext}.
 */
export function hostEnvironment(): Record<string, string | undefined> {
  return { ...process.env }
}

/**
 * Removes the variables `drop` names from this process's own environment (the Action: no program it
 * starts inherits a credential). The only write to `process.env` in detbuild.
 */
export function scrubHostEnvironment(drop: (name: string) => boolean): void {
  for (const name of Object.keys(process.env)) if (drop(name)) delete process.env[name]
}

/** Variables the steps read (or give a build, a git or an npm they start), by exact name. */
const ENV_NAMES: ReadonlySet<string> = new Set([
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'CI',
  'FORCE_COLOR',
  'GOPROXY',
  'GOSUMDB',
  'HOME',
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'LANG',
  'LOGNAME',
  'NODE_EXTRA_CA_CERTS',
  'NO_COLOR',
  'NO_PROXY',
  'PATH',
  'SHELL',
  'SIGSTORE_ID_TOKEN',
  'SOURCE_DATE_EPOCH',
  'SSL_CERT_DIR',
  'SSL_CERT_FILE',
  'TEMP',
  'TERM',
  'TMP',
  'TMPDIR',
  'TZ',
  'USER',
  'http_proxy',
  'https_proxy',
  'no_proxy',
])

/**
 * Families of variables the steps read: the locale, detbuild's own, git's (git-room.ts drops the ones
 * that point git elsewhere), npm's settings, the XDG folders. Not the runner's (GITHUB_*, RUNNER_*,
 * INPUT_*: the Action reads those at its edge), unless a config's `env` names one.
 */
const ENV_PREFIXES = ['DETBUILD_', 'GIT_', 'LC_', 'NPM_CONFIG_', 'XDG_', 'npm_config_'] as const

/**
 * The environment the steps may see: the names detbuild reads ({@link ENV_NAMES}, {@link ENV_PREFIXES})
 * plus the ones `extra` names (the config's `env` and `secretEnv`, a `--key-password-env`). Whatever else
 * the host holds is not passed down.
 */
export function allowEnv(env: HostEnv, extra: readonly string[] = []): HostEnv {
  const also = new Set(extra)
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue
    if (ENV_NAMES.has(name) || also.has(name) || ENV_PREFIXES.some((p) => name.startsWith(p)))
      out[name] = value
  }
  return Object.freeze(out)
}

/**
 * SOURCE_DATE_EPOCH's value: a whole number of seconds since 1970, digits only (at most 12).
 * Anything else is CONFIG_SOURCE_DATE_EPOCH_INVALID (exit 2), whichever command reads it.
 */
export function parseSourceDateEpoch(value: string): number {
  if (!/^\d{1,12}$/.test(value))
    throw new InputError(
      'CONFIG_SOURCE_DATE_EPOCH_INVALID',
      `SOURCE_DATE_EPOCH must be a whole number of seconds since 1970, got ${JSON.stringify(value)}`,
    )
  return Number(value)
}

/** Folders a build never stages, as git pathspecs relative to the project folder. */
const NEVER_STAGED_PATHSPECS = [':(exclude,glob)**/.detbuild/**', ':(exclude,glob)**/node_modules/**']

/**
 * The one source-date rule, for every command: SOURCE_DATE_EPOCH when set (and not empty), else the
 * commit time of the last commit touching the project folder (`git log -1 --format=%ct -- .` run in
 * `cwd`: in a monorepo package, that package's last change, not HEAD's; a shallow clone's boundary commit
 * counts as touching everything), else {@link DEFAULT_SOURCE_DATE_EPOCH}. Commits that touch only what a
 * build never stages (the default workspace `.detbuild/`, `node_modules/`) do not count: a committed
 * workspace would otherwise move the source date of the next build.
 */
export async function resolveSourceDate(cwd: string, env: HostEnv): Promise<SourceDate> {
  const raw = env.SOURCE_DATE_EPOCH
  if (raw !== undefined && raw !== '') return { epoch: parseSourceDateEpoch(raw), from: 'env' }
  try {
    // node:child_process loads only when git is asked: `--version` and `--help` start without it
    const [{ execFile }, { promisify }] = await Promise.all([
      import('node:child_process'),
      import('node:util'),
    ])
    const { stdout } = await promisify(execFile)(
      'git',
      ['log', '-1', '--no-show-signature', '--format=%ct', '--', '.', ...NEVER_STAGED_PATHSPECS],
      {
        cwd,
        env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_OPTIONAL_LOCKS: '0', LC_ALL: 'C' },
        timeout: 10_000,
      },
    )
    const t = stdout.trim()
    if (/^\d{1,12}$/.test(t)) return { epoch: Number(t), from: 'git' }
  } catch {
    // not a git repository, no commit yet, or no git: the fixed default
  }
  return { epoch: DEFAULT_SOURCE_DATE_EPOCH, from: 'default' }
}

/**
 * The project folder's path from the top folder of its git repository, POSIX, without a trailing slash:
 * `''` at the top; null when `cwd` is in no git repository. The top folder is found as git finds it
 * (without GIT_DIR or GIT_WORK_TREE): the nearest folder, from `cwd`'s real path upwards, holding a `.git`
 * folder or file (a linked worktree's or a submodule's `.git` is a file). Looked up in the file system
 * rather than by running `git rev-parse --show-prefix`: the same answer without starting a process.
 * Outputs that name files for a repository's tools (SARIF for code scanning, workflow annotations) join it
 * to a project-relative path. Never an absolute path.
 */
export async function resolveRepositoryPath(cwd: string): Promise<string | null> {
  const { lstat, realpath } = await import('node:fs/promises')
  let start: string
  try {
    start = await realpath(cwd)
  } catch {
    return null
  }
  for (let dir = start; ; ) {
    try {
      const st = await lstat(path.join(dir, '.git'))
      if (st.isDirectory() || st.isFile()) {
        const rel = path.relative(dir, start)
        return rel === '' ? '' : rel.split(path.sep).join('/')
      }
    } catch {
      // no .git here: look further up
    }
    const up = path.dirname(dir)
    if (up === dir) return null
    dir = up
  }
}

/**
 * The cache root: `--cache-dir` (relative to `cwd`), else `$XDG_CACHE_HOME/detbuild` (when absolute),
 * else `$HOME/.cache/detbuild` (the user's home folder when HOME is unset).
 */
export function resolveCacheRoot(env: HostEnv, cwd: string, flag?: string): string {
  if (flag) return path.resolve(cwd, flag)
  const xdg = env.XDG_CACHE_HOME
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'detbuild')
  return path.join(env.HOME || os.homedir(), '.cache', 'detbuild')
}

/** The names a config passes to a build on purpose (`env`, `secretEnv`), read from the parsed document. */
function configEnvNames(file: ConfigFile | null): string[] {
  const doc = file?.document
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return []
  const names: string[] = []
  for (const key of ['env', 'secretEnv']) {
    const list = (doc as Record<string, unknown>)[key]
    if (Array.isArray(list)) for (const n of list) if (typeof n === 'string') names.push(n)
  }
  return names
}

/** Resolves the context once: the source date, the cache root, the config file and the allowlisted environment. */
export async function resolveContext(input: ContextInput): Promise<Context> {
  const cwd = path.resolve(input.cwd)
  const host = input.env ?? hostEnvironment()
  const configFile = input.readConfig ? await readConfigFile(cwd, input.configFile) : null
  const env = allowEnv(host, [...configEnvNames(configFile), ...(input.allowEnv ?? [])])
  const sourceDate = Object.freeze(await resolveSourceDate(cwd, env))
  return Object.freeze({
    cwd,
    sourceDate,
    cacheRoot: resolveCacheRoot(env, cwd, input.cacheDir),
    configFile,
    env,
    clock: input.now ?? (() => new Date()),
  })
}
