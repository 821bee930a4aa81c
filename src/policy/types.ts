/**
 * The policy language (as validated by schema/policy.schema.json), the inputs the evaluator reads and the
 * result it returns. Data only.
 */
import type { ErrorCode } from '../errors.ts'
import type { SignerReport } from '../verify/index.ts'

export const SEVERITIES = ['none', 'low', 'medium', 'high', 'critical'] as const
export type Severity = (typeof SEVERITIES)[number]

/** What a violated rule reports: `fail` makes the verdict fail, `warn` only reports. */
export type Level = 'fail' | 'warn'
export type RuleStatus = 'pass' | 'fail' | 'warn'

export interface VulnerabilityPolicy {
  /** missing vulns.json fails instead of warning */
  required?: boolean
  level?: Level
  /** highest severity allowed; anything above is a violation */
  maxSeverity?: Severity
  direct?: { maxSeverity?: Severity }
  transitive?: { maxSeverity?: Severity }
  /** whether findings without a fixed version count (default true) */
  countUnfixed?: boolean
  /** the severity assumed when a finding has none (default high) */
  unknownSeverity?: Severity
  /** whether dev-only packages count (default false) */
  includeDev?: boolean
  /** honour suppressions recorded by `detbuild scan` (default true) */
  honorScanSuppressions?: boolean
  /** count findings the scan proved `not_affected` (Go symbol reachability) as excepted (default true) */
  honorReachability?: boolean
  /** an incomplete scan (unchecked packages, other SBOM): fail, warn or ignore (default fail) */
  incompleteScan?: Level | 'ignore'
}

export interface LicensePolicy {
  level?: Level
  allow?: string[]
  deny?: string[]
  /** missing, NOASSERTION or non-SPDX licences: fail, warn or allow (default warn) */
  unknown?: Level | 'allow'
  includeDev?: boolean
}

export interface PackageDenyEntry {
  purl: string
  versions?: string
  reason?: string
}

export interface PackagePolicy {
  level?: Level
  includeDev?: boolean
  deny?: PackageDenyEntry[]
  registries?: { allow?: string[]; deny?: string[] }
}

export const NTIA_ELEMENTS = [
  'supplier',
  'name',
  'version',
  'identifier',
  'dependencies',
  'author',
  'timestamp',
] as const
export type NtiaElement = (typeof NTIA_ELEMENTS)[number]

/** A shipped SBOM profile's rules (score.ts): which elements, at which level, over which components. */
export interface ProfilePolicy {
  level?: Level
  /** only these elements (ids, e.g. `component-hash`); default every element of the profile */
  elements?: string[]
  /** check dev-only components too (default false: they are not shipped) */
  includeDev?: boolean
}

export interface SbomPolicy {
  ntia?: { level?: Level; elements?: NtiaElement[] }
  /** CISA 2026 minimum elements and BSI TR-03183-2 v2.1.0 (docs/profiles.md) */
  profiles?: { 'cisa-2026'?: ProfilePolicy; 'bsi-tr-03183-2'?: ProfilePolicy }
  hashes?: { level?: Level; minShare?: number; strongOnly?: boolean }
}

export interface BuildPolicy {
  required?: boolean
  level?: Level
  reproducible?: boolean
  /** the weakest isolation accepted: `none` (network must be off) or `best-effort` */
  networkIsolation?: 'none' | 'best-effort'
  /** the install and build commands ran in the sealed build room (build.json `isolation.sealed`) */
  sealed?: boolean
  toolchain?: { pinned?: boolean; integrity?: boolean }
  cleanSource?: boolean
}

export interface SignerPattern {
  issuer?: string
  identity?: string
  keyId?: string
}

export interface SigningPolicy {
  required?: boolean
  level?: Level
  provenance?: boolean
  artifacts?: boolean
  signers?: SignerPattern[]
}

export interface PolicyException {
  vulnerability?: string
  license?: string
  rule?: string
  purl?: string
  justification: string
  statement?: string
  expires?: string
  approvedBy?: string
}

export interface Policy {
  version: 1
  name?: string
  description?: string
  vulnerabilities?: VulnerabilityPolicy
  licenses?: LicensePolicy
  packages?: PackagePolicy
  sbom?: SbomPolicy
  build?: BuildPolicy
  signing?: SigningPolicy
  exceptionRules?: { requireExpiry?: boolean; requireApprover?: boolean; maxDays?: number }
  exceptions?: PolicyException[]
}

/** Where a policy came from, for the result. */
export interface PolicySource {
  name: string
  /** `builtin:<name>` or a POSIX path relative to the project */
  source: string
  sha256: string
}

/** An exception after normalisation: from the policy or from a VEX document. */
export interface Exception {
  /** stable reference: `policy#3` or `<vex file>#2` */
  ref: string
  origin: 'policy' | 'openvex' | 'cyclonedx-vex'
  vulnerability?: string
  license?: string
  rule?: string
  /** purl patterns; empty means any package */
  purls: string[]
  justification: string
  statement?: string
  expires?: string
  approvedBy?: string
}

export interface InputFile {
  /** POSIX path relative to the project, for the result */
  file: string
  sha256: string
}

/** Everything evaluatePolicy reads; the edge (inputs.ts) fills it. */
export interface PolicyInputs {
  sbom: { file: InputFile; data: unknown }
  vulns?: { file: InputFile; data: unknown }
  build?: { file: InputFile; data: unknown }
  signatures?: { file: InputFile; data: unknown }
  vex?: Array<{ file: InputFile; data: unknown }>
  /** sha256 of workspace files named by build.json and signatures.json (null: absent) */
  workspaceFiles?: Record<string, string | null>
  /** the bytes of the bundles signatures.json lists and of the files they sign, by workspace path */
  signedFiles?: ReadonlyMap<string, Uint8Array>
}

/** What a signature bundle is checked against: the signed file's bytes, or only its digest. */
export type SignedArtifact =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'digest'; algorithm: 'sha256' | 'sha384' | 'sha512'; hex: string }

/** The verified signer of a bundle (verify's own type): taken from the verified certificate or the verifying key only. */
export type VerifiedSigner = SignerReport

/** A verifier's answer for one bundle (`detbuild verify`'s VerifyReport has this shape). */
export interface SignatureCheck {
  verified: boolean
  failure: { code: ErrorCode; message: string } | null
  kind: 'dsse' | 'message' | null
  signer: VerifiedSigner | null
}

/**
 * Cryptographic verification for the signing rules, with the caller's trust material (a key, or a trusted
 * root and an identity policy). Without it the signing rules cannot judge a bundle and fail at their level.
 */
export interface SignatureTrust {
  /** verifies one bundle (parsed JSON, hostile) against what it signs */
  verify: (bundle: unknown, artifact: SignedArtifact) => SignatureCheck
  /** bytes of a workspace file by workspace path (default: `inputs.signedFiles`); undefined when absent */
  read?: (name: string) => Uint8Array | undefined
  /**
   * bytes of files the caller holds outside the workspace (the artifact given to `verify --evidence`),
   * used for a signed file only known by digest when their sha256 is that digest
   */
  blobs?: readonly Uint8Array[]
}

export interface Violation {
  message: string
  purl?: string
  [key: string]: unknown
}

export interface ExceptedViolation extends Violation {
  exception: string
}

export interface RuleResult {
  id: string
  title: string
  status: RuleStatus
  summary: string
  evidence: Record<string, unknown>
}

export interface ExceptionReport {
  ref: string
  origin: Exception['origin']
  status: 'active' | 'expired' | 'invalid'
  used: number
  vulnerability?: string
  license?: string
  rule?: string
  purls: string[]
  justification: string
  expires?: string
  approvedBy?: string
  note?: string
}

export interface PolicyResult {
  schemaVersion: 1
  policy: PolicySource
  evaluatedAt: string
  verdict: RuleStatus
  counts: Record<RuleStatus, number>
  inputs: { sbom: InputFile } & Record<string, InputFile | InputFile[] | null>
  rules: RuleResult[]
  exceptions: ExceptionReport[]
  /** per enabled SBOM profile: how many components have each element (absent without profiles) */
  coverage?: Array<Record<string, unknown>>
}
