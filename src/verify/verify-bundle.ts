/**
 * The pure core of `detbuild verify`: a parsed bundle, the artifact (bytes or a digest), trust
 * material and a policy in; a report out. No files, no network, no clock: @sigstore/verify checks
 * signatures, certificate chains, SCTs, transparency-log proofs and timestamps against the injected
 * trusted root; this module adds what the library leaves to the caller:
 * - the artifact digest must equal the message digest, or one in-toto subject digest for DSSE;
 * - identities match exactly (the library treats a string as a regular expression) or by an anchored
 *   regular expression, and so does the issuer (exactly, or by an anchored regular expression);
 * - a `sha256:<hex>` artifact for message signatures (ECDSA over the digest, see ecdsa-prehashed.ts)
 *   and Ed25519 message signatures (the library hashes before verifying, which Ed25519 refuses).
 */

import { createHash, createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { type Bundle, bundleFromJSON } from '@sigstore/bundle'
import { X509Certificate } from '@sigstore/core'
import { HashAlgorithm, type TrustedRoot } from '@sigstore/protobuf-specs'
import {
  PolicyError,
  type SignedEntity,
  type Signer,
  toSignedEntity,
  toTrustMaterial,
  VerificationError,
  Verifier,
} from '@sigstore/verify'
import type { ErrorCode } from '../errors.ts'
import { parseJsonText } from '../util/json-parse.ts'
import { keyIdOf } from '../util/key-id.ts'
import { bundleShapeProblem } from './bundle-shape.ts'
import { canVerifyPrehashed, verifyPrehashedEcdsa } from './ecdsa-prehashed.ts'
import { toAnchoredRegExp } from './identity-regexp.ts'

type SignatureContent = SignedEntity['signature']

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json'

/** Digest algorithms an artifact may be given or compared in. */
export const DIGEST_ALGORITHMS = ['sha256', 'sha384', 'sha512'] as const
export type DigestAlgorithm = (typeof DIGEST_ALGORITHMS)[number]

export type ArtifactInput =
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'digest'; algorithm: DigestAlgorithm; hex: string }

export interface IdentityPolicy {
  /** exact subject alternative name (URI or e-mail) */
  identity?: string
  /** regular expression for the subject alternative name, matched anchored (whole string) */
  identityRegexp?: string
  /** exact OIDC issuer */
  issuer?: string
  /** regular expression for the OIDC issuer, matched anchored (whole string); instead of `issuer` */
  issuerRegexp?: string
}

export interface VerifyRequest {
  /** the bundle file, parsed as JSON */
  bundle: unknown
  artifact: ArtifactInput
  trustedRoot: TrustedRoot
  /** keyless: who must have signed */
  identity?: IdentityPolicy
  /** key-based: the public key that must have signed */
  key?: KeyObject
  /** require a transparency-log entry (default true; only a key-based check may waive it) */
  requireTlog?: boolean
  /**
   * key-based, no log required, and no trusted root to check a log entry or timestamp against: the key
   * is the whole trust, so the bundle's log entries and timestamps are not checked (as cosign's
   * `--insecure-ignore-tlog`); the signature still is
   */
  keyOnly?: boolean
}

export const VerifyFailureCodes = [
  'VERIFY_BUNDLE_INVALID',
  'VERIFY_DIGEST_MISMATCH',
  'VERIFY_SIGNATURE_INVALID',
  'VERIFY_CHAIN_UNTRUSTED',
  'VERIFY_IDENTITY_MISMATCH',
  'VERIFY_KEY_MISMATCH',
  'VERIFY_TLOG_MISSING',
  'VERIFY_TLOG_INVALID',
  'VERIFY_TIMESTAMP_INVALID',
  'VERIFY_UNSUPPORTED',
] as const satisfies readonly ErrorCode[]
export type VerifyFailureCode = (typeof VerifyFailureCodes)[number]

export type SignerReport =
  | { type: 'keyless'; identity: string; issuer: string }
  | { type: 'key'; keyId: string }

export interface VerifyReport {
  verified: boolean
  failure: { code: VerifyFailureCode; message: string } | null
  /** message signature or DSSE envelope; null when the bundle did not parse */
  kind: 'dsse' | 'message' | null
  mediaType: string | null
  payloadType: string | null
  /** the artifact digests that were compared (hex by algorithm) */
  artifactDigest: Record<string, string>
  /** the in-toto subject that matched the artifact (DSSE only) */
  matchedSubject: { name: string; digest: Record<string, string> } | null
  signer: SignerReport | null
  tlogEntries: number
  timestamps: number
}

class VerifyFailure extends Error {
  readonly code: VerifyFailureCode
  constructor(code: VerifyFailureCode, message: string) {
    super(message)
    this.code = code
  }
}

const HASH_NAMES: Partial<Record<HashAlgorithm, DigestAlgorithm>> = {
  [HashAlgorithm.SHA2_256]: 'sha256',
  [HashAlgorithm.SHA2_384]: 'sha384',
  [HashAlgorithm.SHA2_512]: 'sha512',
}

/** Verifies one bundle against one artifact. Never throws for a failed check: see `failure`. */
export function verifyBundle(request: VerifyRequest): VerifyReport {
  const report: VerifyReport = {
    verified: false,
    failure: null,
    kind: null,
    mediaType: null,
    payloadType: null,
    artifactDigest: {},
    matchedSubject: null,
    signer: null,
    tlogEntries: 0,
    timestamps: 0,
  }
  try {
    run(request, report)
    report.verified = true
  } catch (e) {
    report.verified = false
    report.failure = toFailure(e)
  }
  return report
}

function run(request: VerifyRequest, report: VerifyReport): void {
  const bundle = parseBundle(request.bundle)
  report.mediaType = bundle.mediaType
  report.kind = bundle.content.$case === 'dsseEnvelope' ? 'dsse' : 'message'
  report.tlogEntries = bundle.verificationMaterial.tlogEntries.length
  report.timestamps = bundle.verificationMaterial.timestampVerificationData?.rfc3161Timestamps.length ?? 0

  // 1. the artifact is what was signed
  if (bundle.content.$case === 'dsseEnvelope') {
    const envelope = bundle.content.dsseEnvelope
    report.payloadType = envelope.payloadType
    report.matchedSubject = matchSubject(envelope.payloadType, envelope.payload, request.artifact, report)
  } else {
    checkMessageDigest(bundle, request.artifact, report)
  }

  // 2. the key material is the kind the policy asks for
  const keyContent = bundle.verificationMaterial.content
  if (request.key) {
    if (keyContent.$case !== 'publicKey')
      throw new VerifyFailure(
        'VERIFY_KEY_MISMATCH',
        'the bundle carries a certificate, not a public-key signature; verify it with --certificate-identity and --certificate-oidc-issuer',
      )
  } else if (keyContent.$case === 'publicKey') {
    throw new VerifyFailure(
      'VERIFY_KEY_MISMATCH',
      'the bundle is signed with a public key, not a certificate; verify it with --key',
    )
  } else if (!request.identity) {
    throw new VerifyFailure(
      'VERIFY_IDENTITY_MISMATCH',
      'no identity policy given for a certificate-signed bundle',
    )
  }

  // 3. signature, chain, SCTs, transparency log and timestamps (the library)
  let entity: SignedEntity
  try {
    entity = toSignedEntity(
      bundle,
      request.artifact.kind === 'bytes' ? Buffer.from(request.artifact.data) : Buffer.alloc(0),
    )
  } catch (e) {
    throw new VerifyFailure(
      'VERIFY_BUNDLE_INVALID',
      `cannot read the bundle's verification material: ${messageOf(e)}`,
    )
  }
  if (bundle.content.$case === 'messageSignature') {
    entity = { ...entity, signature: messageSignatureContent(entity.signature, bundle, request.artifact) }
  }
  if (request.key && request.keyOnly === true && request.requireTlog === false)
    entity = { ...entity, tlogEntries: [], timestamps: [] }
  // A chain that brings its own root tries to vouch for itself: reject a self-signed certificate in
  // the bundle unless it is byte for byte a root the trusted root already holds (old npm v0.1 bundles
  // carry the genuine Fulcio root, which is harmless). The library only reads the leaf.
  if (keyContent.$case === 'x509CertificateChain') {
    const trusted = new Set(
      request.trustedRoot.certificateAuthorities.flatMap(
        (ca) => ca.certChain?.certificates.map((c) => Buffer.from(c.rawBytes).toString('base64')) ?? [],
      ),
    )
    for (const raw of keyContent.x509CertificateChain.certificates.slice(1)) {
      const cert = parseCertificate(raw.rawBytes)
      if (
        Buffer.compare(cert.issuer, cert.subject) === 0 &&
        !trusted.has(Buffer.from(raw.rawBytes).toString('base64'))
      )
        throw new VerifyFailure(
          'VERIFY_CHAIN_UNTRUSTED',
          'the bundle certificate chain contains a root certificate that is not in the trusted root',
        )
    }
  }

  // the signature first, so that a bad signature is reported as such rather than as a log mismatch;
  // the library below checks it again, with everything else
  const signingKey = request.key ?? leafPublicKey(entity)
  if (signingKey && !entity.signature.verifySignature(signingKey))
    throw new VerifyFailure('VERIFY_SIGNATURE_INVALID', 'the signature does not verify with the signing key')

  const key = request.key
  const trust = toTrustMaterial(
    request.trustedRoot,
    key ? () => ({ publicKey: key, validFor: () => true }) : undefined,
  )
  const requireTlog = key ? request.requireTlog !== false : true
  if (requireTlog && bundle.verificationMaterial.tlogEntries.length === 0)
    throw new VerifyFailure('VERIFY_TLOG_MISSING', 'the bundle has no transparency-log entry')
  const verifier = new Verifier(trust, {
    tlogThreshold: requireTlog ? 1 : 0,
    timestampThreshold: requireTlog ? 1 : 0,
    ctlogThreshold: 1,
  })
  const signer: Signer = verifier.verify(entity)

  // 4. who signed
  if (key) {
    report.signer = { type: 'key', keyId: keyIdOf(key) }
    return
  }
  const identity = signer.identity?.subjectAlternativeName ?? ''
  const issuer = signer.identity?.extensions?.issuer ?? ''
  report.signer = { type: 'keyless', identity, issuer }
  checkIdentity(request.identity!, identity, issuer)
}

function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    return X509Certificate.parse(Buffer.from(der))
  } catch (e) {
    throw new VerifyFailure(
      'VERIFY_BUNDLE_INVALID',
      `cannot parse a certificate in the bundle: ${messageOf(e)}`,
    )
  }
}

function leafPublicKey(entity: SignedEntity): KeyObject | undefined {
  if (entity.key.$case !== 'certificate') return undefined
  try {
    return createPublicKey({ key: entity.key.certificate.publicKey, format: 'der', type: 'spki' })
  } catch (e) {
    throw new VerifyFailure(
      'VERIFY_BUNDLE_INVALID',
      `cannot read the certificate's public key: ${messageOf(e)}`,
    )
  }
}

function parseBundle(json: unknown): Bundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new VerifyFailure('VERIFY_BUNDLE_INVALID', 'the bundle is not a JSON object')
  const problem = bundleShapeProblem(json)
  if (problem) throw new VerifyFailure('VERIFY_BUNDLE_INVALID', `not a valid sigstore bundle: ${problem}`)
  try {
    return bundleFromJSON(json)
  } catch (e) {
    throw new VerifyFailure('VERIFY_BUNDLE_INVALID', `not a valid sigstore bundle: ${messageOf(e)}`)
  }
}

function checkMessageDigest(bundle: Bundle, artifact: ArtifactInput, report: VerifyReport): void {
  if (bundle.content.$case !== 'messageSignature') return
  const md = bundle.content.messageSignature.messageDigest
  const algorithm = md ? HASH_NAMES[md.algorithm] : undefined
  if (!md || !algorithm)
    throw new VerifyFailure('VERIFY_UNSUPPORTED', 'the bundle has no supported message digest')
  const expected = Buffer.from(md.digest).toString('hex')
  const found = artifactDigest(artifact, algorithm)
  if (found === undefined)
    throw new VerifyFailure(
      'VERIFY_DIGEST_MISMATCH',
      `the bundle signs a ${algorithm} digest but the artifact was given as ${artifact.kind === 'digest' ? artifact.algorithm : '?'}`,
    )
  report.artifactDigest[algorithm] = found
  if (found !== expected)
    throw new VerifyFailure(
      'VERIFY_DIGEST_MISMATCH',
      `artifact ${algorithm} ${found} does not match the signed digest ${expected}`,
    )
}

function matchSubject(
  payloadType: string,
  payload: Uint8Array,
  artifact: ArtifactInput,
  report: VerifyReport,
): VerifyReport['matchedSubject'] {
  if (payloadType !== IN_TOTO_PAYLOAD_TYPE)
    throw new VerifyFailure(
      'VERIFY_UNSUPPORTED',
      `DSSE payload type ${payloadType} is not an in-toto statement`,
    )
  let statement: unknown
  try {
    statement = parseJsonText(Buffer.from(payload).toString('utf8'))
  } catch {
    throw new VerifyFailure('VERIFY_BUNDLE_INVALID', 'the DSSE payload is not JSON')
  }
  const subjects = (statement as { subject?: unknown }).subject
  if (!Array.isArray(subjects) || subjects.length === 0)
    throw new VerifyFailure('VERIFY_BUNDLE_INVALID', 'the in-toto statement has no subject')
  for (const subject of subjects) {
    const digest = (subject as { digest?: unknown }).digest
    if (typeof digest !== 'object' || digest === null) continue
    for (const [algorithm, hex] of Object.entries(digest as Record<string, unknown>)) {
      if (typeof hex !== 'string' || !(DIGEST_ALGORITHMS as readonly string[]).includes(algorithm)) continue
      const found = artifactDigest(artifact, algorithm as DigestAlgorithm)
      if (found === undefined) continue
      report.artifactDigest[algorithm] = found
      if (found === hex.toLowerCase()) {
        return {
          name: String((subject as { name?: unknown }).name ?? ''),
          digest: Object.fromEntries(
            Object.entries(digest as Record<string, unknown>).filter(
              (e): e is [string, string] => typeof e[1] === 'string',
            ),
          ),
        }
      }
    }
  }
  throw new VerifyFailure(
    'VERIFY_DIGEST_MISMATCH',
    'the artifact digest matches no subject of the in-toto statement',
  )
}

/** The artifact's digest in `algorithm` (hex), or undefined when it was given in another algorithm. */
function artifactDigest(artifact: ArtifactInput, algorithm: DigestAlgorithm): string | undefined {
  if (artifact.kind === 'digest') return artifact.algorithm === algorithm ? artifact.hex : undefined
  return createHash(algorithm).update(artifact.data).digest('hex')
}

/**
 * The library's message-signature content, with two gaps filled: a digest-only artifact (ECDSA over
 * the signed digest) and Ed25519 (verified over the message itself, as Ed25519 has no prehash here).
 */
function messageSignatureContent(
  inner: SignatureContent,
  bundle: Bundle,
  artifact: ArtifactInput,
): SignatureContent {
  if (bundle.content.$case !== 'messageSignature') return inner
  const digest = Buffer.from(bundle.content.messageSignature.messageDigest?.digest ?? [])
  const signature = inner.signature
  return {
    signature,
    compareSignature: (s) => inner.compareSignature(s),
    compareDigest: (d) => inner.compareDigest(d),
    compareSignedDigest: (d) => inner.compareSignedDigest(d),
    verifySignature(key: KeyObject): boolean {
      if (key.asymmetricKeyType === 'ed25519') {
        if (artifact.kind !== 'bytes')
          throw new VerifyFailure(
            'VERIFY_UNSUPPORTED',
            'an Ed25519 message signature can only be checked against the artifact file, not a digest',
          )
        try {
          return cryptoVerify(null, artifact.data, key, signature)
        } catch {
          return false
        }
      }
      if (artifact.kind === 'digest') {
        if (!canVerifyPrehashed(key))
          throw new VerifyFailure(
            'VERIFY_UNSUPPORTED',
            'this key type can only be checked against the artifact file, not a digest',
          )
        return verifyPrehashedEcdsa(digest, key, signature)
      }
      return inner.verifySignature(key)
    },
  }
}

function checkIdentity(policy: IdentityPolicy, identity: string, issuer: string): void {
  if (policy.identity !== undefined && identity !== policy.identity)
    throw new VerifyFailure(
      'VERIFY_IDENTITY_MISMATCH',
      `certificate identity is ${identity || '(none)'}, expected ${policy.identity}`,
    )
  let anchored: RegExp | undefined
  try {
    if (policy.identityRegexp !== undefined) anchored = toAnchoredRegExp(policy.identityRegexp)
  } catch (e) {
    // an API caller skipped the usage check: a pattern that cannot be anchored matches nobody
    throw new VerifyFailure('VERIFY_IDENTITY_MISMATCH', `the identity regexp is rejected: ${messageOf(e)}`)
  }
  if (anchored !== undefined && !anchored.test(identity))
    throw new VerifyFailure(
      'VERIFY_IDENTITY_MISMATCH',
      `certificate identity ${identity || '(none)'} does not match ^(?:${policy.identityRegexp})$`,
    )
  if (policy.issuer === undefined && policy.issuerRegexp === undefined)
    throw new VerifyFailure(
      'VERIFY_IDENTITY_MISMATCH',
      'no OIDC issuer given to match the certificate against',
    )
  if (policy.issuer !== undefined && issuer !== policy.issuer)
    throw new VerifyFailure(
      'VERIFY_IDENTITY_MISMATCH',
      `certificate OIDC issuer is ${issuer || '(none)'}, expected ${policy.issuer}`,
    )
  if (policy.issuerRegexp !== undefined) {
    let anchoredIssuer: RegExp
    try {
      anchoredIssuer = toAnchoredRegExp(policy.issuerRegexp)
    } catch (e) {
      throw new VerifyFailure('VERIFY_IDENTITY_MISMATCH', `the issuer regexp is rejected: ${messageOf(e)}`)
    }
    if (!anchoredIssuer.test(issuer))
      throw new VerifyFailure(
        'VERIFY_IDENTITY_MISMATCH',
        `certificate OIDC issuer ${issuer || '(none)'} does not match ^(?:${policy.issuerRegexp})$`,
      )
  }
}

export { toAnchoredRegExp }

function toFailure(e: unknown): { code: VerifyFailureCode; message: string } {
  if (e instanceof VerifyFailure) return { code: e.code, message: e.message }
  if (e instanceof PolicyError) return { code: 'VERIFY_IDENTITY_MISMATCH', message: e.message }
  if (e instanceof VerificationError) {
    switch (e.code) {
      case 'SIGNATURE_ERROR':
        return { code: 'VERIFY_SIGNATURE_INVALID', message: e.message }
      case 'CERTIFICATE_ERROR':
        return { code: 'VERIFY_CHAIN_UNTRUSTED', message: e.message }
      case 'PUBLIC_KEY_ERROR':
        return { code: 'VERIFY_KEY_MISMATCH', message: e.message }
      case 'TIMESTAMP_ERROR':
        return { code: 'VERIFY_TIMESTAMP_INVALID', message: e.message }
      case 'TLOG_MISSING_INCLUSION_ERROR':
        return { code: 'VERIFY_TLOG_MISSING', message: e.message }
      case 'TLOG_ERROR':
        return {
          code: /expected \d+ tlog entries/.test(e.message) ? 'VERIFY_TLOG_MISSING' : 'VERIFY_TLOG_INVALID',
          message: e.message,
        }
      case 'TLOG_INCLUSION_PROOF_ERROR':
      case 'TLOG_INCLUSION_PROMISE_ERROR':
      case 'TLOG_BODY_ERROR':
        return { code: 'VERIFY_TLOG_INVALID', message: e.message }
      case 'NOT_IMPLEMENTED_ERROR':
        return { code: 'VERIFY_UNSUPPORTED', message: e.message }
    }
  }
  // anything else the library throws while reading certificates, proofs or timestamps
  return { code: 'VERIFY_BUNDLE_INVALID', message: messageOf(e) }
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}
