/** `run` → the verify step: the evidence this run made, for each artifact build.json lists. */
import path from 'node:path'
import { type ErrorCode, ExitCode, InputError } from '../../errors.ts'
import type { VerifyEvidenceOptions } from '../../evidence/index.ts'
import { plural } from '../../util/plural.ts'
import type { TrustInput } from '../../verify/index.ts'
import { readBuildManifest, WorkspaceFiles } from '../../workspace/index.ts'
import type { RunOptions } from '../options.ts'
import type { StepAdapter } from './carried.ts'
import { hasVerifyTrust, verifyTrust } from './trust.ts'

/** Pure: verify's options for one artifact (workspace-relative). */
export function toVerifyOptions(
  o: RunOptions,
  trust: TrustInput,
  artifact: string,
  env: NodeJS.ProcessEnv,
): VerifyEvidenceOptions {
  return {
    ...trust,
    cwd: o.cwd,
    evidence: path.join(o.out, WorkspaceFiles.evidence),
    artifact: path.join(o.out, artifact),
    env,
    now: o.now,
    log: o.log,
  }
}

export const verifyStep: StepAdapter = async (o, c) => {
  // the evidence in the workspace is a previous run's: verifying it would vouch for this run
  if (c.evidenceSkipped)
    return {
      exitCode: ExitCode.ok,
      skipped: true,
      detail: `skipped: this run made no evidence to verify (${c.signing?.mode === 'none' ? '--sign none' : 'nothing was signed'})`,
    }
  // no bundle step: the workspace's evidence is verified, against a signer someone must name
  const signedNothing = c.signing
    ? c.signing.mode === 'unsigned' || c.signing.mode === 'none'
    : o.sign.mode === 'none'
  if (signedNothing && !hasVerifyTrust(o.verify))
    return {
      exitCode: ExitCode.ok,
      skipped: true,
      detail:
        'skipped: this run signed nothing, and no --verify-key or --certificate-identity names who must have signed the evidence in the workspace',
    }
  const { verifyEvidence } = await import('../../evidence/index.ts')
  const artifacts = await readBuiltArtifacts(o.out)
  const trust = await verifyTrust(o, c)
  const failures: string[] = []
  let code: ErrorCode | undefined
  let exitCode: ExitCode = ExitCode.ok
  for (const artifact of artifacts) {
    const { report, exitCode: e } = await verifyEvidence(toVerifyOptions(o, trust, artifact, c.env))
    if (!report.verified) {
      failures.push(`${artifact}: [${report.failure?.code}] ${report.failure?.message ?? ''}`)
      code ??= report.failure?.code
      if (exitCode === ExitCode.ok) exitCode = e
    }
  }
  return {
    exitCode,
    ...(code ? { code } : {}),
    detail:
      failures.length === 0
        ? `evidence verified for ${plural(artifacts.length, 'artifact')}`
        : `NOT verified: ${failures.join('; ')}`,
    facts: { verify: { verified: failures.length === 0, artifacts: artifacts.length } },
  }
}

/** The artifact paths build.json lists (workspace-relative). */
async function readBuiltArtifacts(out: string): Promise<string[]> {
  const paths = (await readBuildManifest(out)).outputs.map((x) => x.path)
  if (paths.length === 0)
    throw new InputError('RUN_NO_ARTIFACTS', 'build.json lists no artifacts to verify the evidence for', {
      file: WorkspaceFiles.buildManifest,
    })
  return paths
}
