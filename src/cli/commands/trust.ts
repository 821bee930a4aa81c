/** `detbuild trust export`: the trusted root a deploy gate pins for offline verification. */
import { ExitCode } from '../../errors.ts'
import { plural } from '../../util/plural.ts'
import type { RegisterCommand } from '../context.ts'

interface TrustExportFlags {
  output: string
  trustedRoot?: string
  offline?: boolean
  force?: boolean
}

export const register: RegisterCommand = (program, registrar) => {
  const trust = program
    .command('trust')
    .summary('trust material for offline verification')
    .description(
      'Trust material for offline verification: `detbuild trust export` writes a trusted root to pin.',
    )
  trust
    .command('export')
    .description(
      'write the sigstore trusted root to pin for `verify --trusted-root FILE --offline`: the public-good root\n' +
        'through TUF (network), or a given --trusted-root checked and normalized; deterministic output',
    )
    .option('--output <file>', 'where to write it, relative to --cwd', 'trusted_root.json')
    .option('--trusted-root <file>', 'export this trusted_root.json instead of the public-good root')
    .option('--offline', 'never use the network (only with --trusted-root)', false)
    .option('--force', 'overwrite an existing file', false)
    .addHelpText(
      'after',
      '\nExamples:\n  detbuild trust export --output trusted_root.json\n  detbuild trust export --trusted-root private-root.json --output pinned/trusted_root.json --offline',
    )
    .action(
      registrar.wrap<TrustExportFlags>(async (flags, env) => {
        const path = await import('node:path')
        const { InputError } = await import('../../errors.ts')
        const { exists, toPosixRelative, writeFileAtomic } = await import('../../util/fs.ts')
        const { exportTrustedRoot } = await import('../../verify/index.ts')
        const cwd = env.globals.cwd
        const file = path.resolve(cwd, flags.output)
        const shown = toPosixRelative(cwd, file)
        if (!flags.force && (await exists(file)))
          throw new InputError('VERIFY_USAGE', 'already exists (use --force to overwrite)', { file: shown })
        const exported = await exportTrustedRoot({
          cwd,
          ...(flags.trustedRoot !== undefined ? { trustedRoot: flags.trustedRoot } : {}),
          offline: flags.offline === true,
        })
        await writeFileAtomic(file, exported.text, 0o644, shown)
        const c = exported.counts
        const data = { file: shown, sha256: exported.sha256, source: exported.source, ...c }
        return {
          exitCode: ExitCode.ok,
          data,
          text:
            `wrote ${shown} (sha256:${exported.sha256}) from ${exported.source}: ` +
            `${plural(c.certificateAuthorities, 'certificate authority', 'certificate authorities')}, ${plural(c.tlogs, 'transparency log')}, ${plural(c.ctlogs, 'CT log')}, ${plural(c.timestampAuthorities, 'timestamp authority', 'timestamp authorities')}`,
        }
      }),
    )
}
