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
