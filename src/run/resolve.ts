/**
 * Flags (CLI) or inputs (Action) → one frozen RunOptions. Shared by both entries so that they run the
 * same pipeline the same way. Reads only the config file's `run` section.
 */
import { type Context, type HostEnv, resolveContext } from '../config/index.ts'
import { InputError } from '../errors.ts'
import { type FailOn, FailOnLevels } from '../flags/index.ts'
import type { SignFlags } from '../sign/index.ts'
import type { Logger } from '../util/log.ts'
import type { TrustFlags } from '../verify/index.ts'
import { checkAnchoredRegExp } from '../verify/index.ts'
import { readRunSection } from './config-section.ts'
import type { RunOptions } from './options.ts'
import { UNAVAILABLE_STEPS } from './step-runners.ts'
import { leftOutSteps, resolveSteps, SIGN_MODES, type SignMode, type StepSelection } from './steps.ts'

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
  /**
   * the sign step's own flags (sign/flags.ts); `keyPem` is the PEM private key itself, kept in memory,
   * exclusive with `key`
   */
  signing?: Pick<SignFlags, RunSignFlag>
  signArtifacts?: boolean
  verify?: boolean
  /** verify's own flags (flags/trust.ts): who must have signed the evidence; `key` is a public key file */
  trust?: TrustFlags
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

type RunSignFlag =
  | 'key'
  | 'keyPem'
  | 'keyPasswordEnv'
  | 'identityToken'
  | 'fulcioUrl'
  | 'rekorUrl'
  | 'tsaUrl'
  | 'tlog'

const blank = (v: string | undefined): string | undefined =>
  v === undefined || v.trim() === '' ? undefined : v

export async function resolveRunOptions(input: RunInput): Promise<RunOptions> {
  const s = input.signing ?? {}
  const t = input.trust ?? {}
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
      allowEnv: [blank(s.keyPasswordEnv) ?? 'DETBUILD_KEY_PASSWORD'],
      now: () => input.now,
    }))
  // the config file is read once, by the context: the run section here, the build's settings in build
  const section = await readRunSection(context.configFile)
  const failOn = blank(input.failOn) ?? section.failOn
  if (failOn !== undefined && !(FailOnLevels as readonly string[]).includes(failOn))
    throw new InputError('RUN_USAGE', `fail-on must be one of ${FailOnLevels.join(', ')}, not "${failOn}"`)
  const sign = blank(input.sign) ?? section.sign ?? 'auto'
  if (!(SIGN_MODES as readonly string[]).includes(sign))
    throw new InputError('RUN_USAGE', `sign must be one of ${SIGN_MODES.join(', ')}, not "${sign}"`)
  const signMode = sign as SignMode
  if (blank(s.key) !== undefined && blank(s.keyPem) !== undefined)
    throw new InputError('RUN_USAGE', 'a key file and a PEM key cannot be used together')
  if (signMode === 'key' && blank(s.key) === undefined && blank(s.keyPem) === undefined)
    throw new InputError('RUN_USAGE', 'signing with a key needs the key file (--key FILE)')
  if (blank(input.offlineDb) && blank(input.osvUrl))
    throw new InputError('RUN_USAGE', 'an offline OSV export and an OSV URL cannot be used together')
  const selection: StepSelection = {
    ...(input.steps ? { steps: input.steps } : {}),
    ...(input.skip ? { skip: input.skip } : {}),
    ...(section.steps ? { configSteps: section.steps } : {}),
    unavailable: UNAVAILABLE_STEPS,
    signMode,
    verify: input.verify !== false,
  }
  const steps = resolveSteps(selection)
  const identityRegexp = blank(t.certificateIdentityRegexp)
  if (identityRegexp !== undefined) checkAnchoredRegExp(identityRegexp, '--certificate-identity-regexp')
  const issuerRegexp = blank(t.certificateOidcIssuerRegexp)
  if (issuerRegexp !== undefined) checkAnchoredRegExp(issuerRegexp, '--certificate-oidc-issuer-regexp')
  return Object.freeze({
    cwd: input.cwd,
    out: input.out,
    steps: Object.freeze(steps),
    leftOut: Object.freeze(leftOutSteps(selection, steps)),
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
      ...opt('key', blank(s.key)),
      ...opt('keyPem', blank(s.keyPem)),
      ...opt('keyPasswordEnv', blank(s.keyPasswordEnv)),
      ...opt('identityToken', blank(s.identityToken)),
      ...opt('fulcioUrl', blank(s.fulcioUrl)),
      ...opt('rekorUrl', blank(s.rekorUrl)),
      ...opt('tsaUrl', blank(s.tsaUrl)),
      tlog: s.tlog !== false,
      artifacts: input.signArtifacts !== false,
    },
    verify: {
      ...opt('key', blank(t.key)),
      ...opt('trustedRoot', blank(t.trustedRoot)),
      ...opt('certificateIdentity', blank(t.certificateIdentity)),
      ...opt('certificateIdentityRegexp', identityRegexp),
      ...opt('certificateOidcIssuer', blank(t.certificateOidcIssuer)),
      ...opt('certificateOidcIssuerRegexp', issuerRegexp),
      ...(t.insecureIgnoreTlog ? { insecureIgnoreTlog: true } : {}),
    },
    context,
    env: context.env,
    ...(input.onSecret ? { onSecret: input.onSecret } : {}),
    now: input.now,
    log: input.log,
  })
}
