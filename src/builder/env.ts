/** The scrubbed build environment, pure: an allowlist of host variables plus fixed, recorded values. */

import { withoutCredentials } from '../util/redact.ts'
import { isWithheldEnvName } from '../util/secret-env.ts'

/** Directories searched after the toolchain's own bin folder. */
export const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'] as const

/** What a check run changes on purpose (see `detbuild build --check`). */
export interface Variation {
  /** new values for names the allowlist lets through (TZ, LANG, LC_*): only those can differ between builds */
  passed: Readonly<Record<string, string>>
  /** extra variables a second machine's environment might hold */
  noise: Readonly<Record<string, string>>
}

/** Whether a variable name sets the locale (LANG, LC_ALL, LC_TIME, …). */
export function isLocaleName(name: string): boolean {
  return name === 'LANG' || name.startsWith('LC_')
}

export interface BuildEnvInput {
  hostEnv: NodeJS.ProcessEnv
  /** config `env`: names passed through from the host when set there */
  allowlist: readonly string[]
  /** config `secretEnv`: credential variables passed through on purpose */
  secretAllowlist?: readonly string[]
  /** config `git`: the staged source is a minimal git repository (see git-room.ts) */
  git?: boolean
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

/**
 * With `git: true`: git inside the build trusts the staged repository whoever owns its files (a sandbox
 * may run the build under another uid, and git refuses a repository of another owner as "dubious
 * ownership"; `safe.directory` is only read from protected config, so it comes as GIT_CONFIG_*), and no
 * host /etc/gitconfig changes what git prints.
 */
export const GIT_ROOM_ENV: Readonly<Record<string, string>> = Object.freeze({
  GIT_CONFIG_COUNT: '1',
  GIT_CONFIG_KEY_0: 'safe.directory',
  GIT_CONFIG_VALUE_0: '*',
  GIT_CONFIG_NOSYSTEM: '1',
})

/**
 * The host's proxy and private-CA settings: detbuild's own fetches use them (fetch-options.ts), and a
 * build allowed on the network is given the ones that are set, recorded by name in build.json.
 */
export const NETWORK_ENV_NAMES = [
  'HTTPS_PROXY',
  'HTTP_PROXY',
  'NODE_EXTRA_CA_CERTS',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'npm_config_ca',
  'npm_config_cafile',
  'npm_config_https_proxy',
  'npm_config_noproxy',
  'npm_config_proxy',
] as const

/** The network settings a build gets from the host: the set ones, only when it may use the network. */
export function toNetworkEnvNames(hostEnv: NodeJS.ProcessEnv, offline: boolean): string[] {
  return offline ? [] : NETWORK_ENV_NAMES.filter((n) => hostEnv[n] !== undefined && hostEnv[n] !== '')
}

/** Builds the environment for every command: nothing from the host but the allowlisted names. */
export function toBuildEnv(input: BuildEnvInput): Record<string, string> {
  const env: Record<string, string> = {}
  // the config was checked when it was read (CONFIG_ENV_SECRET); this is the last gate: a
  // withheld name never passes, whoever built the list
  const secretNames = input.secretAllowlist ?? []
  for (const name of toNetworkEnvNames(input.hostEnv, input.offline)) {
    const value = input.hostEnv[name] as string
    // a proxy URL may carry `user:password@`: build code reads it too, so it keeps them only when the
    // config passes that name on purpose (`secretEnv`)
    env[name] = secretNames.includes(name) ? value : withoutCredentials(value)
  }
  for (const name of [...input.allowlist, ...secretNames]) {
    const value = input.hostEnv[name]
    if (value !== undefined && !isWithheldEnvName(name)) env[name] = value
  }
  // TZ and the locale are fixed unless the config lets them through (then the host's value, if set, wins);
  // a passed-through locale name means LC_ALL is not forced over it
  const passesTz = input.allowlist.includes('TZ') && env.TZ !== undefined
  const passesLocale = input.allowlist.some(isLocaleName)
  Object.assign(env, {
    PATH: [...input.pathDirs, ...SYSTEM_PATH].join(':'),
    HOME: input.home,
    TMPDIR: input.tmp,
    ...(passesTz ? {} : { TZ: 'UTC' }),
    ...(passesLocale ? { LANG: env.LANG ?? 'C.UTF-8' } : { LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' }),
    SOURCE_DATE_EPOCH: String(input.sourceDateEpoch),
    NO_UPDATE_NOTIFIER: '1',
    npm_config_cache: input.npmCache,
    npm_config_userconfig: `${input.home}/.npmrc`,
    // npm writes its debug logs into the cache by default: the build room's cache is not the place
    npm_config_logs_dir: `${input.home}/.npm/_logs`,
    // offline, npm needs no credentials (the cache is keyed without them); online, a build may need them
    // to install, but build code reads them too: only a config that lists `npm_config_registry` under
    // `secretEnv` passes the registry URL's credentials (a token in `.npmrc` from `secretEnv` is the other way)
    npm_config_registry:
      !input.offline && (input.secretAllowlist ?? []).includes('npm_config_registry')
        ? input.registry
        : withoutCredentials(input.registry),
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    npm_config_offline: input.offline ? 'true' : 'false',
  })
  if (input.git) Object.assign(env, GIT_ROOM_ENV)
  if (input.variation) Object.assign(env, input.variation.noise, input.variation.passed)
  return env
}
