/** `detbuild run`: flags → RunOptions → the pipeline (src/run), with a live step list or plain lines. */
import path from 'node:path'
import { Option } from 'commander'
import { FailOnLevels, SIGNING_FLAGS, TRUST_FLAGS } from '../../flags/index.ts'
import type { Demo, RunInput } from '../../run/index.ts'
import type { SignFlags } from '../../sign/index.ts'
import type { TrustFlags } from '../../verify/index.ts'
import type { RegisterCommand } from '../context.ts'
import { addRunFlags, runFlagValues } from '../signing-options.ts'

/**
 * What commander hands over: the pipeline's inputs (src/run/resolve.ts) as flags; the sign and verify
 * flags are their steps' own (flags/signing.ts, flags/trust.ts), read by `runFlagValues`.
 */
type RunFlags = Omit<
  RunInput,
  'cwd' | 'out' | 'env' | 'context' | 'now' | 'log' | 'omitDev' | 'signing' | 'trust'
> & {
  steps: string[]
  skip: string[]
  demo?: boolean
  omit: string[]
  vex: string[]
  key?: string
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

export const register: RegisterCommand = (program, registrar) => {
  const command = program
    .command('run')
    .summary('run the whole pipeline: build, sbom, scan, policy, sign, bundle, verify')
    .description(
      'Runs the enabled steps in order, calling each step in-process; stops at the first failure with\n' +
        "that step's exit code and prints one summary. Steps come from --steps/--skip, else the config's\n" +
        '`run.steps`, else all. --demo runs everything on the embedded fixture, offline.',
    )
    .option('--steps <list>', 'only these steps (comma-separated, repeatable)', collect, [])
    .option('--skip <list>', 'leave out these steps (comma-separated, repeatable)', collect, [])
    .option('--demo', 'the embedded default: fixtures/ts-lib, offline OSV records, a throwaway key')
    .option('--config <file>', 'configuration file (default: detbuild.config.json, .yaml or .yml)')
    .option('--check', 'build: build twice and compare (exit 1 if not reproducible)')
    .option('--cache-dir <dir>', 'build: toolchain and npm cache')
    .option('--registry <url>', 'build: npm registry for toolchain packages')
    .option('--frozen-lock', 'build: fail instead of adding toolchain entries to detbuild.lock')
    .option('--offline-db <path>', 'scan: OSV export (zip or folder of OSV JSON) instead of the API')
    .option('--osv-url <url>', 'scan: OSV API base URL (default https://api.osv.dev)')
    .option('--no-osv-cache', 'scan: do not read or write the OSV record cache')
    .addOption(
      new Option('--fail-on <severity>', 'scan: fail on open findings at or above this severity').choices(
        FailOnLevels,
      ),
    )
    .addOption(
      new Option('--omit <type>', 'scan: leave out dev dependencies')
        .choices(['dev'])
        .argParser(collect)
        .default([]),
    )
    .option('--policy <name|file>', 'policy: shipped policy name or a policy file')
    .option('--vex <file>', 'policy: OpenVEX or CycloneDX VEX document (repeatable)', collect, [])
    .option('--warn-only', 'policy: report failing rules without failing')
    .addOption(
      new Option('--sign <mode>', 'sign: auto (keyless when an OIDC token is available), none, keyless, key')
        .choices(['auto', 'none', 'keyless', 'key'])
        .default(undefined),
    )
  addRunFlags(command, SIGNING_FLAGS, 'sign')
    .option('--no-sign-artifacts', 'sign: sign the provenance only, not each artifact')
    .option('--no-verify', 'do not verify the evidence at the end')
  addRunFlags(command, TRUST_FLAGS, 'verify')
    .addHelpText(
      'after',
      '\nExamples:\n  detbuild run --demo\n  detbuild run --offline-db osv/npm-all.zip --fail-on high --sign key --key detbuild.key\n  detbuild run --steps sbom,scan,policy',
    )
    .action(
      registrar.wrap<RunFlags>(async (flags, env) => {
        const run = await import('../../run/index.ts')
        const { globals } = env
        let cwd = globals.cwd
        let out = globals.out
        let extraEnv: Record<string, string> | undefined
        let demo: Demo | undefined
        const input: Partial<import('../../run/index.ts').RunInput> = {}
        if (flags.demo) {
          const { prepareDemo } = await import('../../run/index.ts')
          demo = await prepareDemo()
          // an --out left at its default follows the demo project
          if (out === path.join(cwd, '.detbuild')) out = path.join(demo.cwd, '.detbuild')
          cwd = demo.cwd
          extraEnv = demo.env
          Object.assign(input, {
            config: demo.config,
            offlineDb: demo.offlineDb,
            sign: 'key',
          })
        }
        // the demo's choices are defaults: explicit flags win
        const signing: NonNullable<RunInput['signing']> = {
          // the throwaway key stays in memory; a --key given with --demo wins
          ...(demo && flags.key === undefined ? { keyPem: demo.keyPem } : {}),
          ...(demo ? { tlog: false } : {}),
          ...runFlagValues<SignFlags>(flags, SIGNING_FLAGS),
        }
        const trust: NonNullable<RunInput['trust']> = {
          ...(demo ? { key: demo.publicKey, trustedRoot: demo.trustedRoot, insecureIgnoreTlog: true } : {}),
          ...runFlagValues<TrustFlags>(flags, TRUST_FLAGS),
        }
        try {
          // the edge: one context for the whole run (the demo's project when --demo), the config read once
          const config = flags.config ?? (input.config as string | undefined)
          const context = await env.resolveContext({
            cwd,
            readConfig: true,
            ...(config?.trim() ? { configFile: config } : {}),
            ...(flags.cacheDir?.trim() ? { cacheDir: flags.cacheDir } : {}),
            allowEnv: [signing.keyPasswordEnv ?? 'DETBUILD_KEY_PASSWORD'],
            ...(extraEnv ? { extraEnv } : {}),
          })
          const options = await run.resolveRunOptions({
            cwd,
            out,
            steps: flags.steps,
            skip: flags.skip,
            // the demo's choices are defaults: explicit flags win
            ...input,
            ...defined({
              config: flags.config,
              cacheDir: flags.cacheDir,
              registry: flags.registry,
              offlineDb: flags.offlineDb,
              osvUrl: flags.osvUrl,
              failOn: flags.failOn,
              policy: flags.policy,
              sign: flags.sign,
            }),
            signing,
            trust,
            check: flags.check === true,
            frozenLock: flags.frozenLock === true,
            osvCache: flags.osvCache,
            omitDev: flags.omit.includes('dev'),
            vex: flags.vex,
            warnOnly: flags.warnOnly === true,
            signArtifacts: flags.signArtifacts,
            verify: flags.verify,
            context,
            now: context.clock(),
            log: env.log,
          })
          const live =
            process.stderr.isTTY === true && !globals.quiet && !globals.json && (context.env.CI ?? '') === ''
          const progress = live
            ? run.createLiveProgress(options.steps, process.stderr, { color: globals.color })
            : globals.quiet || globals.json
              ? undefined
              : run.createPlainProgress((line) => env.log.info(line))
          const report = await run.runDetbuild(
            progress ? { ...options, log: progress.wrapLogger(options.log) } : options,
            {
              ...progress,
              onBug: (step, e) => env.log.debug(`${step}: ${(e as Error)?.stack ?? String(e)}`),
            },
          )
          progress?.finish()
          const text = run.toSummaryText(report)
          return {
            exitCode: report.exitCode,
            data: report,
            text: demo ? `${text}demo: throwaway public key kept at ${demo.publicKey}\n` : text,
          }
        } finally {
          await demo?.dispose()
        }
      }),
    )
}

/** Drops undefined values (commander leaves unset options undefined). */
function defined<T extends Record<string, string | undefined>>(o: T): Partial<Record<keyof T, string>> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<
    Record<keyof T, string>
  >
}
