/**
 * Who must have signed, and the trust root, declared once: `detbuild verify`/`policy` flags,
 * `detbuild run`'s verify flags and the Action's verify inputs are derived from this table
 * (test/action/metadata.test.ts checks action.yml against it). Data only.
 */
import type { FlagSpec } from '../util/flag-spec.ts'
import type { TrustFlags } from '../verify/index.ts'

export const TRUST_FLAGS = [
  {
    key: 'certificateIdentity',
    flag: '--certificate-identity <id>',
    description: 'exact signer identity (certificate SAN: workflow URI or e-mail)',
    run: { description: 'exact keyless signer identity' },
    input: 'certificate-identity',
  },
  {
    key: 'certificateIdentityRegexp',
    flag: '--certificate-identity-regexp <re>',
    description: 'signer identity as a regular expression, matched whole',
    run: { description: 'keyless signer identity as a regular expression' },
    input: 'certificate-identity-regexp',
  },
  {
    key: 'certificateOidcIssuer',
    flag: '--certificate-oidc-issuer <url>',
    description: 'exact OIDC issuer, e.g. https://token.actions.githubusercontent.com',
    run: { description: 'OIDC issuer of the keyless signer' },
    input: 'certificate-oidc-issuer',
  },
  {
    key: 'certificateOidcIssuerRegexp',
    flag: '--certificate-oidc-issuer-regexp <re>',
    description: 'OIDC issuer as a regular expression, matched whole (instead of --certificate-oidc-issuer)',
    run: { description: 'OIDC issuer of the keyless signer as a regular expression' },
    input: 'certificate-oidc-issuer-regexp',
  },
  {
    key: 'key',
    flag: '--key <file>',
    description: 'PEM public key for a key-signed bundle',
    // `detbuild run` has a signing key too
    run: { flag: '--verify-key <file>', description: 'PEM public key of key-signed evidence' },
    input: 'verify-key',
  },
  {
    key: 'trustedRoot',
    flag: '--trusted-root <file>',
    description: 'sigstore trusted_root.json for offline verification (default: public-good via TUF)',
    run: { description: 'sigstore trusted_root.json (offline verification)' },
    input: 'trusted-root',
  },
  {
    key: 'insecureIgnoreTlog',
    flag: '--insecure-ignore-tlog',
    description: 'with --key: accept a bundle without a transparency-log entry',
    default: false,
    run: { description: 'accept key-signed bundles without a log entry' },
  },
  {
    key: 'offline',
    flag: '--offline',
    description:
      'never use the network: what would need it (the public-good trusted root, an OSV API rescan) is an error',
    default: false,
  },
] as const satisfies readonly FlagSpec<keyof TrustFlags>[]
