/**
 * detbuild's programmatic API (`import { runBuild } from 'detbuild'`): one function per pipeline step,
 * each reading and writing the workspace folder (`.detbuild/` by default), and the whole pipeline
 * (`runDetbuild`). The CLI and the GitHub Action are thin layers over these; errors are DetbuildError
 * subclasses with a stable `code` and the `exitCode` the CLI would exit with.
 */
export { type BuildOptions, type BuildResult, runBuild } from './builder/index.ts'
export { type Context, type ContextInput, resolveContext, type SourceDate } from './config/index.ts'
export { ERROR_CODES } from './error-codes.ts'
export {
  CheckFailedError,
  DetbuildError,
  type ErrorCode,
  ExitCode,
  IncompleteError,
  InputError,
  InternalError,
  isDetbuildError,
} from './errors.ts'
// SLSA verification summaries (VSA v1) of `verify --evidence`: make, sign and write one; check one
export {
  type BundleOptions,
  type BundleResult,
  createEvidenceBundle,
  type EvidenceReport,
  type InspectSummary,
  inspectEvidence,
  toVerificationSummary,
  type VerifyEvidenceOptions,
  type VerifyEvidenceResult,
  type VerifyVsaOptions,
  type VsaOptions,
  type VsaReport,
  type VsaStatement,
  verifyEvidence,
  verifyVerificationSummary,
  writeVerificationSummary,
} from './evidence/index.ts'
export {
  type RunPolicyOptions,
  type RunPolicyResult,
  runPolicy,
  scoreSbom,
  scoreText,
} from './policy/index.ts'
export {
  type ReportInput,
  type ReportOptions,
  type ReportResult,
  renderReport,
  writeReport,
} from './report/index.ts'
export { type PipelineHooks, type RunOptions, runDetbuild } from './run/index.ts'
/**
 * The sbom step; `readSbomFile`: any SBOM detbuild reads (CycloneDX JSON or XML, SPDX 2.3, SPDX 3.0.1) in
 * CycloneDX JSON shape; `readSbomText` the same for the JSON formats, synchronously (docs/formats.md).
 */
export {
  type ReadSbom,
  readSbomFile,
  readSbomText,
  runSbom,
  type SbomInputFormat,
  type SbomOptions,
  type SbomResult,
} from './sbom/index.ts'
export { runScan, type ScanOptions, type ScanResult } from './scan/index.ts'
export { type SignaturesManifest, type SignWorkspaceOptions, signWorkspace } from './sign/index.ts'
export {
  runUpload,
  type UploadOptions,
  type UploadRecord,
  type UploadResult,
} from './upload/index.ts'
export { createLogger, type Logger, type LoggerOptions } from './util/log.ts'
export { type VerifyArtifactOptions, type VerifyResult, verifyArtifact } from './verify/index.ts'
export { VERSION } from './version.ts'
