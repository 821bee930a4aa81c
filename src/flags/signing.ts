/**
 * The signing choices, declared once: `detbuild sign`/`bundle` flags, `detbuild run`'s sign flags and
 * the Action's signing inputs are derived from this table (test/action/metadata.test.ts checks
 * action.yml against it). Data only.
 */

import type { SignFlags } from '../sign/index.ts'
import type { FlagSpec } from '../util/flag-spec.ts'

export const SIGNING_FLAGS = [
  {
    key: 'key',
    flag: '--key <file>',
    description: 'sign with a PKCS#8 PEM private key (ECDSA P-256/P-384 or Ed25519) instead of keyless',
    run: { description: 'PKCS#8 PEM private key (with --sign key)' },
    // the Action's `key` input may hold the PEM itself: read by src/action/inputs.ts
  },
  {
    key: 'keyPasswordEnv',
    flag: '--key-password-env <name>',
    description: 'environment variable holding the key passphrase',
    default: 'DETBUILD_KEY_PASSWORD',
    run: { description: 'environment variable holding the key passphrase' },
    // the Action takes the passphrase itself (`key-password`), not a variable's name
  },
  {
    key: 'identityToken',
    flag: '--identity-token <jwt>',
    description: 'OIDC identity token for keyless signing (else SIGSTORE_ID_TOKEN or GitHub Actions)',
    run: { description: 'OIDC identity token for keyless signing' },
  },
  {
    key: 'fulcioUrl',
    flag: '--fulcio-url <url>',
    description: 'Fulcio certificate authority (default https://fulcio.sigstore.dev)',
    run: { description: 'Fulcio URL' },
    input: 'fulcio-url',
  },
  {
    key: 'rekorUrl',
    flag: '--rekor-url <url>',
    description: 'Rekor transparency log (default https://rekor.sigstore.dev)',
    run: { description: 'Rekor URL' },
    input: 'rekor-url',
  },
  {
    key: 'tsaUrl',
    flag: '--tsa-url <url>',
    description: 'RFC 3161 timestamp authority (default: none)',
    run: { description: 'RFC 3161 timestamp authority URL' },
    input: 'tsa-url',
  },
  {
    key: 'tlog',
    flag: '--no-tlog',
    description: 'with --key: do not upload to the transparency log',
    run: { description: 'with a key, do not upload to the transparency log' },
  },
  {
    key: 'timeout',
    flag: '--timeout <duration>',
    description: 'per-request timeout for Fulcio, Rekor and the TSA, e.g. 10s or 500ms',
    default: '10s',
  },
] as const satisfies readonly FlagSpec<keyof SignFlags>[]
