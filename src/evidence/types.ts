/** Data shapes of the evidence step: the signed manifest, archive limits and the verification report. */
import type { ErrorCode } from '../errors.ts'

/** Archive member names that are not listed in the manifest (the manifest and its signature). */
export const MANIFEST_FILE = 'manifest.json'
export const MANIFEST_BUNDLE = 'manifest.sigstore.json'
/** Folder inside the archive holding the policy file that was applied (as written by `detbuild policy`). */
export const APPLIED_POLICY_DIR = 'applied-policy'
export const MANIFEST_KIND = 'detbuild-evidence'

/** One file inside the archive, as the manifest lists it. */
export interface ManifestFile {
  /** POSIX path inside the archive */
  path: string
  size: number
  sha256: string
  /** SRI string (sha512) */
  integrity: string
}

/** A build output the evidence is about; its bytes are in the archive only with --include-artifacts. */
export interface ManifestArtifact extends ManifestFile {
  included: boolean
}

export interface EvidenceManifest {
  schemaVersion: 1
  kind: typeof MANIFEST_KIND
  detbuild: { version: string }
  /** the build's SOURCE_DATE_EPOCH: every archive member's mtime */
  sourceDateEpoch: number
  /** every member of the archive except manifest.json and manifest.sigstore.json, sorted by path */
  files: ManifestFile[]
  /** the workspace's artifacts (build outputs), sorted by path */
  artifacts: ManifestArtifact[]
}

/** Limits of the safe reader; every count is checked while streaming, before anything is kept. */
export interface ArchiveLimits {
  /** compressed archive size, bytes */
  maxArchiveBytes: number
  /** one member's content, bytes (checked against the header before reading it) */
  maxEntryBytes: number
  /** the whole inflated tar stream, bytes (a decompression bomb stops here) */
  maxTotalBytes: number
  /** members */
  maxEntries: number
}

export const DEFAULT_LIMITS: Readonly<ArchiveLimits> = Object.freeze({
  maxArchiveBytes: 512 * 1024 * 1024,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxEntries: 10_000,
})

/** Reason codes of an evidence check that said no (exit 1). */
export const EvidenceFailureCodes = [
  // the archive itself (hostile or damaged members)
  'EVIDENCE_ENTRY_ABSOLUTE',
  'EVIDENCE_ENTRY_TRAVERSAL',
  'EVIDENCE_ENTRY_PATH_INVALID',
  'EVIDENCE_ENTRY_SYMLINK',
  'EVIDENCE_ENTRY_HARDLINK',
  'EVIDENCE_ENTRY_DEVICE',
  'EVIDENCE_ENTRY_TYPE',
  'EVIDENCE_ENTRY_DUPLICATE',
  'EVIDENCE_ENTRY_TOO_LARGE',
  'EVIDENCE_ARCHIVE_TOO_LARGE',
  'EVIDENCE_TOO_MANY_ENTRIES',
  // the manifest and its signature
  'EVIDENCE_MANIFEST_MISSING',
  'EVIDENCE_MANIFEST_INVALID',
  'EVIDENCE_MANIFEST_MODIFIED',
  'EVIDENCE_SIGNATURE_MISSING',
  'EVIDENCE_SIGNATURE_BUNDLE_INVALID',
  'EVIDENCE_SIGNATURE_INVALID',
  'EVIDENCE_SIGNATURE_CHAIN_UNTRUSTED',
  'EVIDENCE_SIGNATURE_IDENTITY_MISMATCH',
  'EVIDENCE_SIGNATURE_KEY_MISMATCH',
  'EVIDENCE_SIGNATURE_TLOG_MISSING',
  'EVIDENCE_SIGNATURE_TLOG_INVALID',
  'EVIDENCE_SIGNATURE_TIMESTAMP_INVALID',
  'EVIDENCE_SIGNATURE_UNSUPPORTED',
  // the files against the manifest
  'EVIDENCE_FILE_MODIFIED',
  'EVIDENCE_FILE_MISSING',
  'EVIDENCE_FILE_UNLISTED',
  // the artifact against the build record
  'EVIDENCE_PROVENANCE_MISSING',
  'EVIDENCE_BUILD_MISSING',
  'EVIDENCE_ARTIFACT_NOT_IN_PROVENANCE',
  'EVIDENCE_ARTIFACT_NOT_IN_BUILD',
  // the files against each other and the manifest
  'EVIDENCE_FILE_INVALID',
  'EVIDENCE_SUBJECTS_MISMATCH',
  'EVIDENCE_MANIFEST_CONTRADICTED',
  'EVIDENCE_STALE_INPUT',
  'EVIDENCE_INPUT_MISSING',
  // re-evaluations
  'EVIDENCE_SBOM_MISSING',
  'EVIDENCE_POLICY_FAILED',
] as const satisfies readonly ErrorCode[]
export type EvidenceFailureCode = (typeof EvidenceFailureCodes)[number]

export interface EvidenceFailure {
  code: EvidenceFailureCode
  message: string
  /** the archive member the failure is about */
  file?: string
  expected?: string
  found?: string
}

export type CheckStatus = 'pass' | 'fail' | 'skipped' | 'incomplete'

export type SignerSummary =
  | { type: 'keyless'; identity: string; issuer: string }
  | { type: 'key'; keyId: string }
