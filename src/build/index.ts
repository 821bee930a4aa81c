/**
 * `detbuild build`: stage the tracked source, run install + build with a pinned toolchain in a scrubbed
 * environment (no network where the OS allows it), normalize and hash the outputs, write build.json and
 * the SLSA provenance. `check` builds a second time under varied conditions and compares.
 */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { glob, mkdir, mkdtemp, readFile, rm, utimes } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import ssri from 'ssri'
import type { BuildConfig } from '../config/build-config.ts'
import { toConfigRecord } from '../config/build-config.ts'
import { resolveBuildHostSettings } from '../config/build-env.ts'
import { loadBuildConfig } from '../config/load-build-config.ts'
import { CheckFailedError, InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { exists, readTextFile, writeFileAtomic } from '../util/fs.ts'
import type { Logger } from '../util/log.ts'
import { compareCodePoint } from '../util/sort.ts'
import { WorkspaceFiles } from '../workspace.ts'
import { archiveKindOf, normalizeArchive } from './archive.ts'
import {
  compareOutputs,
  type Variation as ReportVariation,
  type ReproReport,
  toReportMarkdown,
} from './compare.ts'
import { toBuildEnv, type Variation } from './env.ts'
import { emptyLock, formatLock, LOCK_FILE, parseLock, type ToolchainLock } from './lockfile.ts'
import {
  type BuildFacts,
  type Isolation,
  type OutputRecord,
  toBuildManifest,
  toProvenance,
} from './manifest.ts'
import { prefetchPackages, toPrefetchList } from './prefetch.ts'
import { captureOutput, findOnPath, probeUnshare, runShell } from './run.ts'
import { inspectSource, type SourceInfo, stageSource, treeDigest } from './stage.ts'
import { type ResolvedToolchain, resolveToolchain } from './toolchain.ts'

/** Used when neither SOURCE_DATE_EPOCH nor a git commit gives a time: 1980-01-01T00:00:00Z (zip's epoch). */
export const DEFAULT_SOURCE_DATE_EPOCH = 315532800

export interface BuildOptions {
  cwd: string
  out: string
  configFile?: string
  check?: boolean
  cacheDir?: string
  registry?: string
  frozenLock?: boolean
  /** keep the staging folders (debugging) */
  keepStaging?: boolean
  hostEnv: NodeJS.ProcessEnv
  log: Logger
  /** platform/arch of the node package to fetch (default: this machine's) */
  platform?: string
  arch?: string
}

export interface BuildResult {
  manifest: Record<string, unknown>
  outputs: OutputRecord[]
  reproducible: boolean | null
  report: ReproReport | null
  lockWritten: boolean
}

interface RunVariant {
  label: 'first' | 'second'
  umask: number
  reverse: boolean
  variation?: Variation
  faketime: { bin: string; offset: string } | null
  stagingName: string
}

interface RunOutcome {
  outputs: Map<string, Buffer>
  normalized: Map<string, OutputRecord['normalized']>
  npmVersion: string
  treeSha256: string
  files: number
}

/** Streams a file once through sha256 and sha512. */
export async function hashFile(
  file: string,
): Promise<{ size: number; sha256: string; sha512: string; integrity: string }> {
  const s256 = createHash('sha256')
  const s512 = createHash('sha512')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    const b = chunk as Buffer
    s256.update(b)
    s512.update(b)
    size += b.length
  }
  const sha512 = s512.digest('hex')
  return { size, sha256: s256.digest('hex'), sha512, integrity: ssri.fromHex(sha512, 'sha512').toString() }
}

class LogSink {
  readonly chunks: string[] = []
  write(text: string): void {
    this.chunks.push(text)
  }
  text(): string {
    return this.chunks.join('')
  }
}

function fixedEnvRecord(env: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of [
    'LANG',
    'LC_ALL',
    'SOURCE_DATE_EPOCH',
    'TZ',
    'NO_UPDATE_NOTIFIER',
    'npm_config_audit',
    'npm_config_fund',
    'npm_config_offline',
    'npm_config_update_notifier',
  ]) {
    const v = env[name]
    if (v !== undefined) out[name] = v
  }
  for (const name of ['HOME', 'TMPDIR', 'npm_config_cache', 'npm_config_userconfig'])
    out[name] = '<fresh per build>'
  out.PATH = '<toolchain bin>:/usr/local/bin:/usr/bin:/bin'
  return out
}

async function collectOutputs(stageDir: string, patterns: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  for await (const entry of glob([...patterns], { cwd: stageDir, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const abs = path.join(entry.parentPath, entry.name)
    const rel = path.relative(stageDir, abs).split(path.sep).join('/')
    if (rel.startsWith('node_modules/')) continue
    const prev = found.get(entry.name)
    if (prev && prev !== abs)
      throw new InputError(
        'BUILD_OUTPUT_COLLISION',
        `two outputs are named ${entry.name}; artifacts/ is flat`,
        {
          details: { key: 'outputs', name: entry.name },
        },
      )
    found.set(entry.name, abs)
  }
  return new Map([...found].sort((a, b) => compareCodePoint(a[0], b[0])))
}

/** Runs the whole build and writes build.json, provenance, artifacts and (with check) the report. */
export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  const { cwd, out, log } = options
  const settings = resolveBuildHostSettings(options.hostEnv, cwd, {
    cacheDir: options.cacheDir,
    registry: options.registry,
  })
  const loaded = await loadBuildConfig(cwd, options.configFile)
  const config = loaded.config
  const source = await inspectSource(cwd, config.include, out)
  const sourceDateEpoch = settings.sourceDateEpoch ?? source.commitTime ?? DEFAULT_SOURCE_DATE_EPOCH
  const sourceDateEpochFrom: BuildFacts['sourceDateEpochFrom'] =
    settings.sourceDateEpoch !== undefined ? 'env' : source.commitTime !== null ? 'commit' : 'default'
  if (source.dirty) log.warn('the git worktree has uncommitted changes to tracked files (recorded as dirty)')

  const lockPath = path.join(cwd, LOCK_FILE)
  const lock: ToolchainLock = (await exists(lockPath))
    ? parseLock(await readTextFile(lockPath, 'BUILD_LOCK_INVALID', LOCK_FILE))
    : emptyLock()

  const tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'detbuild-'))
  const sink = new LogSink()
  const step = (line: string) => {
    log.info(line)
    sink.write(`# ${line}\n`)
  }
  try {
    step('toolchain: resolving')
    const toolchain = await resolveToolchain(config, {
      cacheDir: settings.cacheDir,
      registry: settings.registry,
      lock,
      frozenLock: options.frozenLock === true,
      hostPath: options.hostEnv.PATH,
      binDir: path.join(tmpRoot, 'toolchain-bin'),
      platform: options.platform ?? process.platform,
      arch: options.arch ?? process.arch,
    })
    let lockWritten = false
    if (toolchain.lockChanged) {
      await writeFileAtomic(lockPath, formatLock(toolchain.lock))
      lockWritten = true
      step(`toolchain: wrote ${LOCK_FILE}`)
    }
    step(`toolchain: node ${toolchain.node.version}${toolchain.node.pinned ? ' (pinned)' : ' (system)'}`)

    // network isolation
    let isolation: Isolation
    let unshare: string | null = null
    if (config.network === 'allow')
      isolation = { requested: 'allow', network: 'allowed', method: null, note: null }
    else if (process.platform === 'linux' && (await probeUnshare('/usr/bin:/bin:/usr/sbin:/sbin'))) {
      unshare = await findOnPath('unshare', '/usr/bin:/bin:/usr/sbin:/sbin')
      isolation = { requested: 'deny', network: 'none', method: 'unshare -rn', note: null }
    } else {
      isolation = {
        requested: 'deny',
        network: 'best-effort',
        method: null,
        note: 'unprivileged user namespaces are unavailable: npm runs --offline, but the commands can reach the network',
      }
      log.warn(`network isolation is best effort here: ${isolation.note}`)
    }
    step(`isolation: network ${isolation.network}${isolation.method ? ` (${isolation.method})` : ''}`)

    // the npm lockfile, and the prefetch that lets an offline install work
    const lockfileName =
      ['npm-shrinkwrap.json', 'package-lock.json'].find((f) => source.files.includes(f)) ?? null
    let lockfile: BuildFacts['lockfile'] = null
    const npmCache = path.join(settings.cacheDir, 'npm')
    if (lockfileName) {
      const text = await readFile(path.join(cwd, lockfileName))
      lockfile = { file: lockfileName, sha256: createHash('sha256').update(text).digest('hex') }
      if (config.network === 'deny' && config.install.length > 0) {
        let parsed: unknown
        try {
          parsed = JSON.parse(text.toString('utf8'))
        } catch (e) {
          throw new InputError('BUILD_LOCKFILE_INVALID', 'invalid JSON', { file: lockfileName, cause: e })
        }
        const items = toPrefetchList(parsed)
        step(`prefetch: ${items.length} package(s) into the npm cache`)
        await prefetchPackages(items, npmCache, settings.registry)
      }
    }

    const faketimeBin = await findOnPath('faketime', options.hostEnv.PATH)
    const variants: RunVariant[] = [
      { label: 'first', umask: 0o022, reverse: false, faketime: null, stagingName: 'src' },
    ]
    if (options.check)
      variants.push({
        label: 'second',
        umask: 0o077,
        reverse: true,
        faketime: faketimeBin ? { bin: faketimeBin, offset: '+400d' } : null,
        stagingName: 'a-different-and-much-longer-staging-folder/src',
        variation: {
          tz: 'Pacific/Kiritimati',
          locale: 'fr_CH.UTF-8',
          noise: { DETBUILD_CHECK_NOISE: 'reprotest-style noise', CAPTURE_ENVIRONMENT: '1', COLUMNS: '37' },
        },
      })

    const outcomes: RunOutcome[] = []
    let fixedEnv: Record<string, string> = {}
    for (const variant of variants) {
      step(`build: ${variant.label} run`)
      const root = await mkdtemp(path.join(tmpRoot, `${variant.label}-`))
      const stageDir = path.join(root, variant.stagingName)
      const home = path.join(root, 'home')
      const tmp = path.join(root, 'tmp')
      await Promise.all([mkdir(stageDir, { recursive: true }), mkdir(home), mkdir(tmp)])
      const staged = await stageSource(cwd, source.files, stageDir, { reverse: variant.reverse })
      const env = toBuildEnv({
        hostEnv: options.hostEnv,
        allowlist: config.env,
        home,
        tmp,
        pathDirs: toolchain.pathDirs,
        sourceDateEpoch,
        npmCache,
        registry: settings.registry,
        offline: config.network === 'deny',
        ...(variant.variation ? { variation: variant.variation } : {}),
      })
      if (variant.label === 'first') fixedEnv = fixedEnvRecord(env)
      const npmVersion = toolchain.npm.pinned
        ? toolchain.npm.version
        : ((await captureOutput('npm', ['--version'], env, stageDir)) ?? 'unknown')
      const runPhase = async (phase: 'install' | 'build', commands: readonly string[]) => {
        for (const command of commands) {
          sink.write(`$ ${command}\n`)
          log.debug(`${phase}: ${command}`)
          const phaseEnv =
            phase === 'install' && !config.scripts ? { ...env, npm_config_ignore_scripts: 'true' } : env
          const code = await runShell(command, {
            cwd: stageDir,
            env: phaseEnv,
            umask: variant.umask,
            unshare,
            faketime: variant.faketime,
            onOutput: (chunk) => sink.write(chunk),
          })
          if (code !== 0)
            throw new CheckFailedError(
              'BUILD_COMMAND_FAILED',
              `${phase} command "${command}" exited with ${code} (${variant.label} run; see ${WorkspaceFiles.buildLog})`,
              { details: { phase, command, exitCode: code, run: variant.label } },
            )
        }
      }
      await runPhase('install', config.install)
      await runPhase('build', config.build)
      const found = await collectOutputs(stageDir, config.outputs)
      if (found.size === 0)
        throw new CheckFailedError(
          'BUILD_NO_OUTPUTS',
          `no file matches outputs ${JSON.stringify(config.outputs)} after the build`,
          {
            details: { key: 'outputs' },
          },
        )
      const outputs = new Map<string, Buffer>()
      const normalized = new Map<string, OutputRecord['normalized']>()
      for (const [name, abs] of found) {
        const kind = archiveKindOf(name)
        const bytes = await readFile(abs)
        outputs.set(name, kind ? await normalizeArchive(kind, bytes, sourceDateEpoch, name) : bytes)
        normalized.set(name, kind)
      }
      outcomes.push({ outputs, normalized, npmVersion, treeSha256: treeDigest(staged), files: staged.length })
      if (!options.keepStaging) await rm(root, { recursive: true, force: true })
    }

    const first = outcomes[0] as RunOutcome
    let report: ReproReport | null = null
    if (options.check) {
      const second = outcomes[1] as RunOutcome
      const comparisons = await compareOutputs(first.outputs, second.outputs)
      const reproducible = comparisons.every((c) => c.status === 'identical')
      report = {
        schemaVersion: 1,
        reproducible,
        variations: describeVariations(variants),
        outputs: comparisons,
      }
      await writeFileAtomic(path.join(out, WorkspaceFiles.reproReport), stableJson(report))
      await writeFileAtomic(path.join(out, WorkspaceFiles.reproReportMd), toReportMarkdown(report))
      step(`check: ${reproducible ? 'reproducible' : 'NOT reproducible'}`)
    }

    // artifacts: written once, mtime = SOURCE_DATE_EPOCH, hashed in one streaming read each
    const artifactsDir = path.join(out, WorkspaceFiles.artifactsDir)
    await rm(artifactsDir, { recursive: true, force: true })
    const records: OutputRecord[] = []
    for (const [name, bytes] of first.outputs) {
      const file = path.join(artifactsDir, name)
      await writeFileAtomic(file, bytes)
      await utimes(file, sourceDateEpoch, sourceDateEpoch)
      records.push({
        path: `${WorkspaceFiles.artifactsDir}/${name}`,
        ...(await hashFile(file)),
        normalized: first.normalized.get(name) ?? null,
      })
    }

    const facts: BuildFacts = {
      source: toSourceRecord(source, first),
      sourceDateEpoch,
      sourceDateEpochFrom,
      config: { file: loaded.file, sha256: loaded.sha256, record: toConfigRecord(config) },
      lockfile,
      toolchain: toToolchainRecord(toolchain, first.npmVersion),
      commands: { install: [...config.install], build: [...config.build] },
      env: [...config.env],
      fixedEnv,
      isolation,
      reproducibility: {
        checked: options.check === true,
        reproducible: report ? report.reproducible : null,
        report: report ? WorkspaceFiles.reproReport : null,
      },
      outputs: records,
    }
    const manifest = toBuildManifest(facts)
    await writeFileAtomic(path.join(out, WorkspaceFiles.buildManifest), stableJson(manifest))
    await writeFileAtomic(path.join(out, WorkspaceFiles.provenance), stableJson(toProvenance(facts)))
    step(`outputs: ${records.length} artifact(s) in ${WorkspaceFiles.artifactsDir}/`)
    return {
      manifest,
      outputs: records,
      reproducible: report ? report.reproducible : null,
      report,
      lockWritten,
    }
  } finally {
    await writeFileAtomic(path.join(out, WorkspaceFiles.buildLog), sink.text())
    if (!options.keepStaging) await rm(tmpRoot, { recursive: true, force: true })
    else log.info(`staging kept in ${tmpRoot}`)
  }
}

function toSourceRecord(source: SourceInfo, run: RunOutcome): BuildFacts['source'] {
  return {
    kind: source.kind,
    repo: source.repo,
    commit: source.commit,
    dirty: source.dirty,
    treeSha256: run.treeSha256,
    files: run.files,
  }
}

function toToolchainRecord(t: ResolvedToolchain, npmVersion: string): BuildFacts['toolchain'] {
  return {
    node: {
      version: t.node.version,
      pinned: t.node.pinned,
      integrity: t.node.integrity,
      sha256: t.node.sha256,
      package: t.node.package,
    },
    npm: { version: npmVersion, pinned: t.npm.pinned, integrity: t.npm.integrity, package: t.npm.package },
  }
}

function describeVariations(variants: readonly RunVariant[]): ReportVariation[] {
  const [a, b] = variants as [RunVariant, RunVariant]
  const v = b.variation as Variation
  return [
    {
      name: 'staging path',
      applied: true,
      first: `<tmp>/${a.stagingName}`,
      second: `<tmp>/${b.stagingName}`,
    },
    { name: 'TZ', applied: true, first: 'UTC', second: v.tz },
    { name: 'locale (LC_ALL, LANG)', applied: true, first: 'C.UTF-8', second: v.locale },
    { name: 'umask', applied: true, first: '022', second: '077' },
    {
      name: 'extra environment',
      applied: true,
      first: '(none)',
      second: Object.keys(v.noise).sort(compareCodePoint).join(', '),
    },
    {
      name: 'clock',
      applied: b.faketime !== null,
      first: 'real time',
      second: b.faketime ? `faketime ${b.faketime.offset}` : 'real time',
      ...(b.faketime ? {} : { note: 'faketime is not on PATH (Debian package faketime)' }),
    },
    {
      name: 'directory order',
      applied: true,
      first: 'files staged in sorted order',
      second: 'files staged in reverse order',
      note: 'changes readdir order on file systems that list by creation; disorderfs is not used',
    },
  ]
}

export type { BuildConfig }
