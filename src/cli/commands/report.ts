/** `detbuild report`: one self-contained HTML page of the workspace's evidence (flags → options → core). */
import { ExitCode } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

interface ReportFlags {
  output?: string
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('report')
    .description(
      'write one self-contained HTML page (no network, deterministic bytes) of the build, dependencies, findings, licences, policy, signatures and digests: <out>/report.html',
    )
    .option('--output <file>', 'page to write (default: <out>/report.html)')
    .action(
      registrar.wrap<ReportFlags>(async (flags, env) => {
        const { writeReport, renderReportText } = await import('../../report/index.ts')
        const result = await writeReport({
          cwd: env.globals.cwd,
          out: env.globals.out,
          ...(flags.output !== undefined ? { output: flags.output } : {}),
        })
        return { exitCode: ExitCode.ok, data: result, text: renderReportText(result) }
      }),
    )
}
