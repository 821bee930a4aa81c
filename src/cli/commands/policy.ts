/** `detbuild policy`: evaluate the workspace against a policy (flags → options → core). */
import type { Command } from 'commander'
import { ExitCode } from '../../errors.ts'
import { TRUST_FLAGS } from '../../flags/index.ts'
import type { TrustFlags } from '../../verify/index.ts'
import type { CommandAction, RegisterCommand } from '../context.ts'
import { addTrustOptions } from '../signing-options.ts'

interface PolicyFlags extends TrustFlags {
  policy?: string
  vex?: string[]
  warnOnly?: boolean
  sbom?: string
  vulns?: string
  buildManifest?: string
  signatures?: string
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

export const action: CommandAction<PolicyFlags> = async (flags, env) => {
  const { runPolicy, toText } = await import('../../policy/index.ts')
  const { globals } = env
  const trust: TrustFlags = {}
  for (const { key } of TRUST_FLAGS) if (flags[key] !== undefined) Object.assign(trust, { [key]: flags[key] })
  const { result, written } = await runPolicy({
    cwd: globals.cwd,
    out: globals.out,
    now: env.now(),
    ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
    ...(flags.vex ? { vex: flags.vex } : {}),
    ...(flags.sbom !== undefined ? { sbom: flags.sbom } : {}),
    ...(flags.vulns !== undefined ? { vulns: flags.vulns } : {}),
    ...(flags.buildManifest !== undefined ? { build: flags.buildManifest } : {}),
    ...(flags.signatures !== undefined ? { signatures: flags.signatures } : {}),
    trust,
  })
  for (const f of written) env.log.debug(`wrote ${f}`)
  const warnOnly = flags.warnOnly === true
  return {
    exitCode: result.verdict === 'fail' && !warnOnly ? ExitCode.checkFailed : ExitCode.ok,
    data: result,
    text: toText(result, { color: globals.stdoutColor, warnOnly }),
  }
}

export const register: RegisterCommand = (program: Command, registrar) => {
  const command = program
    .command('policy')
    .description('evaluate the SBOM, scan results, build manifest and signatures against a policy')
    .option(
      '--policy <name|file>',
      'shipped policy name (default, strict, permissive-licenses) or a policy file',
    )
    .option('--vex <file>', 'OpenVEX or CycloneDX VEX document with exceptions (repeatable)', collect)
    .option('--warn-only', 'report failing rules without failing (exit 0)', false)
    .option(
      '--sbom <file>',
      'SBOM: CycloneDX JSON or XML, SPDX 2.3 JSON or SPDX 3.0.1 JSON-LD, detected from the content (default: <out>/sbom.cdx.json)',
    )
    .option('--vulns <file>', 'scan results (default: <out>/vulns.json)')
    .option('--build-manifest <file>', 'build manifest (default: <out>/build.json)')
    .option('--signatures <file>', 'signature list (default: <out>/signatures.json)')
  // the signing rules verify each bundle with the same trust flags as `detbuild verify`
  addTrustOptions(command).action(registrar.wrap(action))
}
