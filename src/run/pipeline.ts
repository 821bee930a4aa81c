/**
 * The orchestrator: runs the selected steps in order through injected runners, stops at the first
 * failure with that step's exit code, and collects one record per step. What a step hands to later
 * steps travels explicitly: each runner gets what the steps before it carried. No I/O of its own.
 */
import { type ErrorCode, ExitCode, isWrappedBug, toDetbuildError } from '../errors.ts'
import { fromStrayErrno } from '../util/fs-errors.ts'
import type { StepName } from './steps.ts'
import type { RunFacts, StepRecord } from './types.ts'

export interface StepResult<C = object> {
  /** 0, or the step's own failing exit code (scan at --fail-on, policy fail, verification failed) */
  exitCode: ExitCode
  /** one line about the outcome */
  detail: string
  /** the step did nothing on purpose (e.g. no signing identity with `--sign auto`) */
  skipped?: boolean
  facts?: RunFacts
  /** the error code of a check that said no (exit 1/3 without an exception) */
  code?: ErrorCode
  /** what later steps need from this one (merged into what they are given) */
  carry?: Partial<C>
}

/** One step: given what the earlier steps carried, it runs and says how it went. */
export type StepRunner<C = object> = (carried: Readonly<C>) => Promise<StepResult<C>>

/**
 * A step evaluated again once a later step is done (the policy's signing rules, after sign): when
 * `after` ends without failing and `applies` to what was carried, `run` replaces `step`'s record.
 */
export interface FollowUp<C = object> {
  after: StepName
  step: StepName
  applies: (carried: Readonly<C>) => boolean
  run: StepRunner<C>
}

/** Progress callbacks of `runDetbuild`: each step's start and end, and unexpected errors. */
export interface PipelineHooks {
  onStart?(step: StepName, index: number, total: number): void
  onEnd?(record: StepRecord, index: number, total: number): void
  /** unexpected errors (bugs), for --debug */
  onBug?(step: StepName, error: unknown): void
}

export interface PipelineResult {
  exitCode: ExitCode
  failedStep: StepName | null
  steps: StepRecord[]
  facts: RunFacts
}

export async function runPipeline<C extends object = object>(
  steps: readonly StepName[],
  runners: Readonly<Record<StepName, StepRunner<C>>>,
  hooks: PipelineHooks = {},
  initial?: C,
  followUps: readonly FollowUp<C>[] = [],
): Promise<PipelineResult> {
  let carried = (initial ?? {}) as C
  const records: StepRecord[] = []
  let facts: RunFacts = {}
  let failed: StepName | null = null
  let exitCode: ExitCode = ExitCode.ok

  /** Runs one runner as step `name` (at `index`), with its hooks; merges what it found and carried. */
  const attempt = async (name: StepName, index: number, runner: StepRunner<C>): Promise<StepRecord> => {
    hooks.onStart?.(name, index, steps.length)
    let record: StepRecord
    try {
      const result = await runner(carried)
      if (result.facts) facts = { ...facts, ...result.facts }
      if (result.carry) carried = { ...carried, ...result.carry }
      record = {
        name,
        status: result.exitCode !== ExitCode.ok ? 'failed' : result.skipped ? 'skipped' : 'ok',
        exitCode: result.exitCode,
        detail: result.detail,
        ...(result.exitCode !== ExitCode.ok && result.code
          ? { error: { code: result.code, message: result.detail } }
          : {}),
      }
    } catch (e) {
      // an errno error naming a path is about that path (exit 2/3), as in the CLI entry
      const err = toDetbuildError(e, (x) => fromStrayErrno(x, (file) => file))
      if (isWrappedBug(err)) hooks.onBug?.(name, e)
      record = {
        name,
        status: 'failed',
        exitCode: err.exitCode,
        detail: err.toLine(),
        error: { code: err.code, message: err.message, ...(err.file ? { file: err.file } : {}) },
      }
    }
    hooks.onEnd?.(record, index, steps.length)
    if (record.status === 'failed') {
      failed = name
      exitCode = record.exitCode
    }
    return record
  }

  for (const [index, name] of steps.entries()) {
    if (failed !== null) {
      records.push({ name, status: 'not-run', exitCode: ExitCode.ok, detail: `not run: ${failed} failed` })
      continue
    }
    records.push(await attempt(name, index, runners[name]))
    for (const f of followUps) {
      const at = steps.indexOf(f.step)
      if (failed !== null || f.after !== name || at < 0 || records[at]?.status !== 'ok') continue
      if (f.applies(carried)) records[at] = await attempt(f.step, at, f.run)
    }
  }
  return { exitCode, failedStep: failed, steps: records, facts }
}
