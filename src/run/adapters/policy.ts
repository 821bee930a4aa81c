/** `run` → the policy step: RunOptions → RunPolicyOptions → runPolicy → summary facts. */
import { ExitCode } from '../../errors.ts'
import type { RunPolicyOptions, RunPolicyResult } from '../../policy/index.ts'
import type { TrustInput } from '../../verify/index.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { RuleFact } from '../types.ts'
import type { StepAdapter } from './carried.ts'
import { givenTrust, hasVerifyTrust } from './trust.ts'

/** Pure: `trust` is the trust given for verify (none: the signing rules fail closed). */
export function toPolicyOptions(o: RunOptions, trust: TrustInput | undefined): RunPolicyOptions {
  return {
    cwd: o.cwd,
    out: o.out,
    now: o.now,
    // this run signs after the policy step: a previous run's signatures are not this run's
    ...(o.steps.includes('sign') ? { signatures: null } : {}),
    ...(o.policy.policy !== undefined ? { policy: o.policy.policy } : {}),
    ...(o.policy.vex && o.policy.vex.length > 0 ? { vex: o.policy.vex } : {}),
    ...(trust ? { trust } : {}),
  }
}

/** Pure. */
export function toPolicyStepResult(o: RunOptions, { result }: RunPolicyResult): StepResult {
  const rules: RuleFact[] = result.rules
    .filter((r) => r.status !== 'pass')
    .map((r) => ({ id: r.id, title: r.title, status: r.status as 'fail' | 'warn', summary: r.summary }))
  const fails = result.verdict === 'fail' && !o.policy.warnOnly
  return {
    exitCode: fails ? ExitCode.checkFailed : ExitCode.ok,
    ...(fails ? { code: 'POLICY_FAILED' } : {}),
    detail: `${result.policy.name}: ${result.verdict.toUpperCase()} (${result.counts.pass} passed, ${result.counts.warn} warned, ${result.counts.fail} failed)`,
    facts: {
      policy: {
        name: result.policy.name,
        verdict: result.verdict,
        counts: { ...result.counts },
        rules,
      },
    },
  }
}

export const policyStep: StepAdapter = async (o) => {
  const { runPolicy } = await import('../../policy/index.ts')
  // signing rules verify bundles only with trust material given for verify; else they fail closed
  const trust = hasVerifyTrust(o.verify) ? givenTrust(o) : undefined
  return toPolicyStepResult(o, await runPolicy(toPolicyOptions(o, trust)))
}
