/**
 * `detbuild verify ARTIFACT --evidence FILE`: reads the archive safely into memory, then checks the
 * manifest signature, every file against the manifest, the artifact against the provenance and
 * build.json, and optionally a policy and a fresh OSV scan. Edge: reads the archive, artifact, key,
 * trusted root and policy; the checks themselves are in check.ts and manifest.ts. Every problem is
 * collected into one report; only bad usage or unreadable input throws.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { CheckFailedError, ExitCode, IncompleteError, InputError, isDetbuildError } from '../errors.ts'
import { evaluatePolicy, readPolicy, signatureTrust } from '../policy/index.ts'
import type { ScanOptions } from '../scan/index.ts'
import type { VulnsReport } from '../scan/types.ts'
import { digestBytes, sha256Hex } from '../util/digest.ts'
import { toPosixRelative } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'
import type { Logger } from '../util/log.ts'
import { compareCodePoint } from '../util/sort.ts'
import { readArtifact } from '../verify/index.ts'
import { parseDigestArtifact } from '../verify/options.ts'
import { loadTrust, type TrustInput } from '../verify/trust.ts'
import { WorkspaceFiles } from '../workspace.ts'
import { readEvidenceArchive } from './archive.ts'
import {
  type ArtifactDigest,
  type ArtifactMatch,
  checkArtifact,
  checkManifestClaims,
  checkSignature,
  toPolicyInputs,
} from './check.ts'
import { checkLinks, type LinkProblemKind } from './links.ts'
import { checkContents, isFailure, parseManifest } from './manifest.ts'
import { type RescanResult, rescan } from './rescan.ts'
import {
  type ArchiveLimits,
  type CheckStatus,
  DEFAULT_LIMITS,
  type EvidenceFailure,
  type EvidenceFailureCode,
  type EvidenceManifest,
  MANIFEST_BUNDLE,
  MANIFEST_FILE,
  type SignerSummary,
} from './types.ts'
import { validateFiles } from './validate-files.ts'

/** The trust flags may hold the key and the trusted root in memory (TrustInput) instead of naming files. */
export interface VerifyEvidenceOptions extends TrustInput {
  cwd: string
  /** the evidence archive */
  evidence: string
  /** a file path, or `sha256:<hex>` / `sha512:<hex>` */
  artifact: string
  /** shipped policy name or policy file to re-evaluate on the bundled data */
  policy?: string
  rescan?: boolean
  /** OSV export for --rescan (no network) */
  offlineDb?: string
  osvUrl?: string
  env: NodeJS.ProcessEnv
  now: Date
  log: Logger
  limits?: ArchiveLimits
  tufCachePath?: string
  /** OSV client knobs for --rescan (tests) */
  client?: ScanOptions['client']
}

export interface EvidenceReport {
  verified: boolean
  /** the archive, relative to the project */
  evidence: string
  /** the artifact as given: a relative path or the digest */
  artifact: string
  artifactDigest: string
  /** the first failure (same shape as verify --bundle), null when verified */
  failure: EvidenceFailure | null
  failures: EvidenceFailure[]
  checks: {
    archive: CheckStatus
    signature: CheckStatus
    files: CheckStatus
    artifact: CheckStatus
    /** every file has its shape, and the files, the manifest and each other agree (input digests) */
    consistency: CheckStatus
    policy: CheckStatus
    rescan: CheckStatus
  }
  manifest: { detbuildVersion: string; sourceDateEpoch: number; files: number } | null
  signer: SignerSummary | null
  tlogEntries: number
  trustedRoot: string
  artifactMatch: ArtifactMatch | null
  policy: {
    name: string
    source: string
    verdict: string
    counts: Record<string, number>
    failing: string[]
    /** `bundle`: the signed vulns.json; `bundle+rescan`: the signed findings plus the rescan's */
    vulnsFrom: 'bundle' | 'bundle+rescan'
  } | null
  rescan: Omit<RescanResult, 'vulns'> | null
}

export interface VerifyEvidenceResult {
  report: EvidenceReport
  exitCode: ExitCode
}

export async function verifyEvidence(o: VerifyEvidenceOptions): Promise<VerifyEvidenceResult> {
  const limits = o.limits ?? DEFAULT_LIMITS
  const display = (file: string) => toPosixRelative(o.cwd, path.resolve(o.cwd, file))
  if ((o.offlineDb !== undefined || o.osvUrl !== undefined) && !o.rescan)
    throw new InputError('VERIFY_USAGE', '--offline-db and --osv-url are for --rescan')
  if (o.offlineDb !== undefined && o.osvUrl !== undefined)
    throw new InputError('VERIFY_USAGE', '--offline-db and --osv-url cannot be used together')
  // usage and inputs first: a wrong flag is exit 2 before any check runs
  const trust = await loadTrust(o, o.cwd, o.tufCachePath)
  const digest = await artifactDigest(o.cwd, o.artifact)
  const shownDigest = `${digest.algorithm}:${digest.hex}`
  const bytes = await readArchiveFile(o.cwd, o.evidence, limits)

  const report: EvidenceReport = {
    verified: false,
    evidence: display(o.evidence),
    artifact: parseDigestArtifact(o.artifact) ? shownDigest : display(o.artifact),
    artifactDigest: shownDigest,
    failure: null,
    failures: [],
    checks: {
      archive: 'skipped',
      signature: 'skipped',
      files: 'skipped',
      artifact: 'skipped',
      consistency: 'skipped',
      policy: 'skipped',
      rescan: 'skipped',
    },
    manifest: null,
    signer: null,
    tlogEntries: 0,
    trustedRoot: trust.trustedRootName,
    artifactMatch: null,
    policy: null,
    rescan: null,
  }
  const finish = (incomplete = false): VerifyEvidenceResult => {
    report.failures.sort(
      (a, b) => compareCodePoint(a.file ?? '', b.file ?? '') || compareCodePoint(a.code, b.code),
    )
    report.failure = report.failures[0] ?? null
    report.verified = report.failures.length === 0 && !incomplete
    return {
      report,
      exitCode:
        report.failures.length > 0 ? ExitCode.checkFailed : incomplete ? ExitCode.incomplete : ExitCode.ok,
    }
  }

  let members: Map<string, Buffer>
  try {
    members = await readEvidenceArchive(bytes, limits, report.evidence)
  } catch (e) {
    if (!(e instanceof CheckFailedError)) throw e
    const entry = e.details?.entry
    report.checks.archive = 'fail'
    report.failures.push({
      code: e.code as EvidenceFailureCode,
      message: e.message,
      ...(typeof entry === 'string' ? { file: entry } : {}),
    })
    return finish()
  }
  report.checks.archive = 'pass'

  // the manifest and its signature
  const manifestBytes = members.get(MANIFEST_FILE)
  if (manifestBytes === undefined) {
    report.failures.push({
      code: 'EVIDENCE_MANIFEST_MISSING',
      message: 'the archive holds no manifest.json',
      file: MANIFEST_FILE,
    })
    report.checks.signature = 'fail'
    report.checks.files = 'fail'
    return finish()
  }
  const signature = checkSignature(manifestBytes, members.get(MANIFEST_BUNDLE), trust)
  report.signer = signature.signer
  report.tlogEntries = signature.tlogEntries
  report.checks.signature = signature.failure ? 'fail' : 'pass'
  if (signature.failure) report.failures.push(signature.failure)

  const parsed = parseManifest(manifestBytes)
  if (isFailure(parsed)) {
    report.failures.push(parsed)
    report.checks.files = 'fail'
    return finish()
  }
  const manifest: EvidenceManifest = parsed
  report.manifest = {
    detbuildVersion: manifest.detbuild.version,
    sourceDateEpoch: manifest.sourceDateEpoch,
    files: manifest.files.length,
  }
  const contents = checkContents(manifest, members)
  report.failures.push(...contents)
  report.checks.files = contents.length > 0 ? 'fail' : 'pass'

  const artifact = checkArtifact(digest, members)
  report.artifactMatch = artifact.match
  report.failures.push(...artifact.failures)
  report.checks.artifact = artifact.failures.length > 0 ? 'fail' : 'pass'

  // every claim one signed file makes about another must hold, as `detbuild bundle` checked it; when
  // the files do not match the manifest they are untrusted already (and their links would only echo that)
  const consistency = contents.length > 0 ? null : await checkConsistency(manifest, members)
  report.failures.push(...(consistency ?? []))
  report.checks.consistency = consistency === null ? 'skipped' : consistency.length > 0 ? 'fail' : 'pass'
  // the signed findings a rescan adds to: only a vulns.json that passed its schema is read
  const signedVulns = members.get(WorkspaceFiles.vulns)
  const vulnsReadable =
    consistency !== null &&
    !consistency.some((f) => f.code === 'EVIDENCE_FILE_INVALID' && f.file === WorkspaceFiles.vulns)

  let incomplete = false
  let freshVulns: Buffer | undefined
  if (o.rescan) {
    const sbom = members.get(WorkspaceFiles.sbomJson)
    if (!sbom) {
      report.failures.push(sbomMissing('--rescan'))
      report.checks.rescan = 'fail'
    } else {
      try {
        const result = await rescan({
          sbom,
          bundledVulns:
            signedVulns && vulnsReadable
              ? {
                  report: parseJsonText(signedVulns.toString('utf8')) as VulnsReport,
                  sha256: sha256Hex(signedVulns),
                }
              : undefined,
          ...(o.offlineDb !== undefined ? { offlineDb: path.resolve(o.cwd, o.offlineDb) } : {}),
          ...(o.osvUrl !== undefined ? { osvUrl: o.osvUrl } : {}),
          env: o.env,
          now: o.now,
          log: o.log,
          ...(o.client ? { client: o.client } : {}),
        })
        const { vulns, ...rest } = result
        report.rescan = rest
        if (result.complete) {
          report.checks.rescan = 'pass'
          freshVulns = vulns
        } else {
          report.checks.rescan = 'incomplete'
          incomplete = true
        }
      } catch (e) {
        if (!(e instanceof IncompleteError)) throw e
        o.log.warn(e.message)
        report.checks.rescan = 'incomplete'
        incomplete = true
      }
    }
  }

  if (o.policy !== undefined) {
    const { policy, source } = await readPolicy(o.cwd, o.policy)
    const inputs = toPolicyInputs(
      members,
      manifest,
      freshVulns ? { name: 'vulns.json (signed + rescan)', data: freshVulns } : undefined,
    )
    if (!inputs) {
      report.failures.push(sbomMissing('--policy'))
      report.checks.policy = 'fail'
    } else {
      // the signing rules verify the bundled signatures with this command's trust material
      const given = parseDigestArtifact(o.artifact) ? [] : [await readArtifact(o.cwd, o.artifact)]
      const trusted = signatureTrust(trust.request, (name) => members.get(name), given)
      const result = evaluatePolicy(policy, inputs, { now: o.now, source, trust: trusted })
      const failing = result.rules.filter((r) => r.status === 'fail').map((r) => r.id)
      report.policy = {
        name: result.policy.name,
        source: result.policy.source,
        verdict: result.verdict,
        counts: result.counts,
        failing,
        vulnsFrom: freshVulns ? 'bundle+rescan' : 'bundle',
      }
      report.checks.policy = result.verdict === 'fail' ? 'fail' : 'pass'
      if (result.verdict === 'fail')
        report.failures.push({
          code: 'EVIDENCE_POLICY_FAILED',
          message: `policy ${result.policy.name} fails: ${failing.join(', ')}`,
        })
    }
  }
  return finish(incomplete)
}

const LINK_CODES: Record<LinkProblemKind, EvidenceFailureCode> = {
  subjects: 'EVIDENCE_SUBJECTS_MISMATCH',
  stale: 'EVIDENCE_STALE_INPUT',
  missing: 'EVIDENCE_INPUT_MISSING',
}

/** Every file's shape, the manifest's claims and the input-digest links between the files. */
async function checkConsistency(
  manifest: EvidenceManifest,
  members: ReadonlyMap<string, Buffer>,
): Promise<EvidenceFailure[]> {
  const files = new Map([...members].filter(([n]) => n !== MANIFEST_FILE && n !== MANIFEST_BUNDLE))
  // SBOMs: bomFormat and specVersion only; the full CycloneDX schema was checked when bundling
  const { problems } = await validateFiles(files, { sboms: false })
  return [
    ...problems.map((p) => ({ code: 'EVIDENCE_FILE_INVALID' as const, message: p.message, file: p.file })),
    ...checkManifestClaims(manifest, members),
    ...checkLinks(files, manifest.artifacts).map((p) => ({
      code: LINK_CODES[p.kind],
      message: p.message,
      file: p.file,
      ...(p.expected !== undefined ? { expected: p.expected } : {}),
      ...(p.found !== undefined ? { found: p.found } : {}),
    })),
  ]
}

function sbomMissing(flag: string): EvidenceFailure {
  return {
    code: 'EVIDENCE_SBOM_MISSING',
    message: `${flag} needs the SBOM, but the archive holds no sbom.cdx.json`,
    file: WorkspaceFiles.sbomJson,
  }
}

async function artifactDigest(cwd: string, spec: string): Promise<ArtifactDigest> {
  const given = parseDigestArtifact(spec)
  if (given) return given
  return { kind: 'digest', algorithm: 'sha256', hex: digestBytes(await readArtifact(cwd, spec)).sha256 }
}

/** Reads the archive file; too large is a failed check, unreadable is bad input. */
export async function readArchiveFile(cwd: string, spec: string, limits: ArchiveLimits): Promise<Buffer> {
  const file = path.resolve(cwd, spec)
  const shown = toPosixRelative(cwd, file)
  try {
    const info = await stat(file)
    if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' })
    if (info.size > limits.maxArchiveBytes)
      throw new CheckFailedError(
        'EVIDENCE_ARCHIVE_TOO_LARGE',
        `${info.size} bytes, over the ${limits.maxArchiveBytes}-byte limit`,
        { file: shown },
      )
    return await readFile(file)
  } catch (e) {
    if (isDetbuildError(e)) throw e
    const code = (e as NodeJS.ErrnoException).code
    throw new InputError(
      'EVIDENCE_ARCHIVE_UNREADABLE',
      code === 'ENOENT'
        ? 'evidence archive not found'
        : code === 'EISDIR'
          ? 'is a directory, expected a .tar.gz file'
          : `cannot read (${code})`,
      { file: shown, cause: e },
    )
  }
}
