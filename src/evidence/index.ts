/**
 * The evidence step: `detbuild bundle` (one signed, deterministic archive of the workspace's evidence),
 * `detbuild verify ARTIFACT --evidence FILE` and `detbuild inspect FILE`.
 */
import path from 'node:path'
import { toPosixRelative } from '../util/fs.ts'
import { readEvidenceArchive } from './archive.ts'
import { type InspectSummary, toInspectSummary } from './inspect.ts'
import { type ArchiveLimits, DEFAULT_LIMITS } from './types.ts'
import { readArchiveFile } from './verify.ts'

export { packEvidence, readEvidenceArchive } from './archive.ts'
export { type BundleOptions, type BundleResult, createEvidenceBundle } from './bundle.ts'
export type { InspectSummary } from './inspect.ts'
export { toManifest } from './manifest.ts'
export { renderBundleText, renderInspectText, renderVerifyText } from './render.ts'
export * from './types.ts'
export {
  type EvidenceReport,
  type VerifyEvidenceOptions,
  type VerifyEvidenceResult,
  verifyEvidence,
} from './verify.ts'
export {
  removeVerificationSummary,
  toVerificationSummary,
  VSA_PREDICATE_TYPE,
  VSA_VERIFIER_ID,
  type VsaFacts,
  type VsaOptions,
  type VsaStatement,
  vsaBundlePath,
  type WrittenVsa,
  writeVerificationSummary,
} from './vsa.ts'
export {
  type VerifyVsaOptions,
  type VsaFailureCode,
  type VsaReport,
  verifyVerificationSummary,
} from './vsa-verify.ts'

/** Reads an evidence archive safely and summarizes it (nothing is verified). */
export async function inspectEvidence(
  cwd: string,
  file: string,
  limits: ArchiveLimits = DEFAULT_LIMITS,
): Promise<InspectSummary> {
  const shown = toPosixRelative(cwd, path.resolve(cwd, file))
  const bytes = await readArchiveFile(cwd, file, limits)
  const members = await readEvidenceArchive(bytes, limits, shown)
  return toInspectSummary(shown, bytes, members)
}
