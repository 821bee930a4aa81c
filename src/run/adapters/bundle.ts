/** `run` → the bundle step: report.html, then the run's signing choice → BundleOptions → createEvidenceBundle. */
import path from 'node:path'
import { ExitCode } from '../../errors.ts'
import type { BundleOptions, BundleResult } from '../../evidence/index.ts'
import type { SigningConfig } from '../../sign/index.ts'
import { toPosixRelative } from '../../util/fs.ts'
import { plural } from '../../util/plural.ts'
import type { RunOptions } from '../options.ts'
import type { StepResult } from '../pipeline.ts'
import type { Carried, RunWithContext, StepAdapter } from './carried.ts'
import { signingOf, skippedSigning } from './signing.ts'

/** Pure: the evidence holds the artifacts' digests, not the artifacts. */
export function toBundleOptions(
  o: RunWithContext,
  signing: SigningConfig,
  env: NodeJS.ProcessEnv,
): BundleOptions {
  return {
    cwd: o.cwd,
    out: o.out,
    signing,
    includeArtifacts: false,
    sourceDate: o.context.sourceDate,
    env,
    log: o.log,
  }
}

/** Pure: the evidence's signer is verify's default trust unless the sign step signed already. */
export function toBundleStepResult(
  o: RunOptions,
  result: BundleResult,
  c: Readonly<Carried>,
): StepResult<Carried> {
  return {
    exitCode: ExitCode.ok,
    detail: `${plural(result.files.length, 'file')} + signed manifest, ${plural(result.size, 'byte')}`,
    facts: {
      evidence: { file: toPosixRelative(o.out, path.resolve(o.cwd, result.file)), sha256: result.sha256 },
    },
    carry: { signer: c.signer ?? result.signer },
  }
}

export const bundleStep: StepAdapter = async (o, c) => {
  const signing = await signingOf(o, c)
  if (signing.mode === 'unsigned' || signing.mode === 'none')
    return { ...skippedSigning(signing.mode, 'bundle'), carry: { signing, evidenceSkipped: true } }
  // the page a person reads (report.html) goes into the evidence with the files it shows
  const { writeReport } = await import('../../report/index.ts')
  await writeReport({ cwd: o.cwd, out: o.out })
  const { createEvidenceBundle } = await import('../../evidence/index.ts')
  const result = await createEvidenceBundle(toBundleOptions(o, signing.config, c.env))
  const recorded = toBundleStepResult(o, result, c)
  return { ...recorded, carry: { ...recorded.carry, signing } }
}
