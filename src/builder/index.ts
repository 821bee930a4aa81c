/**
 * `detbuild build`: stage the tracked source, run install + build with a pinned toolchain in a scrubbed
 * environment (no network where the OS allows it), normalize and hash the outputs, write build.json and
 * the SLSA provenance. `check` builds a second time under varied conditions and compares.
 */
import { copyFile, glob, link, mkdir, mkdtemp, readFile, realpath, rm, stat, utimes } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import {
  type BuildConfig,
  type Context,
  resolveBuildHostSettings,
  resolveContext,
  type SourceDate,
  toConfigRecord,
  toLoadedConfig,
} from '../config/index.ts'
import { resolveChecksumDatabase, resolveGoProxy } from '../ecosystems/index.ts'
import { CheckFailedError, InputError } from '../errors.ts'
import { type Digests, digestFile, sha256Hex } from '../util/digest.ts'
import { useEnvProxy } from '../util/env-proxy.ts'
import { fileNameProblem, quoteFileName } from '../util/file-name.ts'
import { copyFileAtomic, exists, readTextFile, writeFileAtomic } from '../util/fs.ts'
import { parseJson } from '../util/json-parse.ts'
import type { Logger } from '../util/log.ts'
import { plural } from '../util/plural.ts'
import type { ProgressHooks } from '../util/progress.ts'
import { redactDeep } from '../util/redact.ts'
import { compareCodePoint } from '../util/sort.ts'
import { GZIP_LEVEL } from '../util/tar.ts'
import {
  type BuildManifest,
  WorkspaceFiles,
  writeBuildManifest,
  writeProvenance,
  writeReproReport,
} from '../workspace/index.ts'
import { archiveKindOf, normalizeArchiveFile, ZIP_DEFLATE_LEVEL } from './archive.ts'
import { type BuildLog, openBuildLog } from './build-log.ts'
import {
  describeVariations,
  findCheckTools,
  mountDisorderfs,
  nodeClockHeld,
  planVariants,
  probeCreationOrder,
  type RunFacts,
  type RunVariant,
  roomIdentityFor,
  shapeRun,
  shiftSourceTimes,
} from './check-variants.ts'
import { PROBE_COMMAND } from './clock-shift.ts'
import {
  compareOutputs,
  type OutputComparison,
  type ReproReport,
  skippedVariations,
  toReportMarkdown,
  toVerdict,
} from './compare.ts'
import { GIT_ROOM_ENV, isLocaleName, toBuildEnv, toNetworkEnvNames } from './env.ts'
import { type FetchOptions, resolveFetchOptions } from './fetch-options.ts'
import { assertGitSource, makeGitRoom } from './git-room.ts'
import {
  GO_ENV_NAMES,
  type GoPrefetched,
  prefetchGoModules,
  ROOM_GOROOT,
  seedRunModCache,
  toGoEnv,
} from './go-build.ts'
import { emptyLock, formatLock, LOCK_FILE, parseLock, type ToolchainLock } from './lockfile.ts'
import { type BuildFacts, type OutputRecord, toBuildManifest, toProvenance } from './manifest.ts'
import {
  installFolders,
  mergePrefetchLists,
  prefetchPackages,
  toPrefetchList,
  toScopeRegistries,
} from './prefetch.ts'
import { ROOM_PATHS, type RoomOptions, toRoomLayout, withRoomCaFiles } from './room.ts'
import {
  type IsolationProbe,
  inspectEtc,
  inspectSystem,
  prepareRoomFolders,
  type RoomCommand,
  type RoomRunner,
  resolveIsolation,
  writeRoomBin,
} from './room-host.ts'
import { captureOutput, runShell } from './run.ts'
import { inspectSource, type SourceInfo, type StagedFile, stageSource, treeDigest } from './stage.ts'
import { type BuildStep, createStepTracker, type StepTracker, toBuildSteps } from './steps.ts'
import { type ResolvedToolchain, resolveToolchain, UNKNOWN_NPM_VERSION } from './toolchain.ts'

/** build.json's `sourceDateEpochFrom` names the context's source (kept as build.json has always spelled it). */
const SOURCE_DATE_RECORDED: Readonly<Record<SourceDate['from'], BuildFacts['sourceDateEpochFrom']>> = {
  env: 'env',
  git: 'commit',
  default: 'default',
}

/** Options of {@link runBuild} (`detbuild build`): the project, the workspace folder and the build's knobs. */
export interface BuildOptions {
  cwd: string
  out: string
  /**
   * the resolved context (source date, cache root, config file: resolved with `readConfig`); without
   * one, it is resolved from `cwd`, `hostEnv`, `configFile` and `cacheDir`
   */
  context?: Context
  /** without a context: the config file (`--config`) */
  configFile?: string
  check?: boolean
  /** with check: a variation that did not take effect makes the check fail (BUILD_VARIATION_SKIPPED) */
  strict?: boolean
  /** without a context: the cache root (`--cache-dir`) */
  cacheDir?: string
  registry?: string
  frozenLock?: boolean
  /** keep the staging folders (debugging) */
  keepStaging?: boolean
  hostEnv: NodeJS.ProcessEnv
  log: Logger
  /** the progress display (`detbuild build`); without it the phases go to `log.info` */
  progress?: ProgressHooks<BuildStep>
  /**
   * variables the caller holds its own credentials in (the key passphrase's `--key-password-env`):
   * a config that passes one to the build is refused (CONFIG_ENV_SECRET)
   */
  withheldEnv?: readonly string[]
  /** platform/arch of the node package to fetch (default: this machine's) */
  platform?: string
  arch?: string
}

/** What {@link runBuild} wrote: the build.json manifest, the output artifacts and, with `check`, the repro verdict. */
export interface BuildResult {
  manifest: BuildManifest
  outputs: OutputRecord[]
  reproducible: boolean | null
  report: ReproReport | null
  /** with check: the one-line verdict ("reproducible under N variations; not varied: …") */
  verdict: string | null
  /** with check: the variations that did not take effect */
  skipped: string[]
  lockWritten: boolean
}

/**
 * One output of a run: a private copy (an archive re-packed) outside the staging folder, its digests and
 * whether the build left it executable by its owner (a Go or native binary: its artifact is written 0755).
 */
interface OutputFile {
  file: string
  digests: Digests
  executable: boolean
}

interface RunOutcome {
  outputs: Map<string, OutputFile>
  normalized: Map<string, OutputRecord['normalized']>
  treeSha256: string
  files: number
}

function fixedEnvRecord(
  env: Record<string, string>,
  allowlist: readonly string[],
  sealed: boolean,
): Record<string, string> {
  const out: Record<string, string> = {}
  // TZ and locale names the config lets through are host values, not fixed ones
  const passed = (name: string) =>
    (name === 'TZ' && allowlist.includes('TZ')) ||
    ((name === 'LANG' || name === 'LC_ALL') && allowlist.some(isLocaleName))
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
    ...Object.keys(GIT_ROOM_ENV),
    ...GO_ENV_NAMES,
  ]) {
    const v = env[name]
    if (v !== undefined && !passed(name)) out[name] = v
  }
  const perRun = ['HOME', 'TMPDIR', 'npm_config_cache', 'npm_config_logs_dir', 'npm_config_userconfig']
  // a Go build's folders under HOME: fixed paths in the room, fresh folders on the host
  if (!sealed) for (const name of ['GOPATH', 'GOMODCACHE', 'GOCACHE']) if (name in out) perRun.push(name)
  // in the sealed room these are the room's fixed paths; on the host they are fresh temp folders
  for (const name of perRun) out[name] = sealed ? (env[name] as string) : '<fresh per build>'
  out.PATH = sealed ? (env.PATH as string) : '<toolchain bin>:/usr/local/bin:/usr/bin:/bin'
  return out
}

async function collectOutputs(stageDir: string, patterns: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>()
  // build code decides what the build tree holds: a symlinked folder or file may point anywhere on the
  // host, so every match is resolved and must stay inside the tree (it is read from where it resolves)
  const root = await realpath(stageDir)
  for await (const entry of glob([...patterns], { cwd: stageDir, withFileTypes: true })) {
    if (!entry.isFile() && !entry.isSymbolicLink()) continue
    const shown = path.relative(stageDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/')
    if (shown.startsWith('node_modules/')) continue
    // an artifact's name reaches logs, sha256sum lines and CI commands: control characters are refused
    // (in every part of its path: a folder name that is not UTF-8 could not even be resolved)
    const problem = fileNameProblem(entry.name) ?? fileNameProblem(shown)
    if (problem !== null)
      throw new InputError('BUILD_OUTPUT_NAME_INVALID', `output ${quoteFileName(shown)} ${problem}`, {
        details: { key: 'outputs', name: quoteFileName(entry.name) },
      })
    let abs: string
    try {
      abs = await realpath(path.join(entry.parentPath, entry.name))
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue // a dangling link is no output
      throw e
    }
    const inside = path.relative(root, abs)
    if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside))
      throw new InputError(
        'BUILD_OUTPUT_OUTSIDE',
        `output ${quoteFileName(shown)} resolves outside the build tree (a symlink): host files are never artifacts`,
        { details: { key: 'outputs', name: quoteFileName(shown) } },
      )
    if (!(await stat(abs)).isFile()) continue
    if (inside.split(path.sep).join('/').startsWith('node_modules/')) continue
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

interface StagedRun {
  root: string
  stageDir: string
  home: string
  tmp: string
  staged: StagedFile[]
}

/** A fresh folder for one run: the staged source, an empty HOME and TMPDIR (the room's, when sealed). */
async function prepareRun(
  tmpRoot: string,
  variant: RunVariant,
  cwd: string,
  files: readonly string[],
  onPrivateKey?: (rel: string) => void,
  git?: { commit: string; sourceDateEpoch: number; hostEnv: NodeJS.ProcessEnv },
): Promise<StagedRun> {
  const root = await mkdtemp(path.join(tmpRoot, `${variant.label}-`))
  const stageDir = path.join(root, variant.stagingName)
  const home = path.join(root, 'home')
  const tmp = path.join(root, 'tmp')
  await Promise.all([mkdir(stageDir, { recursive: true }), mkdir(home), mkdir(tmp)])
  const staged = await stageSource(cwd, files, stageDir, {
    reverse: variant.reverse,
    ...(onPrivateKey ? { onPrivateKey } : {}),
  })
  if (git) await makeGitRoom(cwd, stageDir, git.commit, git.sourceDateEpoch, git.hostEnv)
  return { root, stageDir, home, tmp, staged }
}

/** The room one run's commands share: its layout over the run's own folders. */
async function prepareRoom(
  options: RoomOptions,
  runner: RoomRunner,
  staged: StagedRun,
  toolchain: ResolvedToolchain,
  roomBin: string,
  npmCache: string,
  extra: readonly string[],
  hostNetwork: boolean,
): Promise<RoomCommand> {
  const go = toolchain.go
  // a pinned GOROOT sits at a fixed path; a system one outside /usr at its own path (its links must resolve)
  const goRoot = !go
    ? null
    : go.pinned
      ? { host: go.goroot, room: ROOM_GOROOT, also: [] }
      : go.hostMounts.length > 0
        ? { host: go.hostMounts[0] as string, room: go.hostMounts[0] as string, also: go.hostMounts.slice(1) }
        : null
  const folders = await prepareRoomFolders(staged.root, options, hostNetwork, npmCache, runner.overlay)
  const layout = toRoomLayout({
    system: await inspectSystem(),
    etc: await inspectEtc(hostNetwork),
    generatedEtc: folders.generatedEtc,
    src: staged.stageDir,
    home: staged.home,
    tmp: staged.tmp,
    toolchainBin: roomBin,
    nodeBin: toolchain.nodeBin,
    npmRoot: toolchain.npmRoot,
    npmCache: folders.npmCache,
    extra,
    goRoot,
    hostNetwork,
    options,
  })
  return { runner, layout, rootMountPoint: folders.rootMountPoint }
}

/** Runs the whole build and writes build.json, provenance, artifacts and (with check) the report. */
export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  const { cwd, out, log } = options
  const context =
    options.context ??
    (await resolveContext({
      cwd,
      env: options.hostEnv,
      readConfig: true,
      ...(options.configFile ? { configFile: options.configFile } : {}),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    }))
  const settings = resolveBuildHostSettings(options.hostEnv, context.cacheRoot, {
    registry: options.registry,
  })
  const loaded = await toLoadedConfig(context.configFile, cwd)
  assertNotWithheld(loaded, options.withheldEnv ?? [])
  const lockPath = path.join(cwd, LOCK_FILE)
  const lock: ToolchainLock = (await exists(lockPath))
    ? parseLock(await readTextFile(lockPath, 'BUILD_LOCK_INVALID', LOCK_FILE))
    : emptyLock()

  const tmpRoot = await mkdtemp(path.join(os.tmpdir(), 'detbuild-'))
  let buildLog: BuildLog | undefined
  const cleanups: Promise<void>[] = []
  // a Go build's fetches (toolchain, modules, checksum database) go through the host's HTTP(S)_PROXY,
  // as the npm registry's do (fetch-options.ts)
  const restoreProxy = loaded.config.toolchain.go ? await useEnvProxy(options.hostEnv, log) : () => {}
  try {
    // a credential the config passes on purpose is never written to the log
    const secrets = loaded.config.secretEnv.map((name) => options.hostEnv[name] ?? '')
    buildLog = await openBuildLog(path.join(out, WorkspaceFiles.buildLog), secrets)
    const result = await buildInto(options, {
      settings,
      sourceDate: context.sourceDate,
      loaded,
      lock,
      lockPath,
      tmpRoot,
      buildLog,
      cleanups,
    })
    await buildLog.close()
    return result
  } catch (e) {
    // the log of a failed build is kept (closed into place); the build's own error wins
    await buildLog?.close().catch(() => {})
    throw e
  } finally {
    restoreProxy()
    await Promise.all(cleanups)
    if (!options.keepStaging) await rm(tmpRoot, { recursive: true, force: true })
    else log.info(`staging kept in ${tmpRoot}`)
  }
}

interface BuildContext {
  settings: ReturnType<typeof resolveBuildHostSettings>
  /** the context's source date: every time the build stamps */
  sourceDate: SourceDate
  loaded: Awaited<ReturnType<typeof toLoadedConfig>>
  lock: ToolchainLock
  lockPath: string
  tmpRoot: string
  buildLog: BuildLog
  /** removals started during the build, awaited before it returns */
  cleanups: Promise<void>[]
}

/** Load → run → compare → write: prepares, runs once (twice with check), compares, attests. */
async function buildInto(options: BuildOptions, ctx: BuildContext): Promise<BuildResult> {
  const { out, log } = options
  const config = ctx.loaded.config
  const check = options.check === true || options.strict === true
  const steps = createStepTracker(toBuildSteps(check), options.progress, log, (text) =>
    ctx.buildLog.write(text),
  )
  const tools = await findCheckTools(options.hostEnv.PATH)
  const variants = planVariants({
    check,
    clock: config.clock,
    allowlist: config.env,
    hostEnv: options.hostEnv,
    hostCpus: tools.hostCpus,
  })
  const p = await prepareBuild(options, ctx, steps, variants[0] as RunVariant)
  const scope: RunScope = { options, ctx, p, steps, tools, check }

  const runs: VariantRun[] = []
  let npmVersion = p.toolchain.npm.version
  for (const variant of variants) {
    const isFirst = variant.label === 'first'
    if (!isFirst) {
      steps.start('check')
      steps.note('check', `${variant.label} run under varied conditions`)
    }
    try {
      const run = await runOnce(variant, scope, npmVersion)
      npmVersion = run.npmVersion
      runs.push(run)
    } catch (e) {
      if (!isFirst) steps.fail('check', e)
      throw e
    }
  }
  const first = runs[0] as VariantRun

  if (!check && config.clock === 'source-date') warnClock(first.facts, log)
  let report: ReproReport | null = null
  let skipped: string[] = []
  if (check) {
    report = await compareRuns(scope, variants, runs)
    skipped = skippedVariations(report)
    await Promise.all([
      writeReproReport(out, report),
      writeFileAtomic(path.join(out, WorkspaceFiles.reproReportMd), toReportMarkdown(report)),
    ])
    // a difference (or, with --strict, a variation that did not take effect) is the check's answer, not
    // a failure of the step: the command exits 1 on it
    const strictFails = options.strict === true && skipped.length > 0
    steps.end('check', {
      failed: !report.reproducible || strictFails,
      detail: strictFails ? `${report.verdict} (--strict)` : report.verdict,
    })
  }

  const checked = report
  const records = await steps.run(
    'attest',
    () =>
      writeAttestation(out, first.outcome, p.sourceDateEpoch, (written) =>
        toBuildFacts(options, ctx, p, first, npmVersion, checked, written),
      ),
    (r) => ({
      detail: `${plural(r.written.length, 'artifact')} in ${WorkspaceFiles.artifactsDir}/, ${WorkspaceFiles.buildManifest}, ${WorkspaceFiles.provenance}`,
    }),
  )
  return {
    manifest: records.manifest,
    outputs: records.written,
    reproducible: report ? report.reproducible : null,
    report,
    verdict: report ? report.verdict : null,
    skipped,
    lockWritten: p.toolchain.lockChanged,
  }
}

/** What the runs share, prepared at once: the toolchain, the build room, the staged source, the cache. */
interface Prepared {
  toolchain: ResolvedToolchain
  isolation: IsolationProbe
  /** the source, and the first run's staged copy of it */
  prepared: { source: SourceInfo; run: StagedRun }
  lockfile: BuildFacts['lockfile']
  /** a Go build's verified modules (go.sum), and the folder holding a copy for each run's module cache */
  go: { prefetched: GoPrefetched; seed: string; proxy: string } | null
  extraMounts: string[]
  roomBin: string
  npmCache: string
  sourceDateEpoch: number
  sourceDateEpochFrom: BuildFacts['sourceDateEpochFrom']
  /** stages a later run's own copy of the source */
  stage: (variant: RunVariant) => Promise<StagedRun>
}

/** Load: the toolchain, the isolation probe, the source (inspected, staged) and the prefetch, at once. */
async function prepareBuild(
  options: BuildOptions,
  ctx: BuildContext,
  steps: StepTracker,
  first: RunVariant,
): Promise<Prepared> {
  const { cwd, out, log } = options
  const { settings, loaded, tmpRoot } = ctx
  const config = loaded.config
  const npmCache = path.join(settings.cacheDir, 'npm')
  // independent preparations run at once: the toolchain, the isolation probe, the source (inspect, then
  // stage the first run) and the prefetch of the locked packages (once the lockfile is known)
  for (const s of ['toolchain', 'isolation', 'source', 'prefetch'] as const) steps.start(s)
  // detbuild's own fetches go through the host's proxy and trust its extra CAs, as npm's would
  const fetchOptionsP = resolveFetchOptions(options.hostEnv)
  // a Go build's module proxy (GOPROXY's first URL, default proxy.golang.org): toolchain and modules
  const goProxy = config.toolchain.go ? resolveGoProxy(options.hostEnv.GOPROXY) : null
  const goSeed = path.join(tmpRoot, 'go-modcache')
  const toolchainP = (async () => {
    const toolchain = await resolveToolchain(config, {
      fetchOptions: await fetchOptionsP,
      ...(goProxy ? { goProxy, goSumdb: resolveChecksumDatabase(options.hostEnv.GOSUMDB) } : {}),
      onTampered: (dir) =>
        log.warn(
          `cached toolchain ${path.basename(dir)} does not match the record of its verified extraction: refused, extracted again`,
        ),
      cacheDir: settings.cacheDir,
      registry: settings.registry,
      lock: ctx.lock,
      frozenLock: options.frozenLock === true,
      hostPath: options.hostEnv.PATH,
      binDir: path.join(tmpRoot, 'toolchain-bin'),
      platform: options.platform ?? process.platform,
      arch: options.arch ?? process.arch,
    })
    if (toolchain.lockChanged) await writeFileAtomic(ctx.lockPath, formatLock(toolchain.lock))
    return toolchain
  })()
  const isolationP = resolveIsolation(config.network, settings.room, path.join(tmpRoot, 'room-probe'))
  const inspectP = inspectSource(cwd, config.include, out, options.hostEnv)
  // a private key in the source is left out of every run's staged tree, and said once
  const keysLeftOut = new Set<string>()
  const onPrivateKey = (rel: string): void => {
    if (keysLeftOut.has(rel)) return
    keysLeftOut.add(rel)
    log.warn(`${rel}: holds a private key: left out of the staged source (a build must never see it)`)
  }
  const gitRoomFor = (source: SourceInfo) => {
    if (!config.git) return undefined
    assertGitSource(source)
    return {
      commit: source.commit,
      sourceDateEpoch: ctx.sourceDate.epoch,
      hostEnv: options.hostEnv,
    }
  }
  const sourceP = inspectP.then(async (source) => ({
    source,
    run: await prepareRun(tmpRoot, first, cwd, source.files, onPrivateKey, gitRoomFor(source)),
  }))
  const prefetchP = inspectP.then(
    async (source) => {
      const npm = await prefetchFor(source, cwd, config, npmCache, settings.registry, await fetchOptionsP)
      const go = goProxy ? await prefetchGoModules(source, cwd, settings.cacheDir, goSeed, goProxy) : null
      return { ...npm, go }
    },
    // the source's own failure is reported under source
    () => null,
  )
  const settled = await Promise.allSettled([toolchainP, isolationP, sourceP, prefetchP])
  const [toolchain, isolation, prepared, prefetched] = steps.settle<
    [ResolvedToolchain, IsolationProbe, Awaited<typeof sourceP>, Awaited<typeof prefetchP>]
  >([
    [
      'toolchain',
      settled[0],
      (t) => ({
        detail: `${t.go ? `go ${t.go.version}${t.go.pinned ? ' (pinned)' : ' (system)'}, ` : ''}node ${t.node.version}${t.node.pinned ? ' (pinned)' : ' (system)'}, npm ${t.npm.version}${t.npm.pinned ? ' (pinned)' : ''}${t.lockChanged ? `; wrote ${LOCK_FILE}` : ''}`,
      }),
    ],
    [
      'isolation',
      settled[1],
      (i) => ({
        detail: `${i.isolation.sealed ? 'sealed' : 'NOT sealed'} (${i.isolation.mechanism}), network ${i.isolation.network}`,
      }),
    ],
    [
      'source',
      settled[2],
      (p) => ({
        detail: `${plural(p.run.staged.length, 'file')} staged from ${p.source.kind === 'git' ? `git${p.source.commit ? ` ${p.source.commit.slice(0, 12)}` : ''}${p.source.dirty ? ' (dirty)' : ''}` : 'the include globs'}`,
      }),
    ],
    [
      'prefetch',
      settled[3],
      (f) =>
        f === null
          ? { detail: 'not run: source failed', skipped: true }
          : f.go
            ? {
                detail: `${plural(f.go.modules.length, 'Go module')} of go.sum verified in the module cache (${f.go.fetched} fetched)${f.items === null ? '' : `, ${plural(f.items, 'locked package')} in the npm cache`}`,
              }
            : f.items === null
              ? { detail: f.why, skipped: true }
              : { detail: `${plural(f.items, 'locked package')} in the npm cache` },
    ],
  ])
  const { source } = prepared
  const lockfile = prefetched === null ? null : prefetched.lockfile
  const go = prefetched?.go && goProxy ? { prefetched: prefetched.go, seed: goSeed, proxy: goProxy } : null
  if (source.dirty) log.warn('the git worktree has uncommitted changes to tracked files (recorded as dirty)')
  // one line when the room is weaker than asked: never a silent claim of isolation that did not hold
  if (isolation.isolation.note) log.warn(`build room: ${isolation.isolation.note}`)
  const extraMounts = await checkRoomMounts(settings.roomMounts)
  // recorded by last name: the host path differs between machines (and is no business of build.json)
  isolation.isolation.extraMounts = isolation.runner
    ? extraMounts.map((m) => path.posix.basename(m)).sort(compareCodePoint)
    : []
  const roomBin = path.join(tmpRoot, 'room-bin')
  if (isolation.runner) await writeRoomBin(roomBin, toolchain.npmRoot !== null)
  const sourceDateEpoch = ctx.sourceDate.epoch
  const sourceDateEpochFrom = SOURCE_DATE_RECORDED[ctx.sourceDate.from]

  return {
    toolchain,
    isolation,
    prepared,
    lockfile,
    go,
    extraMounts,
    roomBin,
    npmCache,
    sourceDateEpoch,
    sourceDateEpochFrom,
    stage: (variant) => prepareRun(tmpRoot, variant, cwd, source.files, onPrivateKey, gitRoomFor(source)),
  }
}

/** One run's result: its outputs (in memory), the conditions it ran under, the npm version seen. */
interface VariantRun {
  outcome: RunOutcome
  facts: RunFacts
  npmVersion: string
  /** the first run's fixed environment, as build.json records it */
  fixedEnv?: Record<string, string>
}

/** What every run of one build shares. */
interface RunScope {
  options: BuildOptions
  ctx: BuildContext
  p: Prepared
  steps: StepTracker
  tools: Awaited<ReturnType<typeof findCheckTools>>
  check: boolean
}

/** Runs the install and build commands once (staged, in the room, under the variant's conditions). */
async function runOnce(variant: RunVariant, s: RunScope, knownNpmVersion: string): Promise<VariantRun> {
  const { options, ctx, p, steps, tools, check } = s
  const { log } = options
  const { settings, buildLog, cleanups } = ctx
  const config = ctx.loaded.config
  const { isolation, toolchain, roomBin, npmCache, extraMounts, sourceDateEpoch } = p
  const isFirst = variant.label === 'first'
  let npmVersion = knownNpmVersion
  let facts: RunFacts | undefined
  let fixedEnv: Record<string, string> | undefined
  const runVariant = async (): Promise<VariantRun> => {
    const staged = isFirst ? p.prepared.run : await p.stage(variant)
    if (!isFirst) await shiftSourceTimes(staged.stageDir, staged.staged, variant.clock.shiftS, Date.now())
    // the second run's source is listed through disorderfs; it is unmounted whatever happens
    const disorder = variant.disorder ? await mountDisorderfs(staged.stageDir, tools) : null
    try {
      return await runStaged(staged, disorder?.mounted === true, disorder?.note ?? null)
    } finally {
      await disorder?.release()
    }
  }
  const runStaged = async (
    staged: StagedRun,
    disordered: boolean,
    disorderNote: string | null,
  ): Promise<VariantRun> => {
    const runner = isolation.runner
    let room = runner
      ? await prepareRoom(
          // the check's second run gets another hostname and user (see roomIdentityFor)
          roomIdentityFor(variant, true).options,
          runner,
          staged,
          toolchain,
          roomBin,
          npmCache,
          extraMounts,
          config.network === 'allow',
        )
      : null
    // in the room every path the build sees is fixed; on the host they are this run's folders
    let baseEnv = toBuildEnv({
      hostEnv: options.hostEnv,
      allowlist: config.env,
      secretAllowlist: config.secretEnv,
      git: config.git,
      home: room ? ROOM_PATHS.home : staged.home,
      tmp: room ? ROOM_PATHS.tmp : staged.tmp,
      pathDirs: room
        ? [ROOM_PATHS.toolchainBin, ...(toolchain.go ? [roomGoBin(toolchain.go)] : [])]
        : toolchain.pathDirs,
      sourceDateEpoch,
      npmCache: room ? ROOM_PATHS.npmCache : npmCache,
      registry: settings.registry,
      offline: config.network === 'deny',
      ...(variant.variation ? { variation: variant.variation } : {}),
    })
    if (p.go) {
      // the run's own module cache holds a copy of the verified modules; the go command never fetches
      await seedRunModCache(p.go.seed, staged.home)
      Object.assign(
        baseEnv,
        toGoEnv({
          home: room ? ROOM_PATHS.home : staged.home,
          config,
          env: options.hostEnv as Record<string, string>,
          proxy: config.network === 'allow' ? p.go.proxy : null,
          vendored: p.go.prefetched.vendor !== null,
        }),
      )
    }
    if (room && config.network === 'allow') {
      // the host's private CA files, at fixed paths in the room
      const withCa = withRoomCaFiles(room.layout, baseEnv)
      room = { ...room, layout: withCa.layout }
      baseEnv = withCa.env
    }
    if (isFirst) fixedEnv = fixedEnvRecord(baseEnv, config.env, room !== null)
    // the clock and CPU count the commands see (preload, libfaketime, taskset), and what took effect
    const shaped = await shapeRun({
      variant,
      env: baseEnv,
      hostHome: staged.home,
      tools,
      sourceDateEpoch,
      probe: check || config.clock === 'source-date',
      runProbe: async (env, wrappers) => {
        let output = ''
        const code = await runShell(PROBE_COMMAND, {
          cwd: staged.stageDir,
          env,
          umask: variant.umask,
          unshare: null,
          room,
          ...wrappers,
          onOutput: (chunk) => {
            output += chunk
          },
        })
        return { code, output }
      },
    })
    shaped.facts.disorderfs = disordered
    shaped.facts.disorderfsNote = disorderNote
    facts = shaped.facts
    const env = shaped.env
    if (npmVersion === UNKNOWN_NPM_VERSION) {
      if (room) {
        let printed = ''
        const code = await runShell('npm --version', {
          cwd: staged.stageDir,
          env,
          umask: variant.umask,
          unshare: null,
          room,
          onOutput: (chunk) => {
            printed += chunk
          },
        })
        if (code === 0 && /^\d+\.\d+\.\d+\S*$/.test(printed.trim())) npmVersion = printed.trim()
      } else
        npmVersion = (await captureOutput('npm', ['--version'], env, staged.stageDir)) ?? UNKNOWN_NPM_VERSION
    }
    const runPhase = async (phase: 'install' | 'build', commands: readonly string[]) => {
      for (const command of commands) {
        buildLog.write(`$ ${command}\n`)
        log.debug(`${phase}: ${command}`)
        const phaseEnv =
          phase === 'install' && !config.scripts ? { ...env, npm_config_ignore_scripts: 'true' } : env
        const code = await runShell(command, {
          cwd: staged.stageDir,
          env: phaseEnv,
          umask: variant.umask,
          unshare: isolation.unshare,
          room,
          // with network allowed, TLS during install needs the real time (node's own clock is shifted)
          faketime: phase === 'install' && config.network === 'allow' ? null : shaped.faketime,
          taskset: shaped.taskset,
          onOutput: (chunk) => buildLog.write(chunk),
        })
        // each command's output is on disk before the next command starts
        await buildLog.flush()
        if (code !== 0)
          throw new CheckFailedError(
            'BUILD_COMMAND_FAILED',
            `${phase} command "${command}" exited with ${code} (${variant.label} run; see ${WorkspaceFiles.buildLog})`,
            { details: { phase, command, exitCode: code, run: variant.label } },
          )
      }
    }
    const collect = () => collectRun(staged, config.outputs, sourceDateEpoch)
    let outcome: RunOutcome
    if (isFirst) {
      const phase = async (name: 'install' | 'build', commands: readonly string[]) => {
        if (commands.length === 0) {
          steps.start(name)
          steps.end(name, { detail: `no ${name} command`, skipped: true })
          return
        }
        await steps.run(
          name,
          async () => {
            steps.note(name, `${variant.label} run`)
            await runPhase(name, commands)
          },
          () => ({ detail: `${plural(commands.length, 'command')}` }),
        )
      }
      await phase('install', config.install)
      await phase('build', config.build)
      outcome = await steps.run('outputs', collect, (o) => ({
        detail: `${plural(o.outputs.size, 'output')}: ${[...o.outputs.keys()].join(', ')}`,
      }))
    } else {
      await runPhase('install', config.install)
      await runPhase('build', config.build)
      outcome = await collect()
    }
    // the outputs are in a private folder: the staging folder goes while the build goes on (awaited at the end)
    if (!options.keepStaging) cleanups.push(rm(staged.root, { recursive: true, force: true }).catch(() => {}))
    return { outcome, facts: facts as RunFacts, npmVersion, ...(fixedEnv ? { fixedEnv } : {}) }
  }
  return runVariant()
}

/**
 * The outputs of one run, linked (or copied) into a private folder beside the staging folder, archives
 * normalized (entry order, times, owners), each hashed once: nothing is held in memory, whatever its size.
 */
async function collectRun(
  staged: StagedRun,
  outputs: readonly string[],
  sourceDateEpoch: number,
): Promise<RunOutcome> {
  const found = await collectOutputs(staged.stageDir, outputs)
  if (found.size === 0)
    throw new CheckFailedError(
      'BUILD_NO_OUTPUTS',
      `no file matches outputs ${JSON.stringify(outputs)} after the build`,
      { details: { key: 'outputs' } },
    )
  const dir = await mkdtemp(`${staged.root}-outputs-`)
  const entries = await Promise.all(
    [...found].map(async ([name, abs], i) => {
      const kind = archiveKindOf(name)
      const file = path.join(dir, String(i))
      if (kind) {
        const members = path.join(dir, `${i}.members`)
        await mkdir(members)
        await normalizeArchiveFile(kind, abs, file, sourceDateEpoch, members, name)
        await rm(members, { recursive: true, force: true })
      } else await link(abs, file).catch(() => copyFile(abs, file))
      const executable = !kind && ((await stat(abs)).mode & 0o100) !== 0
      return [name, { file, digests: await digestFile(file), executable }, kind] as const
    }),
  )
  return {
    outputs: new Map(entries.map(([name, output]) => [name, output])),
    normalized: new Map(entries.map(([name, , kind]) => [name, kind])),
    treeSha256: treeDigest(staged.staged),
    files: staged.staged.length,
  }
}

/** Compares the two runs' outputs and describes what was varied. */
async function compareRuns(
  s: RunScope,
  variants: readonly RunVariant[],
  runs: readonly VariantRun[],
): Promise<ReproReport> {
  const config = s.ctx.loaded.config
  const comparisons = await compareOutputFiles(
    (runs[0] as VariantRun).outcome.outputs,
    (runs[1] as VariantRun).outcome.outputs,
  )
  const reproducible = comparisons.every((c) => c.status === 'identical')
  const { variations, fixed } = describeVariations({
    variants,
    facts: runs.map((r) => r.facts),
    tools: s.tools,
    allowlist: config.env,
    hostEnv: s.options.hostEnv,
    network: config.network,
    creationOrderMatters: await probeCreationOrder(s.ctx.tmpRoot),
    sealed: s.p.isolation.isolation.sealed,
  })
  return {
    schemaVersion: 1,
    reproducible,
    verdict: toVerdict(reproducible, variations, comparisons),
    variations,
    fixed,
    outputs: comparisons,
  }
}

/** Outputs larger than this that differ are reported by size and digests, without reading them to show how. */
const COMPARE_READ_LIMIT = 256 * 1024 * 1024

/**
 * Compares two runs' outputs by their digests; only outputs that differ are read (up to a size) for
 * {@link compareOutputs} to show how, so two identical 3 GiB artifacts cost nothing more to compare.
 */
async function compareOutputFiles(
  first: ReadonlyMap<string, OutputFile>,
  second: ReadonlyMap<string, OutputFile>,
): Promise<OutputComparison[]> {
  const settled: OutputComparison[] = []
  const toRead: [Map<string, Uint8Array>, Map<string, Uint8Array>] = [new Map(), new Map()]
  const empty = Buffer.alloc(0)
  for (const name of new Set([...first.keys(), ...second.keys()])) {
    const a = first.get(name)
    const b = second.get(name)
    if (a && b) {
      const [x, y] = [a.digests, b.digests]
      const sha256 = { first: x.sha256, second: y.sha256 }
      if (x.size === y.size && x.sha256 === y.sha256 && x.sha512 === y.sha512) {
        settled.push({ name, status: 'identical', sha256 })
        continue
      }
      if (Math.max(x.size, y.size) > COMPARE_READ_LIMIT) {
        settled.push({
          name,
          status: 'differs',
          size: { first: x.size, second: y.size },
          sha256,
          note: `larger than ${COMPARE_READ_LIMIT / 1024 / 1024} MiB: what differs inside is not shown`,
        })
        continue
      }
    }
    // an output only one run made is named, not read
    if (a) toRead[0].set(name, b ? await readFile(a.file) : empty)
    if (b) toRead[1].set(name, a ? await readFile(b.file) : empty)
  }
  const shown = await compareOutputs(toRead[0], toRead[1])
  return [...settled, ...shown].sort((p, q) => compareCodePoint(p.name, q.name))
}

/** The room's folder holding the go command: a pinned GOROOT's fixed path, or a system GOROOT's own. */
function roomGoBin(go: NonNullable<ResolvedToolchain['go']>): string {
  return go.pinned ? `${ROOM_GOROOT}/bin` : `${go.goroot}/bin`
}

/** Without check: says when "clock": "source-date" did not take effect. */
function warnClock(f: RunFacts, log: Logger): void {
  const held = nodeClockHeld(f)
  if (!held)
    log.warn(
      `clock "source-date" did not take effect for node processes: ${f.preloadNote ?? f.probeNote ?? 'the probe did not see it'}`,
    )
  if (f.offsetS !== null && !f.faketime)
    log.warn('clock "source-date": faketime is not on PATH: only node processes start at SOURCE_DATE_EPOCH')
}

/** Pure: build.json's facts (commands and config as written: a URL in them may carry credentials). */
function toBuildFacts(
  options: BuildOptions,
  ctx: BuildContext,
  p: Prepared,
  first: VariantRun,
  npmVersion: string,
  report: ReproReport | null,
  written: OutputRecord[],
): BuildFacts {
  const { loaded } = ctx
  const config = loaded.config
  return redactDeep({
    source: toSourceRecord(p.prepared.source, first.outcome),
    sourceDateEpoch: p.sourceDateEpoch,
    sourceDateEpochFrom: p.sourceDateEpochFrom,
    config: { file: loaded.file, sha256: loaded.sha256, record: toConfigRecord(config) },
    lockfile: p.lockfile,
    ...(p.go
      ? {
          go: {
            goSum: p.go.prefetched.goSum,
            vendor: p.go.prefetched.vendor,
            modules: p.go.prefetched.modules,
          },
        }
      : {}),
    toolchain: toToolchainRecord(p.toolchain, npmVersion),
    commands: { install: [...config.install], build: [...config.build] },
    env: [
      ...new Set([
        ...config.env,
        ...config.secretEnv,
        ...toNetworkEnvNames(options.hostEnv, config.network === 'deny'),
      ]),
    ],
    fixedEnv: first.fixedEnv ?? {},
    isolation: p.isolation.isolation,
    reproducibility: {
      checked: report !== null,
      reproducible: report ? report.reproducible : null,
      report: report ? WorkspaceFiles.reproReport : null,
    },
    archives: { gzipLevel: GZIP_LEVEL, zipDeflateLevel: ZIP_DEFLATE_LEVEL, zlib: process.versions.zlib },
    outputs: written,
  })
}

/**
 * Write: the artifacts (copied from the run's private folder, each through a temporary file and a rename;
 * mtime = SOURCE_DATE_EPOCH; the digests taken of those bytes when they were collected), build.json, provenance.
 */
async function writeAttestation(
  out: string,
  first: RunOutcome,
  sourceDateEpoch: number,
  toFacts: (written: OutputRecord[]) => BuildFacts,
): Promise<{ written: OutputRecord[]; manifest: BuildManifest }> {
  const artifactsDir = path.join(out, WorkspaceFiles.artifactsDir)
  await rm(artifactsDir, { recursive: true, force: true })
  const written = await Promise.all(
    [...first.outputs].map(async ([name, output]): Promise<OutputRecord> => {
      const file = path.join(artifactsDir, name)
      await copyFileAtomic(output.file, file, file, output.executable ? 0o755 : 0o644)
      await utimes(file, sourceDateEpoch, sourceDateEpoch)
      return {
        path: `${WorkspaceFiles.artifactsDir}/${name}`,
        ...output.digests,
        normalized: first.normalized.get(name) ?? null,
      }
    }),
  )
  const facts = toFacts(written)
  const manifest = toBuildManifest(facts)
  await Promise.all([writeBuildManifest(out, manifest), writeProvenance(out, toProvenance(facts))])
  return { written, manifest }
}

/**
 * The config may not pass the variables the caller keeps its own credentials in (the key passphrase):
 * exit 2, CONFIG_ENV_SECRET, naming the key.
 */
function assertNotWithheld(
  loaded: Awaited<ReturnType<typeof toLoadedConfig>>,
  withheld: readonly string[],
): void {
  const { config, file } = loaded
  for (const [list, names] of [
    ['env', config.env],
    ['secretEnv', config.secretEnv],
  ] as const)
    for (const [i, name] of names.entries())
      if (withheld.includes(name))
        throw new InputError(
          'CONFIG_ENV_SECRET',
          `"${list}[${i}]" names ${name}, which holds detbuild's signing key passphrase: it never reaches a build`,
          { file, details: { key: `${list}[${i}]`, name } },
        )
}

/** DETBUILD_ROOM_MOUNTS: each must be an existing folder. */
async function checkRoomMounts(mounts: readonly string[]): Promise<string[]> {
  for (const m of mounts) {
    const st = await stat(m).catch(() => null)
    if (!st?.isDirectory())
      throw new InputError('BUILD_ROOM_INVALID', `DETBUILD_ROOM_MOUNTS: ${m} is not a folder`)
  }
  return [...mounts]
}

type Prefetched =
  | { lockfile: BuildFacts['lockfile']; items: number }
  | { lockfile: BuildFacts['lockfile']; items: null; why: string }

/** The npm lockfile's digest, and (offline installs) its packages fetched into the npm cache. */
async function prefetchFor(
  source: SourceInfo,
  cwd: string,
  config: BuildConfig,
  npmCache: string,
  registry: string,
  fetchOptions: FetchOptions,
): Promise<Prefetched> {
  const lockfileName =
    ['npm-shrinkwrap.json', 'package-lock.json'].find((f) => source.files.includes(f)) ?? null
  if (!lockfileName) return { lockfile: null, items: null, why: 'no npm lockfile' }
  const text = await readFile(path.join(cwd, lockfileName))
  const lockfile = { file: lockfileName, sha256: sha256Hex(text) }
  if (config.network !== 'deny') return { lockfile, items: null, why: 'network allowed: npm fetches itself' }
  if (config.install.length === 0) return { lockfile, items: null, why: 'no install command' }
  // the root lockfile, and the lockfile of each package an install command installs on its own (a lerna
  // repository's `cd <package> && npm ci`, as init writes it; `npm ci --prefix <package>`)
  const nested = installFolders(config.install)
    .flatMap((dir) => ['npm-shrinkwrap.json', 'package-lock.json'].map((f) => path.posix.join(dir, f)))
    .filter((f, k, all) => source.files.includes(f) && all.indexOf(f) === k && f !== lockfileName)
  const lists = [
    {
      file: lockfileName,
      items: toPrefetchList(
        parseJson(text.toString('utf8'), lockfileName, 'BUILD_LOCKFILE_INVALID'),
        lockfileName,
      ),
    },
  ]
  for (const file of nested) {
    const nestedText = await readTextFile(path.join(cwd, file), 'BUILD_LOCKFILE_INVALID', file)
    lists.push({ file, items: toPrefetchList(parseJson(nestedText, file, 'BUILD_LOCKFILE_INVALID'), file) })
  }
  const items = mergePrefetchLists(lists)
  // npm in the build reads the project's .npmrc: its scoped registries are where those packages come from
  const scopes = source.files.includes('.npmrc')
    ? toScopeRegistries(await readTextFile(path.join(cwd, '.npmrc'), 'INPUT_UNREADABLE', '.npmrc', 'config'))
    : {}
  await prefetchPackages(items, npmCache, registry, fetchOptions, scopes)
  return { lockfile, items: items.length }
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
    ...(t.go
      ? {
          go: {
            version: t.go.version,
            pinned: t.go.pinned,
            module: t.go.module,
            h1: t.go.h1,
            sha256: t.go.sha256,
            checksumDatabase: t.go.checksumDatabase,
          },
        }
      : {}),
  }
}

export { initProject, lockToolchain } from './init.ts'
export { type BuildStep, toBuildSteps } from './steps.ts'
