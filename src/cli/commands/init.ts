import { ExitCode } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('init')
    .description(
      'detect the project (lockfile, engines, .nvmrc, build script, workspaces) and write detbuild.config.json',
    )
    .option('--force', 'overwrite an existing configuration')
    .action(
      registrar.wrap<{ force?: boolean }>(async (flags, env) => {
        const { initProject } = await import('../../builder/index.ts')
        const context = await env.resolveContext()
        const result = await initProject(env.globals.cwd, {
          force: flags.force === true,
          currentNode: process.versions.node,
          hostPath: context.env.PATH,
        })
        for (const w of result.warnings) env.log.warn(w)
        return { exitCode: ExitCode.ok, data: result, text: `wrote ${result.file}` }
      }),
    )
}
