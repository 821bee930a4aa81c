/** `detbuild bundle`: the signed, deterministic evidence archive (flags → options → core). */
import { ExitCode } from '../../errors.ts'
import type { SignFlags } from '../../sign/index.ts'
import type { RegisterCommand } from '../context.ts'
import { addSigningOptions, warnDeprecatedSigningFlags } from '../signing-options.ts'

interface BundleFlags extends SignFlags {
  includeArtifacts?: boolean
  output?: string
}

export const register: RegisterCommand = (program, registrar) => {
  const command = program
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
  addSigningOptions(command).action(
    registrar.wrap<BundleFlags>(async (flags, env) => {
      const { resolveSigningConfig } = await import('../../sign/index.ts')
      const { createEvidenceBundle, renderBundleText } = await import('../../evidence/index.ts')
      const context = await env.resolveContext(
        flags.keyPasswordEnv ? { allowEnv: [flags.keyPasswordEnv] } : {},
      )
      warnDeprecatedSigningFlags(flags, env.log)
      const signing = await resolveSigningConfig(flags, { cwd: env.globals.cwd, env: context.env })
      env.log.info(
        signing.mode === 'key' ? 'signing the manifest with a key' : 'signing the manifest keyless (Fulcio)',
      )
      const result = await createEvidenceBundle({
        cwd: env.globals.cwd,
        out: env.globals.out,
        ...(flags.output !== undefined ? { output: flags.output } : {}),
        signing,
        includeArtifacts: flags.includeArtifacts === true,
        sourceDate: context.sourceDate,
        env: context.env,
        log: env.log,
      })
      return { exitCode: ExitCode.ok, data: result, text: renderBundleText(result) }
    }),
  )
}
