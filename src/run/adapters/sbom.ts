/** `run` → the sbom step: RunOptions → SbomOptions (lockfile, JSON, CycloneDX 1.6, validated) → runSbom. */
import path from 'node:path'
import { ExitCode } from '../../errors.ts'
import type { SbomOptions, SbomResult } from '../../sbom/index.ts'
import { toPosixRelative } from '../../util/fs.ts'
import { plural } from '../../util/plural.ts'
import { WorkspaceFiles } from '../../workspace/index.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { StepAdapter } from './carried.ts'

/** Pure. */
export function toSbomOptions(o: RunOptions, sourceDateEpoch: number): SbomOptions {
  return {
    cwd: o.cwd,
    out: o.out,
    from: 'lockfile',
    format: 'json',
    spec: '1.6',
    omit: [],
    workspaces: [],
    validate: true,
    sourceDateEpoch,
    log: o.log,
    // the Go reader finds the module cache and git through the allowlisted environment
    ...(o.context ? { env: o.context.env } : {}),
  }
}

/** Pure. */
export function toSbomStepResult(o: RunOptions, result: SbomResult): StepResult {
  const validated = result.validation.json.ok === true
  return {
    exitCode: ExitCode.ok,
    detail: `${plural(result.components, 'component')}, ${plural(result.dependencyEdges, 'dependency edge')}${validated ? ', schema-valid' : ''}`,
    facts: {
      sbom: {
        file: toPosixRelative(o.out, result.files[0] ?? path.join(o.out, WorkspaceFiles.sbomJson)),
        components: result.components,
        dependencyEdges: result.dependencyEdges,
        specVersion: result.specVersion,
        validated,
      },
    },
  }
}

export const sbomStep: StepAdapter = async (o) => {
  const { runSbom } = await import('../../sbom/index.ts')
  return toSbomStepResult(o, await runSbom(toSbomOptions(o, o.context.sourceDate.epoch)))
}
