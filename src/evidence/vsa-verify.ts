/**
 * `detbuild verify ARTIFACT --vsa FILE`: checks a signed verification summary (vsa.ts) the way a deploy
 * stage should before trusting it, following the VSA spec's consumer duties: the bundle's signature and
 * signer (verify-bundle.ts, with the same trust flags as `verify --bundle`), the artifact's digest among
 * the statement's subjects, the statement type and predicate type, the verifier id (a consumer accepts
 * only known signer/verifier pairs), PASSED with no FAILED level, and, when asked, the policy's digest,
 * the resource URI and a minimum SLSA build level. Only the signed DSSE payload is read, never the
 * statement file beside the bundle. Any doubt is a failure with a VSA_* reason code (exit 1).
 */
import path from 'node:path'
import { ExitCode, InputError } from '../errors.ts'
import { readPolicy } from '../policy/index.ts'
import { readJsonFile, toPosixRelative } from '../util/fs.ts'
import { parseJsonText } from '../util/json-parse.ts'
import {
  digestArtifact,
  loadTrust,
  parseDigestArtifact,
  type SignerReport,
  type TrustInput,
  verifyBundle,
} from '../verify/index.ts'
import { STATEMENT_V1, VSA_PREDICATE_TYPE, VSA_VERIFIER_ID } from './vsa.ts'

/** Reason codes of a summary that is refused (exit 1). */
export type VsaFailureCode =
  | 'VSA_BUNDLE_INVALID'
  | 'VSA_SIGNATURE_INVALID'
  | 'VSA_SIGNER_MISMATCH'
  | 'VSA_SUBJECT_MISMATCH'
  | 'VSA_STATEMENT_INVALID'
  | 'VSA_PREDICATE_TYPE_MISMATCH'
  | 'VSA_PREDICATE_INVALID'
  | 'VSA_VERIFIER_MISMATCH'
  | 'VSA_RESULT_FAILED'
  | 'VSA_POLICY_MISMATCH'
  | 'VSA_RESOURCE_MISMATCH'
  | 'VSA_LEVEL_MISSING'

/** Options of {@link verifyVerificationSummary}: the summary's bundle, the artifact, who must have signed. */
export interface VerifyVsaOptions extends TrustInput {
  cwd: string
  /** the summary's sigstore bundle (`vsa.sigstore.json`) */
  vsa: string
  /** a file path, or `sha256:<hex>` / `sha512:<hex>` */
  artifact: string
  /** the verifier the summary must name (default detbuild's `verify --evidence`) */
  verifierId?: string
  /** a shipped policy name or a policy file: the summary's policy digest must be this file's */
  policy?: string
  /** the resource URI the summary must name */
  resourceUri?: string
  /** a level the summary must reach, e.g. SLSA_BUILD_LEVEL_1 */
  level?: string
  tufCachePath?: string
}

/** What {@link verifyVerificationSummary} found. */
export interface VsaReport {
  verified: boolean
  vsa: string
  artifact: string
  failure: { code: VsaFailureCode; message: string; cause?: string } | null
  signer: SignerReport | null
  trustedRoot: string
  /** the signed predicate's main fields (null until the signature verified) */
  summary: {
    verifier: string
    timeVerified: string
    resourceUri: string
    policy: { uri: string; sha256: string | null }
    verificationResult: string
    verifiedLevels: string[]
  } | null
}

class Refused extends Error {
  readonly code: VsaFailureCode
  readonly underlying?: string
  constructor(code: VsaFailureCode, message: string, cause?: string) {
    super(message)
    this.code = code
    if (cause !== undefined) this.underlying = cause
  }
}

const LEVEL = /^SLSA_BUILD_LEVEL_([0-9])$/

/** Edge: reads the bundle, the artifact, the trust material and the expected policy, then checks. */
export async function verifyVerificationSummary(
  o: VerifyVsaOptions,
): Promise<{ report: VsaReport; exitCode: ExitCode }> {
  const display = (file: string): string => toPosixRelative(o.cwd, path.resolve(o.cwd, file))
  if (o.level !== undefined && !LEVEL.test(o.level))
    throw new InputError(
      'VSA_USAGE',
      `--vsa-level must be SLSA_BUILD_LEVEL_0 … SLSA_BUILD_LEVEL_3, not ${o.level}`,
    )
  const given = parseDigestArtifact(o.artifact)
  const artifact = given ?? {
    kind: 'digest' as const,
    algorithm: 'sha256' as const,
    hex: (await digestArtifact(o.cwd, o.artifact)).sha256,
  }
  const bundle = await readJsonFile(path.resolve(o.cwd, o.vsa), 'VSA_NOT_JSON', display(o.vsa))
  if (bundle !== null && typeof bundle === 'object' && '_type' in bundle)
    throw new InputError(
      'VSA_USAGE',
      'this is the summary statement; pass its signed bundle (the .sigstore.json written beside it)',
      { file: display(o.vsa) },
    )
  const expectedPolicy =
    o.policy !== undefined ? (await readPolicy(o.cwd, o.policy)).source.sha256 : undefined
  const trust = await loadTrust(o, o.cwd, o.tufCachePath)
  const report: VsaReport = {
    verified: false,
    vsa: display(o.vsa),
    artifact: given ? `${given.algorithm}:${given.hex}` : display(o.artifact),
    failure: null,
    signer: null,
    trustedRoot: trust.trustedRootName,
    summary: null,
  }
  try {
    const signed = verifyBundle({ bundle, artifact, ...trust.request })
    report.signer = signed.signer
    if (!signed.verified) {
      const f = signed.failure!
      throw new Refused(SIGNATURE_CODES[f.code] ?? 'VSA_SIGNATURE_INVALID', f.message, f.code)
    }
    if (signed.kind !== 'dsse' || signed.payloadType !== 'application/vnd.in-toto+json')
      throw new Refused(
        'VSA_BUNDLE_INVALID',
        'the bundle does not sign an in-toto statement (a DSSE envelope)',
      )
    report.summary = checkStatement(signedPayload(bundle), {
      verifierId: o.verifierId ?? VSA_VERIFIER_ID,
      ...(expectedPolicy !== undefined ? { policySha256: expectedPolicy } : {}),
      ...(o.resourceUri !== undefined ? { resourceUri: o.resourceUri } : {}),
      ...(o.level !== undefined ? { level: o.level } : {}),
    })
    report.verified = true
    return { report, exitCode: ExitCode.ok }
  } catch (e) {
    if (!(e instanceof Refused)) throw e
    report.failure = {
      code: e.code,
      message: e.message,
      ...(e.underlying !== undefined ? { cause: e.underlying } : {}),
    }
    return { report, exitCode: ExitCode.checkFailed }
  }
}

const SIGNATURE_CODES: Record<string, VsaFailureCode> = {
  VERIFY_BUNDLE_INVALID: 'VSA_BUNDLE_INVALID',
  VERIFY_UNSUPPORTED: 'VSA_BUNDLE_INVALID',
  VERIFY_DIGEST_MISMATCH: 'VSA_SUBJECT_MISMATCH',
  VERIFY_IDENTITY_MISMATCH: 'VSA_SIGNER_MISMATCH',
  VERIFY_KEY_MISMATCH: 'VSA_SIGNER_MISMATCH',
}

/** The DSSE payload the signature covers (verifyBundle has verified it). */
function signedPayload(bundle: unknown): unknown {
  const payload = (bundle as { dsseEnvelope?: { payload?: unknown } }).dsseEnvelope?.payload
  if (typeof payload !== 'string') throw new Refused('VSA_BUNDLE_INVALID', 'the bundle has no DSSE payload')
  try {
    return parseJsonText(Buffer.from(payload, 'base64').toString('utf8'))
  } catch (e) {
    throw new Refused('VSA_STATEMENT_INVALID', `the signed payload is not JSON: ${(e as Error).message}`)
  }
}

interface Expected {
  verifierId: string
  policySha256?: string
  resourceUri?: string
  level?: string
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

/** Pure: the signed statement against what the caller expects. */
function checkStatement(statement: unknown, expected: Expected): NonNullable<VsaReport['summary']> {
  if (!isObject(statement) || statement._type !== STATEMENT_V1)
    throw new Refused(
      'VSA_STATEMENT_INVALID',
      `the signed payload is not an in-toto Statement v1 (${STATEMENT_V1})`,
    )
  if (statement.predicateType !== VSA_PREDICATE_TYPE)
    throw new Refused(
      'VSA_PREDICATE_TYPE_MISMATCH',
      `predicateType is ${JSON.stringify(statement.predicateType)}, not ${VSA_PREDICATE_TYPE}`,
    )
  const p = statement.predicate
  const bad = (field: string) =>
    new Refused('VSA_PREDICATE_INVALID', `predicate.${field} is missing or malformed`)
  if (!isObject(p)) throw bad('(the predicate itself)')
  if (!isObject(p.verifier) || typeof p.verifier.id !== 'string') throw bad('verifier.id')
  if (
    typeof p.timeVerified !== 'string' ||
    !RFC3339.test(p.timeVerified) ||
    Number.isNaN(Date.parse(p.timeVerified))
  )
    throw bad('timeVerified')
  if (typeof p.resourceUri !== 'string' || p.resourceUri === '') throw bad('resourceUri')
  if (!isObject(p.policy) || typeof p.policy.uri !== 'string') throw bad('policy.uri')
  if (p.policy.digest !== undefined && !isObject(p.policy.digest)) throw bad('policy.digest')
  if (typeof p.verificationResult !== 'string') throw bad('verificationResult')
  if (!Array.isArray(p.verifiedLevels) || !p.verifiedLevels.every((l) => typeof l === 'string'))
    throw bad('verifiedLevels')
  const levels = p.verifiedLevels as string[]
  const digest = p.policy.digest as Record<string, unknown> | undefined
  const policySha256 = typeof digest?.sha256 === 'string' ? digest.sha256 : null
  const summary = {
    verifier: p.verifier.id,
    timeVerified: p.timeVerified,
    resourceUri: p.resourceUri,
    policy: { uri: p.policy.uri, sha256: policySha256 },
    verificationResult: p.verificationResult,
    verifiedLevels: levels,
  }
  if (p.verifier.id !== expected.verifierId)
    throw new Refused(
      'VSA_VERIFIER_MISMATCH',
      `the summary was made by verifier ${p.verifier.id}, not ${expected.verifierId}`,
    )
  if (p.verificationResult !== 'PASSED' || levels.includes('FAILED'))
    throw new Refused(
      'VSA_RESULT_FAILED',
      `the summary's verificationResult is ${p.verificationResult} (levels ${levels.join(', ') || 'none'})`,
    )
  if (expected.policySha256 !== undefined && policySha256?.toLowerCase() !== expected.policySha256)
    throw new Refused(
      'VSA_POLICY_MISMATCH',
      `the summary's policy digest is ${policySha256 === null ? 'missing' : `sha256:${policySha256}`}, not sha256:${expected.policySha256} (--policy)`,
    )
  if (expected.resourceUri !== undefined && p.resourceUri !== expected.resourceUri)
    throw new Refused(
      'VSA_RESOURCE_MISMATCH',
      `the summary is about ${p.resourceUri}, not ${expected.resourceUri}`,
    )
  if (expected.level !== undefined) {
    const want = Number(LEVEL.exec(expected.level)![1])
    const best = Math.max(-1, ...levels.map((l) => Number(LEVEL.exec(l)?.[1] ?? -1)))
    if (best < want)
      throw new Refused(
        'VSA_LEVEL_MISSING',
        `the summary verified ${levels.join(', ') || 'no level'}, below ${expected.level}`,
      )
  }
  return summary
}
