import path from 'node:path'
import { Option } from 'commander'
import { ExitCode, InputError } from '../../errors.ts'
import { SIGNING_FLAGS } from '../../flags/index.ts'
import type { SignFlags } from '../../sign/index.ts'
import type { VerifyCliOptions } from '../../verify/index.ts'
import type { CommandEnv, RegisterCommand } from '../context.ts'
import { addTrustOptions, warnDeprecatedSigningFlags } from '../signing-options.ts'

interface VerifyOptions extends VerifyCliOptions {
  evidence?: string
  policy?: string
  rescan?: boolean
  offlineDb?: string
  osvUrl?: string
  /** --evidence: write a signed verification summary (VSA) here */
  writeVsa?: string
  /** check a signed verification summary (its .sigstore.json) instead of --bundle/--evidence */
  vsa?: string
  vsaResourceUri?: string
  vsaVerifierId?: string
  vsaLevel?: string
  /** the VSA signing flags: `--vsa-` + each signing flag (`--vsa-key`, `--vsa-no-tlog`, …) */
  [vsaSigning: `vsa${string}`]: string | boolean | undefined
}

/** The signing flags with a `--vsa-` prefix: how `--write-vsa` signs (same meaning as in `detbuild sign`). */
const VSA_SIGNING = SIGNING_FLAGS.map((f) => {
  const flag = f.flag.replace(/^--(no-)?/, (_m, no: string | undefined) => `--vsa-${no ?? ''}`)
  return { key: f.key, flag, attribute: new Option(flag).attributeName(), description: f.description }
})

/** The `--vsa-*` signing flags as `detbuild sign`'s SignFlags. */
function vsaSignFlags(options: VerifyOptions): SignFlags {
  const flags: Record<string, string | boolean> = {}
  for (const f of VSA_SIGNING) {
    const value = options[f.attribute as `vsa${string}`]
    if (f.key === 'tlog') {
      if (value === true) flags.tlog = false
    } else if (typeof value === 'string') flags[f.key] = value
  }
  return flags as SignFlags
}

export const register: RegisterCommand = (program, registrar) => {
  const command = program
    .command('verify')
    .description(
      'verify a sigstore bundle (--bundle), an evidence archive (--evidence, optionally writing a signed verification summary with --write-vsa) or a verification summary (--vsa) for ARTIFACT (a file, or sha256:<hex>); exit 0 verified, 1 a check failed',
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
    .option(
      '--write-vsa <file>',
      'with --evidence and --policy: write a signed SLSA verification summary (VSA v1) to FILE and its bundle beside it (x.intoto.json → x.sigstore.json)',
    )
    .option(
      '--vsa <file>',
      'check a signed verification summary (the .sigstore.json --write-vsa wrote) for ARTIFACT, instead of --bundle/--evidence; --policy: the policy it must name',
    )
    .option('--vsa-resource-uri <uri>', '--write-vsa: the resourceUri to state; --vsa: the one it must state')
    .option(
      '--vsa-verifier-id <uri>',
      '--vsa: the verifier the summary must name (default https://detbuild.dev/verifiers/evidence/v1)',
    )
    .option('--vsa-level <level>', '--vsa: a level the summary must reach, e.g. SLSA_BUILD_LEVEL_1')
  for (const f of VSA_SIGNING) command.option(f.flag, `--write-vsa signing: ${f.description}`)
  addTrustOptions(command).action(
    registrar.wrap<VerifyOptions>(async (options, env, args) => {
      const artifact = args[0]
      if (!artifact) throw new InputError('VERIFY_USAGE', 'missing ARTIFACT')
      const modes = [options.bundle, options.evidence, options.vsa].filter((m) => m !== undefined)
      if (modes.length !== 1)
        throw new InputError(
          'VERIFY_USAGE',
          'give exactly one of --bundle FILE, --evidence FILE or --vsa FILE',
        )
      const signFlags = vsaSignFlags(options)
      if (options.writeVsa === undefined && Object.keys(signFlags).length > 0)
        throw new InputError(
          'VSA_USAGE',
          'the --vsa-key/--vsa-identity-token/… signing flags need --write-vsa FILE',
        )
      if (options.evidence === undefined && options.writeVsa !== undefined)
        throw new InputError(
          'VSA_USAGE',
          '--write-vsa needs --evidence (a summary records an evidence verification)',
        )
      if (
        options.vsa === undefined &&
        (options.vsaVerifierId !== undefined || options.vsaLevel !== undefined)
      )
        throw new InputError(
          'VSA_USAGE',
          '--vsa-verifier-id and --vsa-level are for checking a summary (--vsa FILE)',
        )
      if (options.vsaResourceUri !== undefined && options.vsa === undefined && options.writeVsa === undefined)
        throw new InputError('VSA_USAGE', '--vsa-resource-uri needs --write-vsa FILE or --vsa FILE')
      if (options.vsa !== undefined) return await checkVsa(options, env, artifact)
      if (options.evidence !== undefined) {
        const { verifyEvidence, renderVerifyText } = await import('../../evidence/index.ts')
        const {
          evidence,
          policy,
          rescan,
          offlineDb,
          osvUrl,
          bundle: _bundle,
          writeVsa,
          vsa: _vsa,
          vsaResourceUri,
          vsaVerifierId: _id,
          vsaLevel: _level,
          ...rest
        } = options
        const trust = trustFlags(rest)
        const vsaOut =
          writeVsa !== undefined ? checkVsaOutput(env.globals.cwd, writeVsa, options, artifact) : undefined
        const context = await env.resolveContext(
          vsaOut && signFlags.keyPasswordEnv ? { allowEnv: [signFlags.keyPasswordEnv] } : {},
        )
        const run = async () => {
          let signing: import('../../sign/index.ts').SigningConfig | undefined
          if (vsaOut) {
            const { resolveSigningConfig } = await import('../../sign/index.ts')
            warnDeprecatedSigningFlags(signFlags, env.log)
            if (options.offline === true && (signFlags.key === undefined || signFlags.tlog !== false))
              throw new InputError(
                'VERIFY_OFFLINE_NETWORK_NEEDED',
                '--offline: signing the summary keyless or with a transparency-log entry needs the network; sign it with --vsa-key FILE --vsa-no-tlog',
              )
            signing = await resolveSigningConfig(signFlags, { cwd: env.globals.cwd, env: context.env })
          }
          const result = await verifyEvidence({
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
          if (!vsaOut || !signing) return { ...result, vsa: null }
          const { removeVerificationSummary, toVerificationSummary, writeVerificationSummary } = await import(
            '../../evidence/index.ts'
          )
          // a VSA records when the verification ran: SOURCE_DATE_EPOCH when set (reproducible pipelines),
          // else the clock (the git commit time or the 1980 default would predate the verification)
          const timeVerified =
            context.sourceDate.from === 'env' ? new Date(context.sourceDate.epoch * 1000) : context.clock()
          const statement = toVerificationSummary({
            verification: result,
            timeVerified,
            ...(vsaResourceUri !== undefined ? { resourceUri: vsaResourceUri } : {}),
          })
          if (!statement) {
            // no verdict, no summary: and no summary of an earlier run left at the path either
            await removeVerificationSummary(vsaOut)
            env.log.warn('the verification is incomplete: no verification summary written')
            return { ...result, vsa: null }
          }
          const written = await writeVerificationSummary(statement, vsaOut, signing)
          const show = (f: string) => toShown(env.globals.cwd, f)
          return {
            ...result,
            vsa: {
              file: show(written.file),
              bundle: show(written.bundleFile),
              verificationResult: statement.predicate.verificationResult as string,
              verifiedLevels: statement.predicate.verifiedLevels as string[],
            },
          }
        }
        let outcome: Awaited<ReturnType<typeof run>>
        try {
          outcome = await run()
        } catch (e) {
          if (vsaOut) await (await import('../../evidence/index.ts')).removeVerificationSummary(vsaOut)
          throw e
        }
        const { report, exitCode, vsa } = outcome
        const text = renderVerifyText(report)
        return {
          exitCode,
          data: vsa ? { ...report, vsa } : report,
          text: vsa
            ? `${text}\nverification summary (${vsa.verificationResult}): ${vsa.file}, signed: ${vsa.bundle}`
            : text,
        }
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
        ...trustFlags(options),
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

/** The trust flags alone (commander's options object also holds the other flags). */
function trustFlags(o: VerifyOptions): VerifyCliOptions {
  const out: VerifyCliOptions = {}
  for (const k of [
    'key',
    'certificateIdentity',
    'certificateIdentityRegexp',
    'certificateOidcIssuer',
    'certificateOidcIssuerRegexp',
    'trustedRoot',
  ] as const)
    if (o[k] !== undefined) out[k] = o[k]
  if (o.insecureIgnoreTlog !== undefined) out.insecureIgnoreTlog = o.insecureIgnoreTlog
  if (o.offline !== undefined) out.offline = o.offline
  return out
}

function toShown(cwd: string, file: string): string {
  const rel = path.relative(cwd, file)
  return rel.split(path.sep).join('/')
}

/** --write-vsa: needs --policy; never the path of an input (the archive, the artifact) or of its own bundle. */
function checkVsaOutput(cwd: string, file: string, o: VerifyOptions, artifact: string): string {
  if (o.policy === undefined)
    throw new InputError(
      'VSA_USAGE',
      '--write-vsa needs --policy NAME|FILE: a verification summary names the policy the artifact was verified against',
    )
  const out = path.resolve(cwd, file)
  const inputs = [o.evidence, artifact, o.policy].filter((f): f is string => f !== undefined)
  if (inputs.some((f) => path.resolve(cwd, f) === out) || file.endsWith('.sigstore.json'))
    throw new InputError(
      'VSA_USAGE',
      `--write-vsa ${file}: name a new file for the statement (e.g. vsa.intoto.json), not an input or a .sigstore.json`,
    )
  return out
}

/** `verify ARTIFACT --vsa FILE`: a signed verification summary, checked as a deploy stage would. */
async function checkVsa(options: VerifyOptions, env: CommandEnv, artifact: string) {
  if (options.rescan === true || options.offlineDb !== undefined || options.osvUrl !== undefined)
    throw new InputError('VSA_USAGE', '--rescan, --offline-db and --osv-url need --evidence')
  const { verifyVerificationSummary } = await import('../../evidence/index.ts')
  const { report, exitCode } = await verifyVerificationSummary({
    ...trustFlags(options),
    cwd: env.globals.cwd,
    vsa: options.vsa!,
    artifact,
    ...(options.policy !== undefined ? { policy: options.policy } : {}),
    ...(options.vsaResourceUri !== undefined ? { resourceUri: options.vsaResourceUri } : {}),
    ...(options.vsaVerifierId !== undefined ? { verifierId: options.vsaVerifierId } : {}),
    ...(options.vsaLevel !== undefined ? { level: options.vsaLevel } : {}),
  })
  if (report.failure) {
    env.log.info(`verification summary refused [${report.failure.code}]: ${report.failure.message}`)
    return {
      exitCode,
      data: report,
      text: `FAIL ${report.artifact}: [${report.failure.code}] ${report.failure.message}`,
    }
  }
  const s = report.summary!
  const who =
    report.signer?.type === 'key'
      ? `key ${report.signer.keyId}`
      : `${report.signer?.identity} (${report.signer?.issuer})`
  return {
    exitCode,
    data: report,
    text: `OK ${report.artifact}: verification summary ${s.verificationResult} ${s.verifiedLevels.join(', ')} at ${s.timeVerified} by ${s.verifier}, policy ${s.policy.uri}, signed by ${who}`,
  }
}
