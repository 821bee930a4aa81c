/**
 * A SLSA Verification Summary Attestation (VSA v1, https://slsa.dev/verification_summary/v1) of one
 * `detbuild verify ARTIFACT --evidence FILE --policy P --write-vsa OUT`: an in-toto Statement v1 whose
 * subject is the verified artifact, signed as a DSSE bundle like every other detbuild statement
 * (sign/sign-bundle.ts). Pure except {@link writeVerificationSummary} (signing and writing).
 *
 * What goes in, and why (docs/evidence.md, "Verification summary"):
 * - subject: the artifact as given, with the digests detbuild computed itself (both of a file, the one
 *   given as `sha256:<hex>`), named as the signed provenance names it; never a digest copied from the archive;
 * - verificationResult: PASSED only for a verification that passed (exit 0), FAILED for one that failed
 *   (exit 1); an incomplete one (exit 3) gets no summary at all;
 * - verifiedLevels: SLSA_BUILD_LEVEL_1 when passed (the artifact is a subject of signed provenance), never
 *   more: L2 needs provenance made by a hosted build platform, which nothing in the evidence proves
 *   (detbuild runs as the tenant's own step); FAILED when failed;
 * - inputAttestations: the archive, and each of its JSON members (the signed manifest and its bundle, the
 *   provenance, the SBOMs, the scan and policy results, the signatures), by SHA-256; renderings (.md,
 *   .sarif is JSON and stays) and the artifacts themselves are covered by the archive's digest;
 * - policy: the --policy file's SHA-256; a shipped policy is named by its purl inside detbuild's package.
 */
import { rm } from 'node:fs/promises'
import path from 'node:path'
import type { SerializedBundle } from '@sigstore/bundle'
import { ExitCode, InputError } from '../errors.ts'
import type { PolicySource } from '../policy/index.ts'
import { IN_TOTO_PAYLOAD_TYPE, type SigningConfig, signDsse } from '../sign/index.ts'
import { stableJson } from '../util/canonical-json.ts'
import { sha256Hex } from '../util/digest.ts'
import { writeFilesAtomic } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import { VERSION } from '../version.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
import type { VerifyEvidenceResult } from './verify.ts'

export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1'
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1'
/** detbuild's `verify --evidence` as a verifier (the trust base: its signer is who ran it) */
export const VSA_VERIFIER_ID = 'https://detbuild.dev/verifiers/evidence/v1'
/** an extension field (a URI, as the VSA's parsing rules ask): the reason codes of a FAILED summary */
export const VSA_FAILURES_FIELD = 'https://detbuild.dev/verification_summary/failures'

/** What a summary is made of: digests detbuild computed itself (see verify.ts `facts`). */
export interface VsaFacts {
  subject: { name: string; digest: Record<string, string> }
  /** the archive, by its path as shown (relative, POSIX) */
  evidence: { uri: string; sha256: string }
  /** the archive's JSON members (attestations, bundles, the manifest, the reports), sorted by name */
  members: Array<{ name: string; sha256: string }>
  policy: { uri: string; sha256: string } | null
  /** the SBOM's root component purl, when the archive has a readable one */
  sbomPurl: string | null
}

/** Pure: the facts of one evidence verification (verifyEvidence's `facts()`, for every outcome). */
export function toVsaFacts(o: {
  artifact: string
  artifactDigests: Record<string, string>
  provenanceSubject: string | null
  evidence: string
  archive: Uint8Array
  members: ReadonlyMap<string, Uint8Array> | undefined
  policy: PolicySource | undefined
}): VsaFacts {
  const members = [...(o.members ?? new Map<string, Uint8Array>())]
    .filter(([name]) => name.endsWith('.json') && !name.startsWith(`${WorkspaceFiles.artifactsDir}/`))
    .map(([name, data]) => ({ name, sha256: sha256Hex(data) }))
    .sort((a, b) => compareCodePoint(a.name, b.name))
  const given = /^sha\d+:/i.test(o.artifact) ? null : path.posix.basename(o.artifact)
  return {
    subject: { name: o.provenanceSubject ?? given ?? o.artifact, digest: { ...o.artifactDigests } },
    evidence: { uri: o.evidence, sha256: sha256Hex(o.archive) },
    members,
    policy: o.policy ? { uri: policyUri(o.policy), sha256: o.policy.sha256 } : null,
    sbomPurl: rootPurl(o.members?.get(WorkspaceFiles.sbomJson)),
  }
}

/** A shipped policy is the file inside detbuild's npm package (a purl subpath); a project file its path. */
function policyUri(source: PolicySource): string {
  const builtin = /^builtin:(.+)$/.exec(source.source)
  return builtin ? `pkg:npm/detbuild@${VERSION}#policies/${builtin[1]}.yaml` : source.source
}

/** The SBOM's `metadata.component.purl`, when it is a plausible purl (the archive is untrusted input). */
function rootPurl(sbom: Uint8Array | undefined): string | null {
  if (!sbom) return null
  try {
    const doc = parseJsonText(Buffer.from(sbom).toString('utf8')) as {
      metadata?: { component?: { purl?: unknown } }
    }
    const purl = doc?.metadata?.component?.purl
    return typeof purl === 'string' &&
      purl.length <= 2048 &&
      /^pkg:[a-z][a-z0-9.+-]*\/[\x21-\x7e]+$/.test(purl)
      ? purl
      : null
  } catch {
    return null
  }
}

/** A VSA v1: an in-toto Statement v1 with the verification summary predicate (before signing). */
export interface VsaStatement {
  _type: typeof STATEMENT_V1
  subject: Array<{ name: string; digest: Record<string, string> }>
  predicateType: typeof VSA_PREDICATE_TYPE
  predicate: Record<string, unknown>
}

/** Options of {@link toVerificationSummary}. */
export interface VsaOptions {
  /** what `verifyEvidence` returned: the verdict comes from its exit code, never from the caller */
  verification: Pick<VerifyEvidenceResult, 'report' | 'exitCode' | 'facts'>
  /** when the verification happened (docs: SOURCE_DATE_EPOCH when set, else the clock) */
  timeVerified: Date
  /** default: the SBOM's root purl, else a pkg:generic purl of the subject with its sha256 */
  resourceUri?: string
}

/**
 * Pure: the VSA statement of one evidence verification: PASSED only when it passed (exit 0, verified, no
 * failure), FAILED when a check failed (exit 1), null when it gave no verdict (exit 3: incomplete). A
 * summary needs the policy it verified against (VSA_USAGE without one).
 */
export function toVerificationSummary(o: VsaOptions): VsaStatement | null {
  const { report, exitCode } = o.verification
  const passed = exitCode === ExitCode.ok && report.verified && report.failures.length === 0
  if (!passed && exitCode !== ExitCode.checkFailed) return null
  const facts = o.verification.facts()
  if (!facts.policy)
    throw new InputError(
      'VSA_USAGE',
      'a verification summary names the policy the artifact was verified against: verify with --policy',
    )
  const result = passed ? 'PASSED' : 'FAILED'
  const inputAttestations = [
    { uri: facts.evidence.uri, digest: { sha256: facts.evidence.sha256 } },
    ...facts.members.map((m) => ({
      name: m.name,
      uri: `${facts.evidence.uri}#${m.name}`,
      digest: { sha256: m.sha256 },
    })),
  ]
  const predicate: Record<string, unknown> = {
    verifier: { id: VSA_VERIFIER_ID, version: { detbuild: VERSION } },
    timeVerified: toTimestamp(o.timeVerified),
    resourceUri: o.resourceUri ?? facts.sbomPurl ?? genericPurl(facts.subject),
    policy: { uri: facts.policy.uri, digest: { sha256: facts.policy.sha256 } },
    inputAttestations,
    verificationResult: result,
    verifiedLevels: passed ? ['SLSA_BUILD_LEVEL_1'] : ['FAILED'],
    slsaVersion: '1.0',
  }
  if (!passed)
    predicate[VSA_FAILURES_FIELD] = [...new Set(report.failures.map((f) => f.code))].sort(compareCodePoint)
  return {
    _type: STATEMENT_V1,
    subject: [{ name: facts.subject.name, digest: facts.subject.digest }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate,
  }
}

/** RFC 3339 in UTC, whole seconds (the in-toto Timestamp field type). */
function toTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function genericPurl(subject: VsaFacts['subject']): string {
  const name = encodeURIComponent(subject.name.replace(/^.*\//, '') || 'artifact')
  const [algorithm, hex] = Object.entries(subject.digest).sort(([a], [b]) => compareCodePoint(a, b))[0] ?? []
  return `pkg:generic/${name}${algorithm ? `?checksum=${algorithm}:${hex}` : ''}`
}

/** Where the signed bundle of a summary goes: `x.intoto.json` → `x.sigstore.json`, else `x.sigstore.json` appended. */
export function vsaBundlePath(file: string): string {
  return file.endsWith('.intoto.json')
    ? `${file.slice(0, -'.intoto.json'.length)}.sigstore.json`
    : `${file}.sigstore.json`
}

/** What {@link writeVerificationSummary} wrote. */
export interface WrittenVsa {
  statement: VsaStatement
  /** the statement file and its bundle, absolute */
  file: string
  bundleFile: string
  bundle: SerializedBundle
}

/**
 * Edge: signs the statement (a DSSE bundle over its exact bytes, as `detbuild sign` signs provenance) and
 * writes the statement and its bundle as one set (both or neither).
 */
export async function writeVerificationSummary(
  statement: VsaStatement,
  file: string,
  signing: SigningConfig,
): Promise<WrittenVsa> {
  const bytes = Buffer.from(stableJson(statement))
  const bundle = await signDsse(bytes, IN_TOTO_PAYLOAD_TYPE, signing)
  const bundleFile = vsaBundlePath(file)
  await writeFilesAtomic([
    { file, data: bytes },
    { file: bundleFile, data: stableJson(bundle) },
  ])
  return { statement, file, bundleFile, bundle }
}

/** Edge: removes a summary and its bundle (an earlier run's) when this run writes none. */
export async function removeVerificationSummary(file: string): Promise<void> {
  await rm(file, { force: true })
  await rm(vsaBundlePath(file), { force: true })
}
