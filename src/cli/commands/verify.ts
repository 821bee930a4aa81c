import { ExitCode, InputError } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

interface VerifyOptions {
  bundle?: string
  key?: string
  certificateIdentity?: string
  certificateIdentityRegexp?: string
  certificateOidcIssuer?: string
  trustedRoot?: string
  insecureIgnoreTlog?: boolean
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('verify')
    .description(
      'verify a sigstore bundle for ARTIFACT (a file, or sha256:<hex>); exit 0 verified, 1 a check failed',
    )
    .argument('<artifact>', 'the artifact file, or sha256:<hex> / sha512:<hex> of it')
    .requiredOption('--bundle <file>', 'the sigstore bundle (.sigstore.json)')
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
    .action(
      registrar.wrap<VerifyOptions>(async (options, env, args) => {
        const artifact = args[0]
        if (!artifact) throw new InputError('VERIFY_USAGE', 'missing ARTIFACT')
        const { verifyArtifact } = await import('../../verify/index.ts')
        const result = await verifyArtifact({
          ...options,
          bundle: options.bundle!,
          artifact,
          cwd: env.globals.cwd,
        })
        if (!result.verified) {
          const f = result.failure!
          env.log.info(`verification failed [${f.code}]: ${f.message}`)
          return {
            exitCode: ExitCode.checkFailed,
            data: result,
            text: `FAIL ${result.artifact}: [${f.code}] ${f.message}`,
          }
        }
        const who =
          result.signer?.type === 'key'
            ? `key ${result.signer.keyId}`
            : `${result.signer?.identity} (${result.signer?.issuer})`
        const what =
          result.kind === 'dsse' ? `attestation subject ${result.matchedSubject?.name}` : 'message signature'
        return {
          exitCode: ExitCode.ok,
          data: result,
          text: `OK ${result.artifact}: ${what}, signed by ${who}`,
        }
      }),
    )
}
