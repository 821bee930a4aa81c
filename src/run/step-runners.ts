/**
 * Edge: one adapter per step (./adapters/), each mapping the run's options to that step's own options
 * and calling the step's core (never the CLI, never a subprocess). What a step hands to later steps
 * (the source date, the signing choice, the signer) travels explicitly through the pipeline.
 */

import { buildStep } from './adapters/build.ts'
import { bundleStep } from './adapters/bundle.ts'
import type { Carried, RunWithContext, StepAdapter } from './adapters/carried.ts'
import { policyAfterSignStep, policyStep } from './adapters/policy.ts'
import { sbomStep } from './adapters/sbom.ts'
import { scanStep } from './adapters/scan.ts'
import { signStep } from './adapters/sign.ts'
import { verifyStep } from './adapters/verify.ts'
import type { FollowUp, StepRunner } from './pipeline.ts'
import type { StepName } from './steps.ts'

export { EMPTY_TRUSTED_ROOT } from './adapters/trust.ts'

/** Steps whose module is not part of this build (none: kept for optional modules). */
export const UNAVAILABLE_STEPS: ReadonlySet<StepName> = new Set<StepName>()

const ADAPTERS: Readonly<Record<StepName, StepAdapter>> = {
  build: buildStep,
  sbom: sbomStep,
  scan: scanStep,
  policy: policyStep,
  sign: signStep,
  bundle: bundleStep,
  verify: verifyStep,
}

/**
 * The runners of one run, what the first step is given (the host environment), and the policy's
 * signing rules evaluated once the sign step is done (when the policy step left them for later).
 */
export function createStepRunners(o: RunWithContext): {
  runners: Record<StepName, StepRunner<Carried>>
  initial: Carried
  followUps: FollowUp<Carried>[]
} {
  const runners = Object.fromEntries(
    Object.entries(ADAPTERS).map(([name, adapter]) => [name, (c: Readonly<Carried>) => adapter(o, c)]),
  ) as Record<StepName, StepRunner<Carried>>
  // one source date, cache root and config file for the whole run: the context's (config/context.ts)
  const followUps: FollowUp<Carried>[] = [
    {
      after: 'sign',
      step: 'policy',
      applies: (c) => c.policyDeferred === true,
      run: (c) => policyAfterSignStep(o, c),
    },
  ]
  return { runners, initial: { env: o.context.env }, followUps }
}
