/** The scrubbed build environment, pure: an allowlist of host variables plus fixed, recorded values. */
import { withoutCredentials } from '../util/redact.ts'

/** Directories searched after the toolchain's own bin folder. */
export const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'] as const

/** What a check run changes on purpose (see `detbuild build --check`). */
export interface Variation {
  tz: string
  locale: string
  noise: Readonly<Record<string, string>>
}

export interface BuildEnvInput {
  hostEnv: NodeJS.ProcessEnv
  /** config `env`: names passed through from the host when set there */
  allowlist: readonly string[]
  home: string
  tmp: string
  /** folders put first on PATH (toolchain shims, system npm's folder) */
  pathDirs: readonly string[]
  sourceDateEpoch: number
  npmCache: string
  registry: string
  /** install and build must not reach the network: npm runs --offline */
  offline: boolean
  variation?: Variation
}

/** Names detbuild always sets itself (recorded in the provenance). */
export const FIXED_ENV_NAMES = [
  'HOME',
  'LANG',
  'LC_ALL',
  'NO_UPDATE_NOTIFIER',
  'PATH',
  'SOURCE_DATE_EPOCH',
  'TMPDIR',
  'TZ',
  'npm_config_audit',
  'npm_config_cache',
  'npm_config_fund',
  'npm_config_logs_dir',
  'npm_config_offline',
  'npm_config_registry',
  'npm_config_update_notifier',
  'npm_config_userconfig',
] as const

/** Builds the environment for every command: nothing from the host but the allowlisted names. */
export function toBuildEnv(input: BuildEnvInput): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of input.allowlist) {
    const value = input.hostEnv[name]
    if (value !== undefined) env[name] = value
  }
  Object.assign(env, {
    PATH: [...input.pathDirs, ...SYSTEM_PATH].join(':'),
    HOME: input.home,
    TMPDIR: input.tmp,
    TZ: 'UTC',
    LC_ALL: 'C.UTF-8',
    LANG: 'C.UTF-8',
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    NO_UPDATE_NOTIFIER: '1',
    npm_config_cache: input.npmCache,
    npm_config_userconfig: `${input.home}/.npmrc`,
    // npm writes its debug logs into the cache by default: the build room's cache is not the place
    npm_config_logs_dir: `${input.home}/.npm/_logs`,
    // offline, npm needs no credentials (the cache is keyed without them), and the build's own code
    // must not read them; a build allowed on the network may need them to install
    npm_config_registry: input.offline ? withoutCredentials(input.registry) : input.registry,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_offline: input.offline ? 'true' : 'false',
  })
  if (input.variation) {
    env.TZ = input.variation.tz
    env.LC_ALL = input.variation.locale
    env.LANG = input.variation.locale
    Object.assign(env, input.variation.noise)
  }
  return env
}
