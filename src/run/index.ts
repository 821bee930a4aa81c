/**
 * `detbuild run`: the whole pipeline in one step (build → sbom → scan → policy → sign → bundle →
 * verify), calling each step's core in order. The programmatic API the CLI and the Action share.
 */
import { resolveContext } from '../config/index.ts'
import { toPosixRelative } from '../util/fs.ts'
import type { RunOptions } from './options.ts'
import { type PipelineHooks, runPipeline } from './pipeline.ts'
import { createStepRunners } from './step-runners.ts'
import type { RunReport } from './types.ts'

export { createLiveProgress, createPlainProgress } from '../util/progress.ts'
export { type Demo, prepareDemo } from './demo.ts'
export type { RunOptions } from './options.ts'
export type { PipelineHooks } from './pipeline.ts'
export { type RunInput, resolveRunOptions } from './resolve.ts'
export { toSummaryText } from './summary.ts'
export type * from './types.ts'

/**
 * Runs the selected steps; never throws for a step's failure (the report says which and why). Nothing
 * is removed up front: a step that runs replaces its own outputs, a skipped step leaves them alone.
 */
export async function runDetbuild(options: RunOptions, hooks: PipelineHooks = {}): Promise<RunReport> {
  // a caller that resolved no context (the programmatic API) gets the one the CLI would resolve
  const context =
    options.context ??
    (await resolveContext({
      cwd: options.cwd,
      env: options.env,
      readConfig: true,
      ...(options.build.configFile ? { configFile: options.build.configFile } : {}),
      ...(options.build.cacheDir ? { cacheDir: options.build.cacheDir } : {}),
      allowEnv: [options.sign.keyPasswordEnv ?? 'DETBUILD_KEY_PASSWORD'],
      now: () => options.now,
    }))
  const { runners, initial, followUps } = createStepRunners({ ...options, context })
  const result = await runPipeline(options.steps, runners, hooks, initial, followUps)
  return {
    schemaVersion: 1,
    exitCode: result.exitCode,
    failedStep: result.failedStep,
    workspace: toPosixRelative(options.cwd, options.out),
    steps: result.steps,
    notSelected: [...(options.leftOut ?? [])],
    facts: result.facts,
  }
}
