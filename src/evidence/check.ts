/**
 * The checks of `verify --evidence` that need no I/O: the manifest signature (verify's pure core), the
 * artifact against the provenance subjects and build.json outputs, and policy inputs from archive data.
 */
import type { PolicyInputs } from '../policy/index.ts'
import { sha256Hex } from '../util/digest.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { compareCodePoint } from '../util/sort.ts'
import type { Trust } from '../verify/index.ts'
import { type ArtifactInput, type VerifyReport, verifyBundle } from '../verify/index.ts'
import { type BuildOutput, parseBuildManifest, parseProvenance, WorkspaceFiles } from '../workspace/index.ts'
import { typedMember } from './typed-member.ts'
import type { EvidenceFailure, EvidenceFailureCode, EvidenceManifest, SignerSummary } from './types.ts'

export interface SignatureCheck {
  failure: EvidenceFailure | null
  signer: SignerSummary | null
  tlogEntries: number
  timestamps: number
}

const SIGNATURE_CODES: Record<string, EvidenceFailureCode> = {
  VERIFY_BUNDLE_INVALID: 'EVIDENCE_SIGNATURE_BUNDLE_INVALID',
  // the bundle signs other bytes than this manifest.json: the manifest was changed after signing
  VERIFY_DIGEST_MISMATCH: 'EVIDENCE_MANIFEST_MODIFIED',
  VERIFY_SIGNATURE_INVALID: 'EVIDENCE_SIGNATURE_INVALID',
  VERIFY_CHAIN_UNTRUSTED: 'EVIDENCE_SIGNATURE_CHAIN_UNTRUSTED',
  VERIFY_IDENTITY_MISMATCH: 'EVIDENCE_SIGNATURE_IDENTITY_MISMATCH',
  VERIFY_KEY_MISMATCH: 'EVIDENCE_SIGNATURE_KEY_MISMATCH',
  VERIFY_TLOG_MISSING: 'EVIDENCE_SIGNATURE_TLOG_MISSING',
  VERIFY_TLOG_INVALID: 'EVIDENCE_SIGNATURE_TLOG_INVALID',
  VERIFY_TIMESTAMP_INVALID: 'EVIDENCE_SIGNATURE_TIMESTAMP_INVALID',
  VERIFY_UNSUPPORTED: 'EVIDENCE_SIGNATURE_UNSUPPORTED',
}

/** Verifies manifest.sigstore.json over the manifest bytes. */
export function checkSignature(
  manifestBytes: Uint8Array,
  bundleBytes: Uint8Array | undefined,
  trust: Trust,
): SignatureCheck {
  const none = { signer: null, tlogEntries: 0, timestamps: 0 }
  const file = 'manifest.sigstore.json'
  if (bundleBytes === undefined)
    return {
      ...none,
      failure: {
        code: 'EVIDENCE_SIGNATURE_MISSING',
        message: 'the archive holds no manifest signature',
        file,
      },
    }
  let bundle: unknown
  try {
    bundle = parseJsonText(Buffer.from(bundleBytes).toString('utf8'))
  } catch {
    return {
      ...none,
      failure: {
        code: 'EVIDENCE_SIGNATURE_BUNDLE_INVALID',
        message: 'the manifest signature is not JSON',
        file,
      },
    }
  }
  const report: VerifyReport = verifyBundle({
    ...trust.request,
    bundle,
    artifact: { kind: 'bytes', data: manifestBytes },
  })
  const base = { signer: report.signer, tlogEntries: report.tlogEntries, timestamps: report.timestamps }
  if (report.failure) {
    const code = SIGNATURE_CODES[report.failure.code] ?? 'EVIDENCE_SIGNATURE_INVALID'
    return {
      ...base,
      failure: {
        code,
        message: `manifest signature: ${report.failure.message} [${report.failure.code}]`,
        file: code === 'EVIDENCE_MANIFEST_MODIFIED' ? 'manifest.json' : file,
      },
    }
  }
  if (report.kind !== 'message')
    return {
      ...base,
      failure: {
        code: 'EVIDENCE_SIGNATURE_UNSUPPORTED',
        message: 'the manifest signature must be a message signature over manifest.json',
        file,
      },
    }
  return { ...base, failure: null }
}

/**
 * What the manifest claims that a signed file could contradict: its sourceDateEpoch is build.json's,
 * and an artifact marked included is the file listed under its path, with the same digests. (The
 * artifacts themselves are checked against the provenance and build.json in links.ts.)
 */
export function checkManifestClaims(
  manifest: EvidenceManifest,
  members: ReadonlyMap<string, Uint8Array>,
): EvidenceFailure[] {
  const failures: EvidenceFailure[] = []
  const build = typedMember(parseBuildManifest, members.get(WorkspaceFiles.buildManifest))
  if (build && build.sourceDateEpoch !== manifest.sourceDateEpoch)
    failures.push({
      code: 'EVIDENCE_MANIFEST_CONTRADICTED',
      message: "the manifest's sourceDateEpoch is not the one build.json records",
      file: 'manifest.json',
      expected: String(build.sourceDateEpoch),
      found: String(manifest.sourceDateEpoch),
    })
  for (const f of manifest.files)
    if (
      f.path.startsWith(`${WorkspaceFiles.artifactsDir}/`) &&
      !f.path.endsWith('.sigstore.json') &&
      !manifest.artifacts.some((a) => a.path === f.path)
    )
      failures.push({
        code: 'EVIDENCE_MANIFEST_CONTRADICTED',
        message: `manifest.json lists ${f.path} as a file but not as an artifact`,
        file: 'manifest.json',
      })
  for (const a of manifest.artifacts) {
    const listed = manifest.files.find((f) => f.path === a.path)
    if (!listed) continue
    if (
      !a.included ||
      listed.sha256 !== a.sha256 ||
      listed.integrity !== a.integrity ||
      listed.size !== a.size
    )
      failures.push({
        code: 'EVIDENCE_MANIFEST_CONTRADICTED',
        message: `manifest.json lists ${a.path} as a file and as an artifact, and the two entries differ`,
        file: 'manifest.json',
        expected: `sha256:${a.sha256} included`,
        found: `sha256:${listed.sha256}${a.included ? ' included' : ' not included'}`,
      })
  }
  return failures
}

/** The artifact to look for: a digest by algorithm (hex). */
export type ArtifactDigest = Extract<ArtifactInput, { kind: 'digest' }>

export interface ArtifactMatch {
  /** the in-toto subject name in provenance.intoto.json */
  provenanceSubject: string | null
  /** the output path in build.json */
  buildOutput: string | null
}

function parse(data: Uint8Array | undefined): unknown {
  if (data === undefined) return undefined
  try {
    return parseJsonText(Buffer.from(data).toString('utf8'))
  } catch {
    return null
  }
}

/** An output's hex digest by algorithm: build.json records sha256 and sha512, a hand-made one maybe more. */
function digestOf(output: BuildOutput, algorithm: string): string | undefined {
  const v: unknown = Object.getOwnPropertyDescriptor(output, algorithm)?.value
  return typeof v === 'string' ? v.toLowerCase() : undefined
}

/** The artifact's digest among the provenance subjects and build.json outputs. */
export function checkArtifact(
  digest: ArtifactDigest,
  members: ReadonlyMap<string, Uint8Array>,
): { failures: EvidenceFailure[]; match: ArtifactMatch } {
  const failures: EvidenceFailure[] = []
  const match: ArtifactMatch = { provenanceSubject: null, buildOutput: null }
  const shown = `${digest.algorithm}:${digest.hex}`

  const provenance = typedMember(parseProvenance, members.get(WorkspaceFiles.provenance))
  if (provenance === undefined)
    failures.push({
      code: 'EVIDENCE_PROVENANCE_MISSING',
      message: 'the archive holds no provenance.intoto.json',
      file: WorkspaceFiles.provenance,
    })
  else {
    const hit = provenance?.subject.find(
      (s) => (s.digest[digest.algorithm] ?? '').toLowerCase() === digest.hex,
    )
    if (hit) match.provenanceSubject = hit.name
    else
      failures.push({
        code: 'EVIDENCE_ARTIFACT_NOT_IN_PROVENANCE',
        message: `${shown} is not a subject of provenance.intoto.json`,
        file: WorkspaceFiles.provenance,
        found: shown,
      })
  }

  const build = typedMember(parseBuildManifest, members.get(WorkspaceFiles.buildManifest))
  if (build === undefined)
    failures.push({
      code: 'EVIDENCE_BUILD_MISSING',
      message: 'the archive holds no build.json',
      file: WorkspaceFiles.buildManifest,
    })
  else {
    const hit = build?.outputs.find((o) => digestOf(o, digest.algorithm) === digest.hex)
    if (hit) match.buildOutput = hit.path
    else
      failures.push({
        code: 'EVIDENCE_ARTIFACT_NOT_IN_BUILD',
        message: `${shown} is not an output in build.json`,
        file: WorkspaceFiles.buildManifest,
        found: shown,
      })
  }
  return { failures, match }
}

/**
 * Policy inputs from archive members (names as in the archive). Files signatures.json and build.json
 * talk about are hashed from the archive, or taken from the signed manifest's artifact digests.
 */
export function toPolicyInputs(
  members: ReadonlyMap<string, Uint8Array>,
  manifest: EvidenceManifest,
  vulnsOverride?: { name: string; data: Uint8Array },
): PolicyInputs | undefined {
  const input = (name: string, data: Uint8Array | undefined) =>
    data === undefined ? undefined : { file: { file: name, sha256: sha256Hex(data) }, data: parse(data) }
  const sbom = input(WorkspaceFiles.sbomJson, members.get(WorkspaceFiles.sbomJson))
  if (!sbom) return undefined
  const inputs: PolicyInputs = { sbom }
  const vulns = vulnsOverride
    ? input(vulnsOverride.name, vulnsOverride.data)
    : input(WorkspaceFiles.vulns, members.get(WorkspaceFiles.vulns))
  if (vulns) inputs.vulns = vulns
  const build = input(WorkspaceFiles.buildManifest, members.get(WorkspaceFiles.buildManifest))
  if (build) inputs.build = build
  const signatures = input('signatures.json', members.get('signatures.json'))
  if (signatures) inputs.signatures = signatures
  const files: Record<string, string | null> = {}
  const known = new Map<string, string>()
  for (const a of manifest.artifacts) known.set(a.path, a.sha256)
  for (const [name, data] of members) known.set(name, sha256Hex(data))
  for (const name of [...known.keys()].sort(compareCodePoint)) files[name] = known.get(name) ?? null
  inputs.workspaceFiles = files
  return inputs
}
