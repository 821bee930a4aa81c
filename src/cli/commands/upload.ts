/** `detbuild upload`: flags → options → the upload core (loaded lazily). The API key comes from the environment only. */
import { ExitCode, InputError } from '../../errors.ts'
import { parseDuration } from '../../util/duration.ts'
import type { RegisterCommand } from '../context.ts'

interface UploadFlags {
  url: string
  project?: string
  projectName?: string
  projectVersion?: string
  autoCreate: boolean
  parent?: string
  parentName?: string
  parentVersion?: string
  sbom?: string
  vex: boolean
  apiKeyEnv: string
  allowHttp: boolean
  wait: string
}

/** The variable the API key is read from by default (the Action reads the same: action/upload-step.ts). */
const API_KEY_ENV = 'DEPENDENCY_TRACK_API_KEY'

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('upload')
    .description(
      'send <out>/sbom.cdx.json (and a CycloneDX VEX made from the policy exceptions in force) to a Dependency-Track server, and wait until it is processed',
    )
    .requiredOption('--url <url>', 'the Dependency-Track API server, e.g. https://dtrack.example.com')
    .option('--project <uuid>', 'the project, by UUID')
    .option('--project-name <name>', "the project's name (default: the SBOM's root component)")
    .option('--project-version <version>', "the project's version (default: the SBOM's root component)")
    .option('--auto-create', 'create the project (by name and version) when it does not exist', false)
    .option('--parent <uuid>', 'with --auto-create: the parent project, by UUID')
    .option('--parent-name <name>', 'with --auto-create: the parent project, by name')
    .option('--parent-version <version>', 'with --parent-name: the parent project version')
    .option('--sbom <file>', 'CycloneDX JSON SBOM to send (default: <out>/sbom.cdx.json)')
    .option('--no-vex', 'do not send a VEX made from policy.json exceptions')
    .option('--api-key-env <name>', 'environment variable holding the API key', API_KEY_ENV)
    .option(
      '--allow-http',
      'allow http:// to a host other than the loopback address (the key is sent in clear)',
      false,
    )
    .option(
      '--wait <duration>',
      'how long the upload may take, server processing included (30s, 5m; a bare number is seconds)',
      '5m',
    )
    .action(
      registrar.wrap<UploadFlags>(async (flags, env) => {
        const wait = parseDuration(flags.wait, 's')
        if (wait === undefined || wait.ms < 1000)
          throw new InputError('UPLOAD_USAGE', '--wait must be a duration of at least 1s (e.g. 30s, 5m)')
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.apiKeyEnv))
          throw new InputError('UPLOAD_USAGE', '--api-key-env must be an environment variable name')
        if (
          flags.project !== undefined &&
          (flags.projectName !== undefined || flags.projectVersion !== undefined)
        )
          throw new InputError(
            'UPLOAD_USAGE',
            '--project names the project by UUID: not with --project-name/--project-version',
          )
        if (flags.parent !== undefined && flags.parentName !== undefined)
          throw new InputError('UPLOAD_USAGE', '--parent and --parent-name cannot be used together')
        if (flags.parentVersion !== undefined && flags.parentName === undefined)
          throw new InputError('UPLOAD_USAGE', '--parent-version needs --parent-name')
        const core = await import('../../upload/index.ts')
        const context = await env.resolveContext({ allowEnv: [flags.apiKeyEnv] })
        const parent =
          flags.parent !== undefined
            ? { uuid: core.toUuid(flags.parent, '--parent') }
            : flags.parentName !== undefined
              ? {
                  name: flags.parentName,
                  ...(flags.parentVersion !== undefined ? { version: flags.parentVersion } : {}),
                }
              : undefined
        const result = await core.runUpload({
          cwd: env.globals.cwd,
          out: env.globals.out,
          url: flags.url,
          apiKey: context.env[flags.apiKeyEnv],
          apiKeyEnv: flags.apiKeyEnv,
          project:
            flags.project !== undefined
              ? { uuid: core.toUuid(flags.project, '--project') }
              : {
                  ...(flags.projectName !== undefined ? { name: flags.projectName } : {}),
                  ...(flags.projectVersion !== undefined ? { version: flags.projectVersion } : {}),
                },
          autoCreate: flags.autoCreate,
          ...(parent ? { parent } : {}),
          ...(flags.sbom !== undefined ? { sbom: flags.sbom } : {}),
          vex: flags.vex,
          allowHttp: flags.allowHttp,
          waitMs: wait.ms,
          sourceDateEpoch: context.sourceDate.epoch,
          log: env.log,
        })
        return {
          exitCode: ExitCode.ok,
          data: { ...result.record, notes: result.notes, files: result.files },
          text: core.toUploadText(result),
        }
      }),
    )
}
