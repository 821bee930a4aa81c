import { type ErrorCode, ExitCode } from '../../errors.ts'
import type { RegisterCommand } from '../context.ts'

interface BuildFlags {
  check?: boolean
  strict?: boolean
  config?: string
  cacheDir?: string
  registry?: string
  frozenLock?: boolean
  keepStaging?: boolean
}

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('build')
    .description(
      'rebuild the project hermetically with a pinned toolchain; normalize, hash and attest the outputs',
    )
    .option('--check', 'build twice under varied conditions and compare every output (exit 1 if they differ)')
    .option(
      '--strict',
      'with --check (implied): exit 1 when a variation did not take effect (BUILD_VARIATION_SKIPPED)',
    )
    .option('--config <file>', 'configuration file (default: detbuild.config.json, .yaml or .yml)')
    .option(
      '--cache-dir <dir>',
      'toolchain and npm cache (default: $XDG_CACHE_HOME/detbuild or ~/.cache/detbuild)',
    )
    .option(
      '--registry <url>',
      'npm registry for toolchain packages (default: npm_config_registry or the public registry)',
    )
    .option('--frozen-lock', 'fail instead of adding missing toolchain entries to detbuild.lock (CI)')
    .option('--keep-staging', 'keep the staging folders for debugging')
    .action(
      registrar.wrap<BuildFlags>(async (flags, env) => {
        const { runBuild, toBuildSteps } = await import('../../builder/index.ts')
        const { createLiveProgress, createPlainProgress } = await import('../../util/progress.ts')
        const { globals } = env
        // the edge: the source date, the cache root and the config file, resolved once
        const context = await env.resolveContext({
          readConfig: true,
          ...(flags.config ? { configFile: flags.config } : {}),
          ...(flags.cacheDir ? { cacheDir: flags.cacheDir } : {}),
        })
        // a live step list on a TTY; plain lines (no timestamps) in CI and pipes; nothing with --quiet
        const live =
          process.stderr.isTTY === true && !globals.quiet && !globals.json && (context.env.CI ?? '') === ''
        const progress = live
          ? createLiveProgress(toBuildSteps(flags.check === true || flags.strict === true), process.stderr, {
              color: globals.color,
            })
          : globals.quiet
            ? undefined
            : createPlainProgress((line) => env.log.info(line))
        const log = progress ? progress.wrapLogger(env.log) : env.log
        const result = await runBuild({
          cwd: env.globals.cwd,
          out: env.globals.out,
          check: flags.check === true || flags.strict === true,
          strict: flags.strict === true,
          context,
          registry: flags.registry,
          frozenLock: flags.frozenLock === true,
          keepStaging: flags.keepStaging === true,
          hostEnv: context.env,
          log,
          ...(progress ? { progress } : {}),
        }).finally(() => progress?.finish())
        const notReproducible = result.reproducible === false
        // --strict: a variation that did not take effect leaves the answer open, and that is a "no"
        const skippedFails = flags.strict === true && result.skipped.length > 0
        const code: ErrorCode | null = notReproducible
          ? 'BUILD_NOT_REPRODUCIBLE'
          : skippedFails
            ? 'BUILD_VARIATION_SKIPPED'
            : null
        const lines = result.outputs.map((o) => `${o.sha256}  ${o.path}`)
        if (result.verdict !== null)
          lines.push(`${result.verdict}${notReproducible ? ' (see repro-report.md)' : ''}`)
        if (skippedFails && !notReproducible)
          lines.push(`--strict: not every variation took effect (${result.skipped.join(', ')})`)
        return {
          exitCode: code !== null ? ExitCode.checkFailed : ExitCode.ok,
          data: {
            ...(code !== null ? { code } : {}),
            ...(result.verdict !== null ? { verdict: result.verdict, notVaried: result.skipped } : {}),
            build: result.manifest,
            lockWritten: result.lockWritten,
          },
          text: lines.join('\n'),
        }
      }),
    )
}
