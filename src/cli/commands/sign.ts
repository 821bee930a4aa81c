import { ExitCode } from '../../errors.ts'
import type { SignFlags } from '../../sign/index.ts'
import type { RegisterCommand } from '../context.ts'
import { addSigningOptions, warnDeprecatedSigningFlags } from '../signing-options.ts'

interface SignOptions extends SignFlags {
  artifacts?: boolean
}

export const register: RegisterCommand = (program, registrar) => {
  const command = program
    .command('sign')
    .description(
      'sign <out>/provenance.intoto.json as a DSSE in-toto attestation (and with --artifacts each artifact), writing sigstore bundles and signatures.json',
    )
    .option('--artifacts', 'also sign each file in <out>/artifacts/ (message signatures)', false)
  addSigningOptions(command).action(
    registrar.wrap<SignOptions>(async (options, env) => {
      const { resolveSigningConfig } = await import('../../sign/index.ts')
      const { signWorkspace } = await import('../../sign/index.ts')
      const context = await env.resolveContext(
        options.keyPasswordEnv ? { allowEnv: [options.keyPasswordEnv] } : {},
      )
      warnDeprecatedSigningFlags(options, env.log)
      const signing = await resolveSigningConfig(options, { cwd: env.globals.cwd, env: context.env })
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
