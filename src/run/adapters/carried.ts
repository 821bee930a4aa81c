/** What one step of a run hands to the later ones, passed explicitly from adapter to adapter. Data only. */
import type { Context } from '../../config/index.ts'
import type { SignerInfo } from '../../sign/index.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { RunSigning } from './signing.ts'

export interface Carried {
  /** the environment the steps see: the context's allowlisted part of the host's */
  env: NodeJS.ProcessEnv
  /** the signing choice, resolved once for sign and bundle (one identity token, one key, one warning) */
  signing?: RunSigning
  /** who signed this run's signatures (sign) or evidence (bundle): verify's default trust */
  signer?: SignerInfo
  /** bundle was skipped: the evidence in the workspace is a previous run's */
  evidenceSkipped?: boolean
  /** the policy step left its signing rules for after the sign step */
  policyDeferred?: boolean
}

/** The run's options with the context resolved once at the edge (source date, cache root, config file). */
export type RunWithContext = RunOptions & { readonly context: Context }

/** One step of `detbuild run`: maps the run's options to the step's own options, calls the step. */
export type StepAdapter = (o: RunWithContext, carried: Readonly<Carried>) => Promise<StepResult<Carried>>
