/** `detbuild bundle`: the signed, deterministic evidence archive (flags → options → core). */
import { ExitCode } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

interface BundleFlags {
  key?: string
  keyPasswordEnv?: string
  identityToken?: string
  fulcioUrl?: string
  rekorUrl?: string
  tsaUrl?: string
  tlog?: boolean
  timeout?: string
  includeArtifacts?: boolean
  output?: string
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('bundle')
    .description(
      'pack the workspace evidence (SBOM, scan, policy, build record, provenance, signatures, logs) into one signed, deterministic <out>/evidence.tar.gz',
    )
    .option('--output <file>', 'archive to write (default: <out>/evidence.tar.gz)')
    .option(
      '--include-artifacts',
      'also put the artifacts themselves in the archive (default: digests only)',
      false,
    )
    .option('--key <file>', 'sign the manifest with a PKCS#8 PEM private key instead of keyless')
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
    .action(
      registrar.wrap<BundleFlags>(async (flags, env) => {
        const { resolveSigningConfig } = await import('../../sign/config.ts')
        const { createEvidenceBundle, renderBundleText } = await import('../../evidence/index.ts')
        const signing = await resolveSigningConfig(flags, { cwd: env.globals.cwd, env: env.env })
        env.log.info(
          signing.mode === 'key'
            ? 'signing the manifest with a key'
            : 'signing the manifest keyless (Fulcio)',
        )
        const result = await createEvidenceBundle({
          cwd: env.globals.cwd,
          out: env.globals.out,
          ...(flags.output !== undefined ? { output: flags.output } : {}),
          signing,
          includeArtifacts: flags.includeArtifacts === true,
          env: env.env,
          log: env.log,
        })
        return { exitCode: ExitCode.ok, data: result, text: renderBundleText(result) }
      }),
    )
}
