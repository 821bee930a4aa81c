/** `detbuild verify` options: validation and resolution (pure). Bad usage is an InputError (exit 2). */
import { InputError } from '../errors.ts'
import { checkAnchoredRegExp } from './identity-regexp.ts'
import { type ArtifactInput, DIGEST_ALGORITHMS, type DigestAlgorithm } from './verify-bundle.ts'

export interface VerifyCliOptions {
  bundle?: string
  key?: string
  certificateIdentity?: string
  certificateIdentityRegexp?: string
  certificateOidcIssuer?: string
  certificateOidcIssuerRegexp?: string
  trustedRoot?: string
  insecureIgnoreTlog?: boolean
  /** never use the network: what would (the public-good trusted root through TUF) is an error instead */
  offline?: boolean
}

export type VerifyPolicyOptions =
  | { mode: 'key'; keyFile: string; requireTlog: boolean }
  | { mode: 'keyless'; identity?: string; identityRegexp?: string; issuer?: string; issuerRegexp?: string }

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha384: 96, sha512: 128 }

/** `sha256:<hex>` (or sha384/sha512) → a digest artifact; anything else is a path (undefined here). */
export function parseDigestArtifact(spec: string): Extract<ArtifactInput, { kind: 'digest' }> | undefined {
  const m = /^(sha\d+):(.*)$/i.exec(spec)
  if (!m) return undefined
  const algorithm = m[1]!.toLowerCase()
  const hex = m[2]!.toLowerCase()
  if (!(DIGEST_ALGORITHMS as readonly string[]).includes(algorithm))
    throw new InputError(
      'VERIFY_USAGE',
      `unsupported digest algorithm in ${spec} (use sha256, sha384 or sha512)`,
    )
  const alg = algorithm as DigestAlgorithm
  if (!/^[0-9a-f]+$/.test(hex) || hex.length !== HEX_LENGTH[alg])
    throw new InputError('VERIFY_USAGE', `${alg} digest must be ${HEX_LENGTH[alg]} hex characters: ${spec}`)
  return { kind: 'digest', algorithm: alg, hex }
}

/** Checks the identity/key flags: exactly one of a key or a keyless identity policy. */
export function resolvePolicy(o: VerifyCliOptions): VerifyPolicyOptions {
  const identityGiven =
    o.certificateIdentity !== undefined ||
    o.certificateIdentityRegexp !== undefined ||
    o.certificateOidcIssuer !== undefined ||
    o.certificateOidcIssuerRegexp !== undefined
  if (o.key !== undefined) {
    if (identityGiven)
      throw new InputError(
        'VERIFY_USAGE',
        '--key cannot be combined with --certificate-identity/--certificate-oidc-issuer (or their -regexp forms)',
      )
    return { mode: 'key', keyFile: o.key, requireTlog: o.insecureIgnoreTlog !== true }
  }
  if (o.insecureIgnoreTlog)
    throw new InputError('VERIFY_USAGE', '--insecure-ignore-tlog is only allowed with --key')
  if (o.certificateIdentity !== undefined && o.certificateIdentityRegexp !== undefined)
    throw new InputError(
      'VERIFY_USAGE',
      'give --certificate-identity or --certificate-identity-regexp, not both',
    )
  if (o.certificateIdentity === undefined && o.certificateIdentityRegexp === undefined)
    throw new InputError(
      'VERIFY_USAGE',
      'say who must have signed: --certificate-identity (or --certificate-identity-regexp) with --certificate-oidc-issuer, or --key for a key-signed bundle',
    )
  if (o.certificateOidcIssuer !== undefined && o.certificateOidcIssuerRegexp !== undefined)
    throw new InputError(
      'VERIFY_USAGE',
      'give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both',
    )
  if (
    (o.certificateOidcIssuer === undefined || o.certificateOidcIssuer === '') &&
    o.certificateOidcIssuerRegexp === undefined
  )
    throw new InputError(
      'VERIFY_USAGE',
      '--certificate-oidc-issuer (or --certificate-oidc-issuer-regexp) is required with a certificate identity',
    )
  if (o.certificateOidcIssuerRegexp !== undefined)
    checkAnchoredRegExp(o.certificateOidcIssuerRegexp, '--certificate-oidc-issuer-regexp')
  const issuer =
    o.certificateOidcIssuerRegexp !== undefined
      ? { issuerRegexp: o.certificateOidcIssuerRegexp }
      : { issuer: o.certificateOidcIssuer! }
  if (o.certificateIdentityRegexp !== undefined) {
    checkAnchoredRegExp(o.certificateIdentityRegexp, '--certificate-identity-regexp')
    return { mode: 'keyless', identityRegexp: o.certificateIdentityRegexp, ...issuer }
  }
  return { mode: 'keyless', identity: o.certificateIdentity!, ...issuer }
}
