import { ExitCode } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

interface LockFlags {
  config?: string
  cacheDir?: string
  registry?: string
  platform?: string[]
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('lock')
    .description('pin the configured toolchain: fetch, verify and record its integrity in detbuild.lock')
    .option('--config <file>', 'configuration file (default: detbuild.config.json, .yaml or .yml)')
    .option('--cache-dir <dir>', 'toolchain cache (default: $XDG_CACHE_HOME/detbuild or ~/.cache/detbuild)')
    .option('--registry <url>', 'npm registry (default: npm_config_registry or the public registry)')
    .option('--platform <os-arch...>', 'also lock node for these platforms, e.g. linux-x64 darwin-arm64')
    .action(
      registrar.wrap<LockFlags>(async (flags, env) => {
        const { lockToolchain } = await import('../../builder/index.ts')
        const context = await env.resolveContext({
          readConfig: true,
          ...(flags.config ? { configFile: flags.config } : {}),
          ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
        })
        const result = await lockToolchain({
          cwd: env.globals.cwd,
          context,
          hostEnv: context.env,
          registry: flags.registry,
          platforms: flags.platform,
        })
        const text = result.added.length
          ? `added ${result.added.join(', ')} to ${result.file}`
          : `${result.file} is up to date`
        return { exitCode: ExitCode.ok, data: result, text }
      }),
    )
}
