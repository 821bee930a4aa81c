/**
 * `detbuild verify ARTIFACT --evidence FILE`: reads the archive safely into memory, then checks the
 * manifest signature, every file against the manifest, the artifact against the provenance and
 * build.json, and optionally a policy and a fresh OSV scan. Edge: reads the archive, artifact, key,
 * trusted root and policy; the checks themselves are in check.ts and manifest.ts. Every problem is
 * collected into one report; only bad usage or unreadable input throws.
 */
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { resolveSourceDate } from '../config/index.ts'
import { CheckFailedError, ExitCode, IncompleteError, InputError, isDetbuildError } from '../errors.ts'
import {
  evaluatePolicy,
  type Policy,
  type PolicySource,
  readPolicy,
  signatureTrust,
} from '../policy/index.ts'
import type { ScanOptions, VulnsReport } from '../scan/index.ts'
import { sha256Hex } from '../util/digest.ts'
import { toPosixRelative } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'
import type { Logger } from '../util/log.ts'
import { compareCodePoint } from '../util/sort.ts'
import {
  digestArtifact,
  loadTrust,
  parseDigestArtifact,
  readArtifact,
  type Trust,
  type TrustInput,
} from '../verify/index.ts'
import { WorkspaceFiles } from '../workspace/index.ts'
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
import { toVsaFacts, type VsaFacts } from './vsa.ts'

/**
 * Options of {@link verifyEvidence} (`detbuild verify --evidence`): the archive, the artifact, who must have
 * signed. The trust flags may hold the key and the trusted root in memory (TrustInput) instead of naming files.
 */
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
  /**
   * --rescan: the scan time of the fresh vulns.json (seconds), the context's source date; without it,
   * resolved from `cwd` and `env` (config/context.ts)
   */
  sourceDateEpoch?: number
  now: Date
  log: Logger
  limits?: ArchiveLimits
  tufCachePath?: string
  /** OSV client knobs for --rescan (tests) */
  client?: ScanOptions['client']
}

/** What {@link verifyEvidence} checked and found, member by member (printed by `--json`). */
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
    /** the policy file's SHA-256 (the digest a verification summary names) */
    sha256: string
    verdict: string
    counts: Record<string, number>
    failing: string[]
    /** `bundle`: the signed vulns.json; `bundle+rescan`: the signed findings plus the rescan's */
    vulnsFrom: 'bundle' | 'bundle+rescan'
  } | null
  rescan: Omit<RescanResult, 'vulns'> | null
}

/** {@link verifyEvidence}'s report and the exit code the CLI would give it. */
export interface VerifyEvidenceResult {
  report: EvidenceReport
  exitCode: ExitCode
  /**
   * What a verification summary (vsa.ts) is made of: digests detbuild computed itself of the artifact,
   * the archive, its members and the policy. Computed when first asked for (hashing the archive again
   * costs time only a summary needs); not part of the printed report.
   */
  facts: () => VsaFacts
}

/**
 * Checks an evidence archive against an artifact (`detbuild verify --evidence`): the signed manifest, every
 * member's digest and, with `rescan`, today's advisories. A failed check is in the result (`exitCode`),
 * bad input is thrown. Load → check → report: every check adds to one report.
 */
export async function verifyEvidence(o: VerifyEvidenceOptions): Promise<VerifyEvidenceResult> {
  const loaded = await loadEvidenceInputs(o)
  let report = newReport(o, loaded)
  const done = (r: EvidenceReport, members?: ReadonlyMap<string, Buffer>, incomplete = false) => {
    let facts: VsaFacts | undefined
    return {
      ...finish(r, incomplete),
      facts: () =>
        (facts ??= toVsaFacts({
          artifact: r.artifact,
          artifactDigests: loaded.artifactDigests,
          provenanceSubject: r.artifactMatch?.provenanceSubject ?? null,
          evidence: r.evidence,
          archive: loaded.bytes,
          members,
          policy: loaded.policy?.source,
        })),
    }
  }
  const archive = await checkArchive(loaded.bytes, loaded.limits, report.evidence)
  report = merge(report, archive.part)
  if (!archive.members) return done(report)
  const signed = await checkSigned(archive.members, loaded.trust, loaded.digest)
  report = merge(report, signed.part)
  if (!signed.manifest) return done(report, archive.members)
  const fresh = o.rescan ? await rescanEvidence(o, archive.members, signed.vulnsReadable) : undefined
  if (fresh) report = merge(report, fresh.part)
  if (loaded.policy)
    report = merge(
      report,
      await reevaluatePolicy(o, loaded.policy, archive.members, signed.manifest, loaded.trust, fresh?.vulns),
    )
  return done(report, archive.members, fresh?.incomplete === true)
}

/** What verification reads before any check: the trust material, the artifact's digest, the archive. */
interface EvidenceInputs {
  limits: ArchiveLimits
  trust: Trust
  digest: ArtifactDigest
  /** every digest of the artifact detbuild knows (hex by algorithm): both of a file, the one given */
  artifactDigests: Record<string, string>
  bytes: Buffer
  /** --policy, read (and schema-checked) before any check: a bad policy is exit 2 */
  policy?: { policy: Policy; source: PolicySource }
}

/** Load: usage and inputs first, so that a wrong flag is exit 2 before any check runs. */
async function loadEvidenceInputs(o: VerifyEvidenceOptions): Promise<EvidenceInputs> {
  const limits = o.limits ?? DEFAULT_LIMITS
  if ((o.offlineDb !== undefined || o.osvUrl !== undefined) && !o.rescan)
    throw new InputError('VERIFY_USAGE', '--offline-db and --osv-url are for --rescan')
  if (o.offlineDb !== undefined && o.osvUrl !== undefined)
    throw new InputError('VERIFY_USAGE', '--offline-db and --osv-url cannot be used together')
  if (o.offline === true && o.rescan && o.offlineDb === undefined)
    throw new InputError(
      'VERIFY_OFFLINE_NETWORK_NEEDED',
      '--offline: --rescan asks the OSV API; pass --offline-db FILE|DIR (an OSV export) to rescan offline',
    )
  const trust = await loadTrust(o, o.cwd, o.tufCachePath)
  const policy = o.policy !== undefined ? await readPolicy(o.cwd, o.policy) : undefined
  const { digest, all } = await artifactDigest(o.cwd, o.artifact)
  const bytes = await readArchiveFile(o.cwd, o.evidence, limits)
  return { limits, trust, digest, artifactDigests: all, bytes, ...(policy ? { policy } : {}) }
}

/** Pure: the report before any check (every check skipped). */
function newReport(o: VerifyEvidenceOptions, { trust, digest }: EvidenceInputs): EvidenceReport {
  const display = (file: string) => toPosixRelative(o.cwd, path.resolve(o.cwd, file))
  const shownDigest = `${digest.algorithm}:${digest.hex}`
  return {
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
}

/** What one check adds to the report: its statuses, its failures, and the facts it found. */
type ReportPart = Partial<Omit<EvidenceReport, 'checks' | 'failures'>> & {
  checks?: Partial<EvidenceReport['checks']>
  failures?: EvidenceFailure[]
}

/** Pure. */
function merge(report: EvidenceReport, { checks, failures, ...facts }: ReportPart): EvidenceReport {
  return {
    ...report,
    ...facts,
    checks: { ...report.checks, ...checks },
    failures: [...report.failures, ...(failures ?? [])],
  }
}

/** Pure: the verdict; any failure is exit 1, else a check that could not look is exit 3. */
function finish(report: EvidenceReport, incomplete = false): Omit<VerifyEvidenceResult, 'facts'> {
  const failures = [...report.failures].sort(
    (a, b) => compareCodePoint(a.file ?? '', b.file ?? '') || compareCodePoint(a.code, b.code),
  )
  return {
    report: {
      ...report,
      failures,
      failure: failures[0] ?? null,
      verified: failures.length === 0 && !incomplete,
    },
    exitCode: failures.length > 0 ? ExitCode.checkFailed : incomplete ? ExitCode.incomplete : ExitCode.ok,
  }
}

/** In memory: the archive's members, or why it cannot be read safely (a failed check). */
async function checkArchive(
  bytes: Buffer,
  limits: ArchiveLimits,
  shown: string,
): Promise<{ part: ReportPart; members?: Map<string, Buffer> }> {
  try {
    const members = await readEvidenceArchive(bytes, limits, shown)
    return { part: { checks: { archive: 'pass' } }, members }
  } catch (e) {
    if (!(e instanceof CheckFailedError)) throw e
    const entry = e.details?.entry
    const failure: EvidenceFailure = {
      code: e.code as EvidenceFailureCode,
      message: e.message,
      ...(typeof entry === 'string' ? { file: entry } : {}),
    }
    return { part: { checks: { archive: 'fail' }, failures: [failure] } }
  }
}

/**
 * The manifest and its signature, every file against the manifest, the artifact against the
 * provenance and build.json, and the claims the files make about each other. In memory.
 */
async function checkSigned(
  members: ReadonlyMap<string, Buffer>,
  trust: Trust,
  digest: ArtifactDigest,
): Promise<{ part: ReportPart; manifest?: EvidenceManifest; vulnsReadable: boolean }> {
  const manifestBytes = members.get(MANIFEST_FILE)
  if (manifestBytes === undefined) {
    const failure: EvidenceFailure = {
      code: 'EVIDENCE_MANIFEST_MISSING',
      message: 'the archive holds no manifest.json',
      file: MANIFEST_FILE,
    }
    return {
      part: { checks: { signature: 'fail', files: 'fail' }, failures: [failure] },
      vulnsReadable: false,
    }
  }
  const signature = checkSignature(manifestBytes, members.get(MANIFEST_BUNDLE), trust)
  const signed: ReportPart = {
    signer: signature.signer,
    tlogEntries: signature.tlogEntries,
    checks: { signature: signature.failure ? 'fail' : 'pass' },
    failures: signature.failure ? [signature.failure] : [],
  }
  const parsed = parseManifest(manifestBytes)
  if (isFailure(parsed))
    return {
      part: {
        ...signed,
        checks: { ...signed.checks, files: 'fail' },
        failures: [...signed.failures!, parsed],
      },
      vulnsReadable: false,
    }
  const manifest: EvidenceManifest = parsed
  const contents = checkContents(manifest, members)
  const artifact = checkArtifact(digest, members)
  // every claim one signed file makes about another must hold, as `detbuild bundle` checked it; when
  // the files do not match the manifest they are untrusted already (and their links would only echo that)
  const consistency = contents.length > 0 ? null : await checkConsistency(manifest, members)
  return {
    manifest,
    part: {
      ...signed,
      manifest: {
        detbuildVersion: manifest.detbuild.version,
        sourceDateEpoch: manifest.sourceDateEpoch,
        files: manifest.files.length,
      },
      artifactMatch: artifact.match,
      checks: {
        ...signed.checks,
        files: contents.length > 0 ? 'fail' : 'pass',
        artifact: artifact.failures.length > 0 ? 'fail' : 'pass',
        consistency: consistency === null ? 'skipped' : consistency.length > 0 ? 'fail' : 'pass',
      },
      failures: [...signed.failures!, ...contents, ...artifact.failures, ...(consistency ?? [])],
    },
    // the signed findings a rescan adds to: only a vulns.json that passed its schema is read
    vulnsReadable:
      consistency !== null &&
      !consistency.some((f) => f.code === 'EVIDENCE_FILE_INVALID' && f.file === WorkspaceFiles.vulns),
  }
}

/** Edge (network, or an OSV export): the bundled SBOM scanned now, added to the signed findings. */
async function rescanEvidence(
  o: VerifyEvidenceOptions,
  members: ReadonlyMap<string, Buffer>,
  vulnsReadable: boolean,
): Promise<{ part: ReportPart; vulns?: Buffer; incomplete: boolean }> {
  const sbom = members.get(WorkspaceFiles.sbomJson)
  if (!sbom)
    return { part: { checks: { rescan: 'fail' }, failures: [sbomMissing('--rescan')] }, incomplete: false }
  const signedVulns = members.get(WorkspaceFiles.vulns)
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
      sourceDateEpoch: o.sourceDateEpoch ?? (await resolveSourceDate(o.cwd, o.env)).epoch,
      now: o.now,
      log: o.log,
      ...(o.client ? { client: o.client } : {}),
    })
    const { vulns, ...rest } = result
    return result.complete
      ? { part: { rescan: rest, checks: { rescan: 'pass' } }, vulns, incomplete: false }
      : { part: { rescan: rest, checks: { rescan: 'incomplete' } }, incomplete: true }
  } catch (e) {
    if (!(e instanceof IncompleteError)) throw e
    o.log.warn(e.message)
    return { part: { checks: { rescan: 'incomplete' } }, incomplete: true }
  }
}

/** Reads the policy (and the artifact, for its signature), then evaluates it on the signed data. */
async function reevaluatePolicy(
  o: VerifyEvidenceOptions,
  { policy, source }: { policy: Policy; source: PolicySource },
  members: ReadonlyMap<string, Buffer>,
  manifest: EvidenceManifest,
  trust: Trust,
  freshVulns: Buffer | undefined,
): Promise<ReportPart> {
  const inputs = toPolicyInputs(
    members,
    manifest,
    freshVulns ? { name: 'vulns.json (signed + rescan)', data: freshVulns } : undefined,
  )
  if (!inputs) return { checks: { policy: 'fail' }, failures: [sbomMissing('--policy')] }
  // the signing rules verify the bundled signatures with this command's trust material
  const given = parseDigestArtifact(o.artifact) ? [] : [await readArtifact(o.cwd, o.artifact)]
  const trusted = signatureTrust(trust.request, (file) => members.get(file), given)
  const result = evaluatePolicy(policy, inputs, { now: o.now, source, trust: trusted })
  const failing = result.rules.filter((r) => r.status === 'fail').map((r) => r.id)
  return {
    policy: {
      name: result.policy.name,
      source: result.policy.source,
      sha256: source.sha256,
      verdict: result.verdict,
      counts: result.counts,
      failing,
      vulnsFrom: freshVulns ? 'bundle+rescan' : 'bundle',
    },
    checks: { policy: result.verdict === 'fail' ? 'fail' : 'pass' },
    failures:
      result.verdict === 'fail'
        ? [
            {
              code: 'EVIDENCE_POLICY_FAILED',
              message: `policy ${result.policy.name} fails: ${failing.join(', ')}`,
            },
          ]
        : [],
  }
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

async function artifactDigest(
  cwd: string,
  spec: string,
): Promise<{ digest: ArtifactDigest; all: Record<string, string> }> {
  const given = parseDigestArtifact(spec)
  if (given) return { digest: given, all: { [given.algorithm]: given.hex } }
  const { sha256, sha512 } = await digestArtifact(cwd, spec)
  return { digest: { kind: 'digest', algorithm: 'sha256', hex: sha256 }, all: { sha256, sha512 } }
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
