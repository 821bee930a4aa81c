/** The resolved options of one `detbuild run` (built by the CLI command or the Action). Data only. */
import type { Context, HostEnv } from '../config/index.ts'
import type { Logger } from '../util/log.ts'
import type { TrustFlags } from '../verify/index.ts'
import type { SignMode, StepName } from './steps.ts'

export type FailOn = 'any' | 'low' | 'medium' | 'high' | 'critical'

/** Options of `runDetbuild` (`detbuild run` and the Action): the steps and each step's options. */
export interface RunOptions {
  /** project folder (absolute) */
  cwd: string
  /** workspace folder (absolute) */
  out: string
  /** resolved by `resolveSteps`, in pipeline order */
  steps: readonly StepName[]
  build: {
    configFile?: string
    check: boolean
    cacheDir?: string
    registry?: string
    frozenLock: boolean
  }
  scan: {
    offlineDb?: string
    osvUrl?: string
    /** null: no OSV cache */
    cacheDir?: string | null
    failOn: FailOn | null
    omitDev: boolean
  }
  policy: {
    policy?: string
    vex?: string[]
    warnOnly: boolean
  }
  sign: {
    mode: SignMode
    key?: string
    /**
     * the PEM private key itself (the Action's `key` input holding a secret): kept in memory, never
     * written to disk, so no build command can find it
     */
    keyPem?: string
    keyPasswordEnv?: string
    identityToken?: string
    fulcioUrl?: string
    rekorUrl?: string
    tsaUrl?: string
    /** false: key signatures without a transparency-log entry */
    tlog: boolean
    /** also sign each artifact (message signatures) */
    artifacts: boolean
  }
  /** who must have signed the evidence: `detbuild verify`'s own flags (`key` is a public key file) */
  verify: TrustFlags
  /**
   * the resolved context: one source date, cache root and config file for every step; without one,
   * `runDetbuild` resolves it from `cwd`, `env`, `build.configFile` and `build.cacheDir`
   */
  context?: Context
  /** the host environment; the steps see the context's allowlisted part of it (tokens, proxies, registry) */
  env: HostEnv
  /**
   * receives each credential the run obtains on its way (a keyless OIDC identity token), before it is
   * used: the Action masks it (`::add-mask::`)
   */
  onSecret?: (value: string) => void
  /** the clock (policy evaluation time, suppression expiry) */
  now: Date
  log: Logger
}
