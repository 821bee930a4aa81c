/** Pure: the pipeline's steps, their order, and which of them a run executes. */
import { InputError } from '../errors.ts'

/** Every step `detbuild run` knows, in pipeline order. `verify` checks the evidence the run just made. */
export const STEP_NAMES = ['build', 'sbom', 'scan', 'policy', 'sign', 'bundle', 'verify'] as const
export type StepName = (typeof STEP_NAMES)[number]

export const SIGN_MODES = ['auto', 'none', 'keyless', 'key'] as const
/** `auto`: keyless when an identity token is at hand (CI), else the sign step is skipped with a note. */
export type SignMode = (typeof SIGN_MODES)[number]

export function isStepName(value: string): value is StepName {
  return (STEP_NAMES as readonly string[]).includes(value)
}

/** Splits `a,b c` lists (flags may repeat) into names. */
export function toNameList(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(/[\s,]+/)).filter((v) => v !== '')
}

function assertStepNames(names: readonly string[], source: string): StepName[] {
  const bad = names.filter((n) => !isStepName(n))
  if (bad.length > 0)
    throw new InputError(
      'RUN_USAGE',
      `${source}: unknown step ${bad.map((b) => `"${b}"`).join(', ')} (steps: ${STEP_NAMES.join(', ')})`,
    )
  return names as StepName[]
}

export interface StepSelection {
  /** `--steps`: exactly these (wins over the config) */
  steps?: readonly string[]
  /** `--skip`: all selected steps but these */
  skip?: readonly string[]
  /** the config file's `run.steps` */
  configSteps?: readonly string[]
  /** steps this build of detbuild cannot run (e.g. an optional module is missing) */
  unavailable?: ReadonlySet<StepName>
  /** `--sign none` drops the sign step */
  signMode?: SignMode
  /** `--no-verify` drops the final verification */
  verify?: boolean
}

/**
 * The steps a run executes, always in pipeline order: `--steps`, else the config's `run.steps`, else
 * every step; minus `--skip`, `--sign none` and `--no-verify`. `verify` only runs after `bundle`.
 */
export function resolveSteps(s: StepSelection): StepName[] {
  const explicit = s.steps && s.steps.length > 0
  const chosen = explicit
    ? assertStepNames(toNameList(s.steps), '--steps')
    : s.configSteps
      ? assertStepNames(s.configSteps, 'run.steps')
      : [...STEP_NAMES]
  const skip = new Set(assertStepNames(toNameList(s.skip), '--skip'))
  if (s.signMode === 'none') skip.add('sign')
  if (s.verify === false) skip.add('verify')
  const unavailable = s.unavailable ?? new Set<StepName>()
  const named = new Set(chosen)
  for (const step of named) {
    if (unavailable.has(step) && (explicit || s.configSteps))
      throw new InputError(
        'RUN_STEP_UNAVAILABLE',
        `step "${step}" is not available in this build of detbuild`,
      )
  }
  const steps = STEP_NAMES.filter((n) => named.has(n) && !skip.has(n) && !unavailable.has(n))
  if (steps.length === 0) throw new InputError('RUN_USAGE', 'no step left to run')
  return steps
}

/** A step of the pipeline a run leaves out, and why (shown in the summary and the report). */
export interface LeftOutStep {
  name: StepName
  reason: string
}

/**
 * Why each step `resolveSteps` left out is not run, in pipeline order (pure; call it after
 * `resolveSteps`, which has checked the names). Leaving a step out is a choice, never a failure.
 */
export function leftOutSteps(s: StepSelection, steps: readonly StepName[]): LeftOutStep[] {
  const explicit = s.steps && s.steps.length > 0
  const chosen = new Set<string>(explicit ? toNameList(s.steps) : (s.configSteps ?? STEP_NAMES))
  const skip = new Set(toNameList(s.skip))
  const reasonOf = (n: StepName): string => {
    if (!chosen.has(n)) return explicit ? 'not in --steps' : 'not in run.steps of the config file'
    if (skip.has(n)) return `--skip ${n}`
    if (n === 'sign' && s.signMode === 'none') return '--sign none'
    if (n === 'verify' && s.verify === false) return '--no-verify'
    return 'not available in this build of detbuild'
  }
  return STEP_NAMES.filter((n) => !steps.includes(n)).map((name) => ({ name, reason: reasonOf(name) }))
}
