/**
 * `run` → the policy step: RunOptions → RunPolicyOptions → runPolicy → summary facts.
 *
 * A run that signs evaluates its policy twice. Before signing, every rule but the signing rules: a
 * policy that fails there stops the run, so nothing failing it gets signed. After signing (or after a
 * sign step that signed nothing), the whole policy, signing rules included, on this run's signatures:
 * policy.json then holds every rule, and a failing verdict stops the run before the evidence is bundled.
 */
import { ExitCode } from '../../errors.ts'
import type { RunPolicyOptions, RunPolicyResult } from '../../policy/index.ts'
import type { TrustInput } from '../../verify/index.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { RuleFact } from '../types.ts'
import type { Carried, StepAdapter } from './carried.ts'
import { givenTrust, hasVerifyTrust, verifyTrust } from './trust.ts'

/**
 * When the policy is evaluated: `gate` before this run signs (signing rules left for later), `signed`
 * after its sign step (`signedNow`: whether that step signed), `whole` in a run that does not sign.
 */
export type PolicyPhase = 'gate' | 'whole' | { signedNow: boolean }

/** Pure: `trust` is the trust given for verify (none: the signing rules fail closed). */
export function toPolicyOptions(
  o: RunOptions,
  trust: TrustInput | undefined,
  phase: PolicyPhase = o.steps.includes('sign') ? 'gate' : 'whole',
): RunPolicyOptions {
  return {
    cwd: o.cwd,
    out: o.out,
    now: o.now,
    // a previous run's signatures are not this run's: before signing, and after a sign step that signed nothing
    ...(phase === 'gate' || (typeof phase === 'object' && !phase.signedNow) ? { signatures: null } : {}),
    ...(phase === 'gate' ? { deferSigning: true } : {}),
    ...(o.policy.policy !== undefined ? { policy: o.policy.policy } : {}),
    ...(o.policy.vex && o.policy.vex.length > 0 ? { vex: o.policy.vex } : {}),
    ...(trust ? { trust } : {}),
  }
}

/** Pure. */
export function toPolicyStepResult(
  o: RunOptions,
  { result, deferred }: Pick<RunPolicyResult, 'result'> & Partial<Pick<RunPolicyResult, 'deferred'>>,
  afterSign = false,
): StepResult<Carried> {
  const rules: RuleFact[] = result.rules
    .filter((r) => r.status !== 'pass')
    .map((r) => ({ id: r.id, title: r.title, status: r.status as 'fail' | 'warn', summary: r.summary }))
  const fails = result.verdict === 'fail' && !o.policy.warnOnly
  const later = deferred && deferred.length > 0 ? deferred : []
  const note =
    later.length > 0
      ? `; ${later.join(', ')} after sign`
      : afterSign
        ? '; signing rules evaluated after sign'
        : ''
  return {
    exitCode: fails ? ExitCode.checkFailed : ExitCode.ok,
    ...(fails ? { code: 'POLICY_FAILED' } : {}),
    detail: `${result.policy.name}: ${result.verdict.toUpperCase()} (${result.counts.pass} passed, ${result.counts.warn} warned, ${result.counts.fail} failed)${note}`,
    facts: {
      policy: {
        name: result.policy.name,
        verdict: result.verdict,
        counts: { ...result.counts },
        rules,
        ...(later.length > 0 ? { deferred: later } : {}),
      },
    },
    carry: { policyDeferred: later.length > 0 },
  }
}

export const policyStep: StepAdapter = async (o) => {
  const { runPolicy } = await import('../../policy/index.ts')
  // signing rules verify bundles only with trust material given for verify; else they fail closed
  const trust = hasVerifyTrust(o.verify) ? givenTrust(o) : undefined
  return toPolicyStepResult(o, await runPolicy(toPolicyOptions(o, trust)))
}

/**
 * The policy again, whole, once the sign step is done: the signing rules verify this run's signatures
 * with the trust given for verify, else with this run's own signer (as the verify step does).
 */
export const policyAfterSignStep: StepAdapter = async (o, c) => {
  const { runPolicy } = await import('../../policy/index.ts')
  const signedNow = c.signing?.mode === 'key' || c.signing?.mode === 'keyless'
  const trust = hasVerifyTrust(o.verify) ? givenTrust(o) : signedNow ? await verifyTrust(o, c) : undefined
  return toPolicyStepResult(o, await runPolicy(toPolicyOptions(o, trust, { signedNow })), true)
}
