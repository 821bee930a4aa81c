/** `detbuild scan`: flags → options → the scan core (loaded lazily). */
import path from 'node:path'
import { Option } from 'commander'
import { InputError } from '../../errors.ts'
import { type FailOn, FailOnLevels } from '../../flags/index.ts'
import { parseDuration } from '../../util/duration.ts'
import { keepHeapSmall } from '../../util/heap.ts'
import type { RegisterCommand } from '../context.ts'

interface ScanFlags {
  sbom?: string
  offlineDb?: string
  osvUrl?: string
  cacheDir?: string
  osvCache: boolean
  /** the deprecated spelling of --no-osv-cache */
  cache: boolean
  failOn?: FailOn
  omit: string[]
  ignoreFile: string[]
  timeout: string
  retries: string
  maxResponseBytes: string
  maxDbAge?: string
}

const collect = (value: string, previous: string[]): string[] => [...previous, value]

export const register: RegisterCommand = (program, registrar) => {
  program
    .command('scan')
    .description('check every SBOM component against OSV (API or offline export) and report vulnerabilities')
    .option(
      '--sbom <file>',
      'SBOM to scan: CycloneDX JSON or XML, SPDX 2.3 JSON or SPDX 3.0.1 JSON-LD, detected from the content (default: <out>/sbom.cdx.json)',
    )
    .option(
      '--offline-db <path>',
      'OSV export: a zip of OSV records (e.g. npm/all.zip) or a folder of OSV JSON files',
    )
    .option('--osv-url <url>', 'OSV API base URL (mirror or private instance)', 'https://api.osv.dev')
    .option(
      '--cache-dir <dir>',
      'OSV record cache (default: $XDG_CACHE_HOME/detbuild/osv or ~/.cache/detbuild/osv)',
    )
    .option('--no-osv-cache', 'do not read or write the OSV record cache')
    // the name before `run --no-osv-cache` and this became one flag: still accepted, with a warning
    .addOption(new Option('--no-cache').hideHelp())
    .addOption(
      new Option('--fail-on <severity>', 'exit 1 when an open finding is at or above this severity').choices(
        FailOnLevels,
      ),
    )
    .addOption(
      new Option('--omit <type>', 'leave out dependencies of this type (dev)')
        .choices(['dev'])
        .argParser(collect)
        .default([]),
    )
    .option(
      '--ignore-file <file>',
      'ignore file (detbuild.ignore.json/.yaml or osv-scanner.toml); repeatable',
      collect,
      [],
    )
    .option(
      '--max-db-age <days>',
      "with --offline-db: incomplete (exit 3) when the export's newest record is older than this",
    )
    .option('--timeout <duration>', 'per-request timeout for the OSV API, e.g. 30s or 500ms', '30s')
    .option('--retries <n>', 'retries per OSV request on 429/5xx/network errors', '4')
    .option(
      '--max-response-bytes <n>',
      'largest OSV API reply accepted, in bytes; a larger one is aborted and its packages are unchecked',
      // DefaultMaxResponseBytes (32 MiB); the literal keeps the scan core out of the CLI's start-up
      '33554432',
    )
    .action(
      registrar.wrap<ScanFlags>(async (flags, env) => {
        const timeout = parseDuration(flags.timeout, 'ms')
        if (!timeout)
          throw new InputError(
            'SCAN_USAGE',
            `--timeout must be a duration such as 30s or 500ms (at most 24 days), not ${JSON.stringify(flags.timeout)}`,
          )
        if (timeout.bare)
          env.log.warn(
            `--timeout ${flags.timeout} without a unit is deprecated: it is read as milliseconds; write --timeout ${flags.timeout}ms`,
          )
        if (flags.cache === false) env.log.warn('--no-cache is deprecated: use --no-osv-cache')
        const timeoutMs = timeout.ms
        const retries = toInt(flags.retries, '--retries', 0)
        const maxResponseBytes = toInt(flags.maxResponseBytes, '--max-response-bytes', 1)
        if (flags.offlineDb && flags.osvUrl && flags.osvUrl !== 'https://api.osv.dev') {
          throw new InputError('SCAN_USAGE', '--offline-db and --osv-url cannot be used together')
        }
        const core = await import('../../scan/index.ts')
        const context = await env.resolveContext()
        keepHeapSmall()
        const result = await core.runScan({
          cwd: env.globals.cwd,
          out: env.globals.out,
          ...(flags.sbom ? { sbom: flags.sbom } : {}),
          ...(flags.offlineDb ? { offlineDb: flags.offlineDb } : {}),
          ...(flags.maxDbAge !== undefined ? { maxDbAgeDays: toInt(flags.maxDbAge, '--max-db-age', 1) } : {}),
          osvUrl: flags.osvUrl ?? core.DefaultOsvUrl,
          cacheDir:
            flags.osvCache === false || flags.cache === false
              ? null
              : (flags.cacheDir ?? path.join(context.cacheRoot, core.OsvCacheFolder)),
          failOn: flags.failOn ?? null,
          omitDev: flags.omit.includes('dev'),
          ignoreFiles: flags.ignoreFile,
          env: context.env,
          sourceDateEpoch: context.sourceDate.epoch,
          now: context.clock(),
          log: env.log,
          client: { timeoutMs, retries, maxResponseBytes },
        })
        return {
          exitCode: result.exitCode,
          data: { ...result.report, files: result.files },
          text: result.text,
        }
      }),
    )
}

function toInt(value: string, flag: string, min: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min)
    throw new InputError('SCAN_USAGE', `${flag} must be an integer ≥ ${min}`)
  return n
}
