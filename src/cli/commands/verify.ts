import { ExitCode, InputError } from '../../errors.ts'
import type { VerifyCliOptions } from '../../verify/index.ts'
import type { RegisterCommand } from '../context.ts'
import { addTrustOptions } from '../signing-options.ts'

interface VerifyOptions extends VerifyCliOptions {
  evidence?: string
  policy?: string
  rescan?: boolean
  offlineDb?: string
  osvUrl?: string
}

export const register: RegisterCommand = (program, registrar) => {
  const command = program
    .command('verify')
    .description(
      'verify a sigstore bundle (--bundle) or an evidence archive (--evidence) for ARTIFACT (a file, or sha256:<hex>); exit 0 verified, 1 a check failed',
    )
    .argument('<artifact>', 'the artifact file, or sha256:<hex> / sha512:<hex> of it')
    .option('--bundle <file>', 'the sigstore bundle (.sigstore.json)')
    .option(
      '--evidence <file>',
      'an evidence archive (evidence.tar.gz from detbuild bundle) instead of --bundle',
    )
    .option('--policy <name|file>', 'with --evidence: re-evaluate this policy on the bundled data')
    .option('--rescan', 'with --evidence: re-check the bundled SBOM against OSV now', false)
    .option('--offline-db <path>', 'with --rescan: an OSV export (zip or folder) instead of the API')
    .option('--osv-url <url>', 'with --rescan: OSV API base URL (default https://api.osv.dev)')
  addTrustOptions(command).action(
    registrar.wrap<VerifyOptions>(async (options, env, args) => {
      const artifact = args[0]
      if (!artifact) throw new InputError('VERIFY_USAGE', 'missing ARTIFACT')
      if ((options.bundle === undefined) === (options.evidence === undefined))
        throw new InputError('VERIFY_USAGE', 'give exactly one of --bundle FILE or --evidence FILE')
      if (options.evidence !== undefined) {
        const { verifyEvidence, renderVerifyText } = await import('../../evidence/index.ts')
        const { evidence, policy, rescan, offlineDb, osvUrl, bundle: _bundle, ...trust } = options
        const context = await env.resolveContext()
        const { report, exitCode } = await verifyEvidence({
          ...trust,
          cwd: env.globals.cwd,
          evidence,
          artifact,
          ...(policy !== undefined ? { policy } : {}),
          rescan: rescan === true,
          ...(offlineDb !== undefined ? { offlineDb } : {}),
          ...(osvUrl !== undefined ? { osvUrl } : {}),
          env: context.env,
          sourceDateEpoch: context.sourceDate.epoch,
          now: context.clock(),
          log: env.log,
        })
        return { exitCode, data: report, text: renderVerifyText(report) }
      }
      if (
        options.policy !== undefined ||
        options.rescan === true ||
        options.offlineDb !== undefined ||
        options.osvUrl !== undefined
      )
        throw new InputError('VERIFY_USAGE', '--policy, --rescan, --offline-db and --osv-url need --evidence')
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
