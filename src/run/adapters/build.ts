/** `run` → the build step: RunOptions → BuildOptions → runBuild → summary facts. */
import type { BuildOptions, BuildResult } from '../../builder/index.ts'
import { ExitCode } from '../../errors.ts'
import { DEFAULT_PASSWORD_ENV } from '../../sign/index.ts'
import { plural } from '../../util/plural.ts'
import { isWithheldEnvName } from '../../util/secret-env.ts'
import { WorkspaceFiles } from '../../workspace/index.ts'
import type { StepResult } from '../pipeline.ts'
import type { RunWithContext, StepAdapter } from './carried.ts'

/** The build's options: never this run's own credentials, whatever the build config says. Pure. */
export function toBuildOptions(o: RunWithContext, env: NodeJS.ProcessEnv): BuildOptions {
  const passwordEnv = o.sign.keyPasswordEnv ?? DEFAULT_PASSWORD_ENV
  const hostEnv: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(env))
    if (name !== passwordEnv && !isWithheldEnvName(name)) hostEnv[name] = value
  return {
    cwd: o.cwd,
    out: o.out,
    check: o.build.check,
    context: o.context,
    registry: o.build.registry,
    frozenLock: o.build.frozenLock,
    hostEnv,
    // the passphrase of this run's signing key is never a build's to read
    withheldEnv: [passwordEnv],
    log: o.log,
  }
}

/** The summary facts of a build. Pure. */
export function toBuildStepResult(result: BuildResult): StepResult {
  const m = result.manifest
  const failed = result.reproducible === false
  const artifacts = result.outputs.map((a) => ({ path: a.path, size: a.size, sha256: a.sha256 }))
  return {
    exitCode: failed ? ExitCode.checkFailed : ExitCode.ok,
    ...(failed ? { code: 'BUILD_NOT_REPRODUCIBLE' } : {}),
    detail: failed
      ? `${result.verdict ?? 'NOT reproducible'} (see ${WorkspaceFiles.reproReportMd})`
      : `${plural(artifacts.length, 'artifact')}${result.verdict ? `, ${result.verdict}` : ''}`,
    facts: {
      build: {
        artifacts,
        reproducible: result.reproducible,
        verdict: result.verdict,
        network: m.isolation?.network ?? 'unknown',
        sealed: m.isolation?.sealed === true,
        mechanism: m.isolation?.mechanism ?? 'unknown',
        sourceDateEpoch: m.sourceDateEpoch ?? null,
      },
    },
  }
}

export const buildStep: StepAdapter = async (o, c) => {
  const { runBuild } = await import('../../builder/index.ts')
  return toBuildStepResult(await runBuild(toBuildOptions(o, c.env)))
}
