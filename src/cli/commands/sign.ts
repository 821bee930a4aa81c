import { ExitCode } from '../../errors.ts'
import type { SignFlags } from '../../sign/config.ts'
import type { RegisterCommand } from '../context.ts'

interface SignOptions extends SignFlags {
  artifacts?: boolean
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('sign')
    .description(
      'sign <out>/provenance.intoto.json as a DSSE in-toto attestation (and with --artifacts each artifact), writing sigstore bundles and signatures.json',
    )
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
    .option('--artifacts', 'also sign each file in <out>/artifacts/ (message signatures)', false)
    .option('--timeout <seconds>', 'per-request timeout for Fulcio, Rekor and the TSA', '10')
    .action(
      registrar.wrap<SignOptions>(async (options, env) => {
        const { resolveSigningConfig } = await import('../../sign/config.ts')
        const { signWorkspace } = await import('../../sign/index.ts')
        const signing = await resolveSigningConfig(options, { cwd: env.globals.cwd, env: env.env })
        env.log.info(signing.mode === 'key' ? 'signing with a key' : 'signing keyless (Fulcio)')
        const manifest = await signWorkspace({
          out: env.globals.out,
          signing,
          artifacts: options.artifacts === true,
        })
        const lines = manifest.bundles.map((b) => {
          const who =
            b.signer.type === 'key'
              ? `key ${b.signer.keyId.slice(0, 16)}`
              : `${b.signer.identity} (${b.signer.issuer})`
          return `signed ${b.subject} → ${b.file} [${b.kind}, ${who}${b.tlog ? ', logged' : ''}]`
        })
        return { exitCode: ExitCode.ok, data: manifest, text: lines.join('\n') }
      }),
    )
}
