/**
 * The phases `detbuild build` reports while it runs (progress display, `# step: …` lines in
 * build.log, info lines). Pure except for the hooks it is given.
 */
import { isDetbuildError } from '../errors.ts'
import type { Logger } from '../util/log.ts'
import type { ProgressHooks } from '../util/progress.ts'

/** Every phase, in order; `check` only with `--check`. */
export const BUILD_STEPS = [
  'toolchain',
  'isolation',
  'source',
  'prefetch',
  'install',
  'build',
  'outputs',
  'check',
  'attest',
] as const
export type BuildStep = (typeof BUILD_STEPS)[number]

export function toBuildSteps(check: boolean): BuildStep[] {
  return BUILD_STEPS.filter((s) => check || s !== 'check')
}

/** How a phase ended: one line, and whether it had nothing to do. */
export interface StepDone {
  detail: string
  skipped?: boolean
  /** the step ran to the end but its answer is no (a `--check` that found a difference) */
  failed?: boolean
}

export interface StepTracker {
  start(step: BuildStep): void
  /** a line in the log under the running step (e.g. `# build: first run`) */
  note(step: BuildStep, text: string): void
  end(step: BuildStep, done: StepDone): void
  fail(step: BuildStep, error: unknown): void
  /** runs `fn` as `step`: start, then end with `describe(value)`, or fail and rethrow */
  run<T>(step: BuildStep, fn: () => Promise<T>, describe: (value: T) => StepDone): Promise<T>
  /**
   * Ends steps that ran at the same time, in list order whatever order they finished in (so the log
   * and plain progress lines do not depend on timing); throws the first failure, in that order.
   */
  settle<T extends readonly unknown[]>(
    steps: { [K in keyof T]: [BuildStep, PromiseSettledResult<T[K]>, (value: T[K]) => StepDone] },
  ): T
}

/**
 * Reports each phase to `hooks` (the progress display) and `write` (build.log). Without hooks the
 * phases go to `log.info` as plain lines, as inside `detbuild run`, whose own display shows the step.
 */
export function createStepTracker(
  steps: readonly BuildStep[],
  hooks: ProgressHooks<BuildStep> | undefined,
  log: Logger,
  write: (text: string) => void,
): StepTracker {
  const at = (step: BuildStep) => steps.indexOf(step)
  const tracker: StepTracker = {
    start(step) {
      hooks?.onStart?.(step, at(step), steps.length)
    },
    note(step, text) {
      write(`# ${step}: ${text}\n`)
      if (!hooks) log.info(`${step}: ${text}`)
    },
    end(step, done) {
      const line = done.skipped ? `skipped: ${done.detail}` : done.detail
      write(`# ${step}: ${line}\n`)
      const status = done.failed ? 'failed' : done.skipped ? 'skipped' : 'ok'
      if (hooks) hooks.onEnd?.({ name: step, status, detail: done.detail }, at(step), steps.length)
      else log.info(`${step}: ${line}`)
    },
    fail(step, error) {
      const detail = isDetbuildError(error)
        ? error.toLine()
        : error instanceof Error
          ? error.message
          : String(error)
      write(`# ${step}: FAILED: ${detail}\n`)
      hooks?.onEnd?.({ name: step, status: 'failed', detail }, at(step), steps.length)
    },
    async run(step, fn, describe) {
      tracker.start(step)
      let value: Awaited<ReturnType<typeof fn>>
      try {
        value = await fn()
      } catch (e) {
        tracker.fail(step, e)
        throw e
      }
      tracker.end(step, describe(value))
      return value
    },
    settle: (entries) => settleSteps(tracker, entries),
  }
  return tracker
}

function settleSteps<T extends readonly unknown[]>(
  tracker: StepTracker,
  entries: { [K in keyof T]: [BuildStep, PromiseSettledResult<T[K]>, (value: T[K]) => StepDone] },
): T {
  let first: { error: unknown } | null = null
  const values: unknown[] = []
  for (const [step, result, describe] of entries as unknown as [
    BuildStep,
    PromiseSettledResult<unknown>,
    (v: unknown) => StepDone,
  ][]) {
    if (result.status === 'fulfilled') {
      tracker.end(step, describe(result.value))
      values.push(result.value)
    } else {
      tracker.fail(step, result.reason)
      first ??= { error: result.reason }
      values.push(undefined)
    }
  }
  if (first) throw first.error
  return values as unknown as T
}
