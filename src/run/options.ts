/** The resolved options of one `detbuild run` (built by the CLI command or the Action). Data only. */
import type { BuildOptions } from '../builder/index.ts'
import type { Context, HostEnv } from '../config/index.ts'
import type { RunPolicyOptions } from '../policy/index.ts'
import type { ScanOptions } from '../scan/index.ts'
import type { SignFlags, SignWorkspaceOptions } from '../sign/index.ts'
import type { Logger } from '../util/log.ts'
import type { TrustFlags } from '../verify/index.ts'
import type { LeftOutStep, SignMode, StepName } from './steps.ts'

/**
 * Each section holds the choices a user makes for one step, typed by that step's own options (declared
 * once, in the step); the adapters in ./adapters/ add what the run supplies (folders, clock, log, env).
 */
export interface RunOptions {
  /** project folder (absolute) */
  cwd: string
  /** workspace folder (absolute) */
  out: string
  /** resolved by `resolveSteps`, in pipeline order */
  steps: readonly StepName[]
  /** the pipeline's other steps, and why each is left out (absent: not said) */
  leftOut?: readonly LeftOutStep[]
  build: Pick<BuildOptions, 'configFile' | 'cacheDir' | 'registry'> &
    Required<Pick<BuildOptions, 'check' | 'frozenLock'>>
  scan: Pick<ScanOptions, 'offlineDb' | 'osvUrl' | 'failOn' | 'omitDev' | 'repositoryPath'> & {
    /** null: no OSV cache; absent: the default cache folder */
    cacheDir?: ScanOptions['cacheDir']
  }
  policy: Pick<RunPolicyOptions, 'policy' | 'vex'> & { warnOnly: boolean }
  /**
   * `key` is a file; `keyPem` is the PEM private key itself (the Action's `key` input holding a secret),
   * kept in memory, never written to disk, so no build command can find it
   */
  sign: Pick<
    SignFlags,
    'key' | 'keyPem' | 'keyPasswordEnv' | 'identityToken' | 'fulcioUrl' | 'rekorUrl' | 'tsaUrl'
  > & {
    mode: SignMode
    /** false: key signatures without a transparency-log entry */
    tlog: boolean
    /** also sign each artifact (message signatures) */
    artifacts: SignWorkspaceOptions['artifacts']
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
