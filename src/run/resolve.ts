/**
 * Flags (CLI) or inputs (Action) → one frozen RunOptions. Shared by both entries so that they run the
 * same pipeline the same way. Reads only the config file's `run` section.
 */
import { type Context, type HostEnv, resolveContext } from '../config/index.ts'
import { InputError } from '../errors.ts'
import type { Logger } from '../util/log.ts'
import { checkAnchoredRegExp } from '../verify/index.ts'
import { readRunSection } from './config-section.ts'
import type { FailOn, RunOptions } from './options.ts'
import { UNAVAILABLE_STEPS } from './step-runners.ts'
import { resolveSteps, SIGN_MODES, type SignMode } from './steps.ts'

export const FAIL_ON_LEVELS = ['any', 'low', 'medium', 'high', 'critical'] as const

/** The raw choices, as strings and booleans, before validation. */
export interface RunInput {
  cwd: string
  out: string
  steps?: string[]
  skip?: string[]
  config?: string
  check?: boolean
  cacheDir?: string
  registry?: string
  frozenLock?: boolean
  offlineDb?: string
  osvUrl?: string
  /** false: no OSV record cache */
  osvCache?: boolean
  failOn?: string
  omitDev?: boolean
  policy?: string
  vex?: string[]
  warnOnly?: boolean
  sign?: string
  key?: string
  /** the PEM private key itself (kept in memory); exclusive with `key` */
  keyPem?: string
  keyPasswordEnv?: string
  identityToken?: string
  fulcioUrl?: string
  rekorUrl?: string
  tsaUrl?: string
  tlog?: boolean
  signArtifacts?: boolean
  verify?: boolean
  verifyKey?: string
  trustedRoot?: string
  certificateIdentity?: string
  certificateIdentityRegexp?: string
  certificateOidcIssuer?: string
  insecureIgnoreTlog?: boolean
  /**
   * the resolved context, made once at the edge (the CLI, the Action) with `readConfig`, the `config`
   * and `cacheDir` above; without one, it is resolved here from `cwd`, `env`, `config` and `cacheDir`
   */
  context?: Context
  /** without a context: the host environment (default: this process's) */
  env?: HostEnv
  onSecret?: (value: string) => void
  now: Date
  log: Logger
}

const blank = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v

export async function resolveRunOptions(input: RunInput): Promise<RunOptions> {
  const opt = <K extends string, V>(key: K, value: V | undefined) =>
    (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>
  const context =
    input.context ??
    (await resolveContext({
      cwd: input.cwd,
      ...(input.env ? { env: input.env } : {}),
      readConfig: true,
      ...opt('configFile', blank(input.config)),
      ...opt('cacheDir', blank(input.cacheDir)),
      allowEnv: [blank(input.keyPasswordEnv) ?? 'DETBUILD_KEY_PASSWORD'],
      now: () => input.now,
    }))
  // the config file is read once, by the context: the run section here, the build's settings in build
  const section = await readRunSection(context.configFile)
  const failOn = blank(input.failOn) ?? section.failOn
  if (failOn !== undefined && !(FAIL_ON_LEVELS as readonly string[]).includes(failOn))
    throw new InputError('RUN_USAGE', `fail-on must be one of ${FAIL_ON_LEVELS.join(', ')}, not "${failOn}"`)
  const sign = blank(input.sign) ?? section.sign ?? 'auto'
  if (!(SIGN_MODES as readonly string[]).includes(sign))
    throw new InputError('RUN_USAGE', `sign must be one of ${SIGN_MODES.join(', ')}, not "${sign}"`)
  const signMode = sign as SignMode
  if (blank(input.key) !== undefined && blank(input.keyPem) !== undefined)
    throw new InputError('RUN_USAGE', 'a key file and a PEM key cannot be used together')
  if (signMode === 'key' && blank(input.key) === undefined && blank(input.keyPem) === undefined)
    throw new InputError('RUN_USAGE', 'signing with a key needs the key file (--key FILE)')
  if (blank(input.offlineDb) && blank(input.osvUrl))
    throw new InputError('RUN_USAGE', 'an offline OSV export and an OSV URL cannot be used together')
  const steps = resolveSteps({
    ...(input.steps ? { steps: input.steps } : {}),
    ...(input.skip ? { skip: input.skip } : {}),
    ...(section.steps ? { configSteps: section.steps } : {}),
    unavailable: UNAVAILABLE_STEPS,
    signMode,
    verify: input.verify !== false,
  })
  const identityRegexp = blank(input.certificateIdentityRegexp)
  if (identityRegexp !== undefined) checkAnchoredRegExp(identityRegexp, '--certificate-identity-regexp')
  return Object.freeze({
    cwd: input.cwd,
    out: input.out,
    steps: Object.freeze(steps),
    build: {
      ...opt('configFile', blank(input.config)),
      check: input.check === true,
      ...opt('cacheDir', blank(input.cacheDir)),
      ...opt('registry', blank(input.registry)),
      frozenLock: input.frozenLock === true,
    },
    scan: {
      ...opt('offlineDb', blank(input.offlineDb)),
      ...opt('osvUrl', blank(input.osvUrl)),
      ...(input.osvCache === false ? { cacheDir: null } : {}),
      failOn: (failOn as FailOn | undefined) ?? null,
      omitDev: input.omitDev === true,
    },
    policy: {
      ...opt('policy', blank(input.policy) ?? section.policy),
      ...opt('vex', input.vex && input.vex.length > 0 ? input.vex : undefined),
      warnOnly: input.warnOnly === true,
    },
    sign: {
      mode: signMode,
      ...opt('key', blank(input.key)),
      ...opt('keyPem', blank(input.keyPem)),
      ...opt('keyPasswordEnv', blank(input.keyPasswordEnv)),
      ...opt('identityToken', blank(input.identityToken)),
      ...opt('fulcioUrl', blank(input.fulcioUrl)),
      ...opt('rekorUrl', blank(input.rekorUrl)),
      ...opt('tsaUrl', blank(input.tsaUrl)),
      tlog: input.tlog !== false,
      artifacts: input.signArtifacts !== false,
    },
    verify: {
      ...opt('key', blank(input.verifyKey)),
      ...opt('trustedRoot', blank(input.trustedRoot)),
      ...opt('certificateIdentity', blank(input.certificateIdentity)),
      ...opt('certificateIdentityRegexp', identityRegexp),
      ...opt('certificateOidcIssuer', blank(input.certificateOidcIssuer)),
      ...(input.insecureIgnoreTlog ? { insecureIgnoreTlog: true } : {}),
    },
    context,
    env: context.env,
    ...(input.onSecret ? { onSecret: input.onSecret } : {}),
    now: input.now,
    log: input.log,
  })
}
