import type { Command } from 'commander'

/** The signing flags `detbuild sign` and `detbuild bundle` share (resolved by sign/config.ts). */
export function addSigningOptions(command: Command): Command {
  return command
    .option(
      '--key <file>',
      'sign with a PKCS#8 PEM private key (ECDSA P-256/P-384 or Ed25519) instead of keyless',
    )
    .option(
      '--key-password-env <name>',
      'environment variable holding the key passphrase',
      'DETBUILD_KEY_PASSWORD',
    )
    .option(
      '--identity-token <jwt>',
      'OIDC identity token for keyless signing (else SIGSTORE_ID_TOKEN or GitHub Actions)',
    )
    .option('--fulcio-url <url>', 'Fulcio certificate authority (default https://fulcio.sigstore.dev)')
    .option('--rekor-url <url>', 'Rekor transparency log (default https://rekor.sigstore.dev)')
    .option('--tsa-url <url>', 'RFC 3161 timestamp authority (default: none)')
    .option('--no-tlog', 'with --key: do not upload to the transparency log')
    .option('--timeout <seconds>', 'per-request timeout for Fulcio, Rekor and the TSA', '10')
}

/**
 * Who must have signed, and the trust root: the flags `detbuild verify` and `detbuild policy` share
 * (resolved by verify/options.ts into src/verify's TrustFlags).
 */
export function addTrustOptions(command: Command): Command {
  return command
    .option('--certificate-identity <id>', 'exact signer identity (certificate SAN: workflow URI or e-mail)')
    .option('--certificate-identity-regexp <re>', 'signer identity as a regular expression, matched whole')
    .option(
      '--certificate-oidc-issuer <url>',
      'exact OIDC issuer, e.g. https://token.actions.githubusercontent.com',
    )
    .option('--key <file>', 'PEM public key for a key-signed bundle')
    .option(
      '--trusted-root <file>',
      'sigstore trusted_root.json for offline verification (default: public-good via TUF)',
    )
    .option('--insecure-ignore-tlog', 'with --key: accept a bundle without a transparency-log entry', false)
}
