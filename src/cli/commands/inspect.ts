/** `detbuild inspect FILE`: a human summary of an evidence archive (flags → core). */
import { ExitCode, InputError } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('inspect')
    .description(
      'summarize an evidence archive: artifact digests, SBOM size, findings by severity, policy verdict, signers (verifies nothing: use verify --evidence)',
    )
    .argument('<evidence>', 'the evidence archive (evidence.tar.gz)')
    .action(
      registrar.wrap<Record<string, never>>(async (_options, env, args) => {
        const file = args[0]
        if (!file) throw new InputError('INSPECT_USAGE', 'missing the evidence archive')
        const { inspectEvidence, renderInspectText } = await import('../../evidence/index.ts')
        const summary = await inspectEvidence(env.globals.cwd, file)
        return { exitCode: ExitCode.ok, data: summary, text: renderInspectText(summary) }
      }),
    )
}
