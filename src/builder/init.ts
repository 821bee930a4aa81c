/** `detbuild init` and `detbuild lock`: detect a project's build and pin its toolchain. */
import { glob, readFile } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import {
  CONFIG_FILES,
  type Context,
  resolveBuildHostSettings,
  resolveContext,
  toLoadedConfig,
} from '../config/index.ts'
import {
  ensureGoToolchain,
  goPlatform,
  resolveChecksumDatabase,
  resolveGoProxy,
} from '../ecosystems/index.ts'
import { InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { useEnvProxy } from '../util/env-proxy.ts'
import { exists, readTextFile, writeFileAtomic } from '../util/fs.ts'
import { describeJsonType, parseJson } from '../util/json-parse.ts'
import { silentLogger } from '../util/log.ts'
import { toGoInitialConfig } from './init-go.ts'
import { emptyLock, formatLock, LOCK_FILE, nodePackageName, parseLock } from './lockfile.ts'
import { findOnPath } from './run.ts'
import { readNpmVersion } from './tool-digest.ts'
import { ensurePackage, resolveLockEntry } from './toolchain.ts'

/** One workspace of a monorepo, as `detbuild init` needs it. */
export interface WorkspaceFacts {
  /** POSIX path relative to the project root */
  dir: string
  private: boolean
  scripts: Record<string, string>
  /** it has its own package-lock.json (a lerna package outside npm workspaces) */
  lockfile?: boolean
}

export interface ProjectFacts {
  packageJson: Record<string, unknown> | null
  nvmrc: string | null
  /** `.node-version`, read like `.nvmrc` */
  nodeVersionFile?: string | null
  /** `.releaserc` / `.releaserc.json` when it is JSON (semantic-release's config; its `pkgRoot` is what is published) */
  releaseConfig?: unknown
  lockfiles: string[]
  /** the running node's version, used when nothing pins one */
  currentNode: string
  /** the running npm's version (null when it could not be read), used when `packageManager` pins no npm */
  currentNpm?: string | null
  /** the workspaces `package.json` declares, expanded and sorted by folder */
  workspaces?: WorkspaceFacts[]
  /** without `workspaces`: the packages `lerna.json` lists, each installed on its own (lerna bootstrap) */
  lernaPackages?: WorkspaceFacts[]
  /** in a git repository: where the build calls git (a script or a build file), or null */
  gitUse?: string | null
}

/** What `detbuild init` writes, and the lines it prints as warnings. */
export interface InitialConfig {
  config: Record<string, unknown>
  warnings: string[]
}

/** Script names that build a package, in the order `detbuild init` looks for them. */
export const BUILD_SCRIPT_NAMES = ['build', 'package', 'compile', 'bundle', 'dist'] as const

/** Where `npm pack` writes the tarballs (created first: `npm pack --pack-destination` fails on a missing folder). */
export const PACK_DESTINATION = 'dist'

function exactVersion(text: string | null | undefined): string | undefined {
  const v = text?.trim().replace(/^v/, '')
  return v && semver.valid(v) ? v : undefined
}

/** An exact version from `.nvmrc`, `.node-version`, `volta.node` or `engines.node`, if one pins it. */
export function detectNodeVersion(facts: ProjectFacts): string {
  const pinned =
    exactVersion(facts.nvmrc) ??
    exactVersion(facts.nodeVersionFile) ??
    exactVersion(stringAt(facts.packageJson?.volta, 'node'))
  if (pinned) return pinned
  const engines = stringAt(facts.packageJson?.engines, 'node')
  if (engines !== undefined) {
    const exact = engines.trim().replace(/^[=v]+/, '')
    if (semver.valid(exact)) return exact
    if (semver.validRange(engines) && semver.satisfies(facts.currentNode, engines)) return facts.currentNode
  }
  return facts.currentNode
}

/**
 * The npm version to pin: `packageManager: "npm@x.y.z"` (a `+sha…` suffix is the hash corepack checks, not
 * part of the version), else the running npm, else none (`system`).
 */
export function detectNpmVersion(facts: ProjectFacts): string | undefined {
  const packageManager = facts.packageJson?.packageManager
  if (typeof packageManager === 'string') {
    const fromField = /^npm@([^+\s]+)(?:\+\S*)?$/.exec(packageManager.trim())?.[1]
    if (fromField && semver.valid(fromField)) return fromField
  }
  return exactVersion(facts.currentNpm)
}

function stringAt(obj: unknown, key: string): string | undefined {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return undefined
  const v = (obj as Record<string, unknown>)[key]
  return typeof v === 'string' ? v : undefined
}

/** The string-valued scripts of a manifest (anything else is not a script npm would run). */
export function toScripts(manifest: Record<string, unknown> | null): Record<string, string> {
  const raw = manifest?.scripts
  const out: Record<string, string> = {}
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return out
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v
  return out
}

// git hook installers: they need `.git` (absent in the build room) and build nothing
const HOOK_STEP =
  /^(?:npx\s+(?:--no(?:-install)?\s+)?)?(?:husky|lefthook|simple-git-hooks|pre-commit|yorkie|git-hooks|is-ci|only-allow)(?:\s|$)|^git\s+config\s|\.husky\b|^(?:true|exit\s+0|echo\b.*)$/

/**
 * Whether a lifecycle script only installs git hooks (or does nothing), following `npm run <script>` steps:
 * such a `prepare` is not a build.
 */
export function isHookOnly(script: string, scripts: Record<string, string>, depth = 0): boolean {
  if (depth > 5) return false
  const steps = script
    .split(/&&|\|\||;/)
    .map((s) =>
      s
        .trim()
        .replace(/^\(+|\)+$/g, '')
        .trim(),
    )
    .filter((s) => s !== '')
  return steps.every((step) => {
    if (HOOK_STEP.test(step)) return true
    const called = /^npm\s+run(?:-script)?\s+(\S+)$/.exec(step)?.[1]
    const body = called === undefined ? undefined : scripts[called]
    return body !== undefined && isHookOnly(body, scripts, depth + 1)
  })
}

/**
 * Whether `script` runs the script `target` (`npm run target`, `yarn target`, `run-s … target`, or the same
 * command), following npm run steps.
 */
export function invokesScript(
  script: string,
  target: string,
  scripts: Record<string, string>,
  depth = 0,
): boolean {
  if (depth > 5) return false
  // the same command as the target (luxon's prepack repeats its build) runs it as much as calling it does
  if (scripts[target] !== undefined && script.trim() === scripts[target].trim()) return true
  const words = script.split(/[\s;&|()]+/).filter((w) => w !== '')
  if (words.includes(target) && /\b(?:npm|yarn|pnpm|run-s|run-p|npm-run-all)\b/.test(script)) return true
  for (const m of script.matchAll(/\bnpm\s+run(?:-script)?\s+([^\s;&|()]+)/g)) {
    const body = scripts[m[1] as string]
    if (body !== undefined && invokesScript(body, target, scripts, depth + 1)) return true
  }
  return false
}

/**
 * The scripts that build a package before it is packed, in order. detbuild packs with `--ignore-scripts`
 * (a `prepare` that installs git hooks fails without `.git`), so it runs by name what `npm publish` would:
 * `prepack` when it builds (it runs the build script, or there is none), else the build script (the first of
 * BUILD_SCRIPT_NAMES) followed by any other `prepack`; with neither, a `prepare` that does more than install
 * git hooks.
 */
export function toBuildScripts(scripts: Record<string, string>): string[] {
  const named = BUILD_SCRIPT_NAMES.find((n) => scripts[n] !== undefined)
  const prepack =
    scripts.prepack !== undefined && !isHookOnly(scripts.prepack, scripts) ? 'prepack' : undefined
  if (prepack && (!named || invokesScript(scripts.prepack as string, named, scripts))) return [prepack]
  if (named) return prepack ? [named, prepack] : [named]
  if (scripts.prepare !== undefined && !isHookOnly(scripts.prepare, scripts)) return ['prepare']
  return []
}

/** A folder inside the project: POSIX, relative, no `..`, not the project itself. */
function toInsideFolder(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.includes('\\')) return undefined
  const clean = path.posix.normalize(value.trim()).replace(/\/+$/, '')
  if (clean === '.' || clean === '' || clean.startsWith('/') || clean === '..' || clean.startsWith('../'))
    return undefined
  return clean
}

/**
 * The folder that is published when it is not the project itself: `publishConfig.directory` (pnpm, yarn),
 * or semantic-release's `pkgRoot` (octokit's packages build into `pkg/` and publish that).
 */
export function toPackRoot(facts: ProjectFacts): string | undefined {
  const fromPublishConfig = toInsideFolder(stringAt(facts.packageJson?.publishConfig, 'directory'))
  if (fromPublishConfig) return fromPublishConfig
  for (const release of [facts.packageJson?.release, facts.releaseConfig]) {
    const plugins = (release as Record<string, unknown> | null | undefined)?.plugins
    if (!Array.isArray(plugins)) continue
    for (const plugin of plugins)
      if (Array.isArray(plugin) && plugin[0] === '@semantic-release/npm') {
        const root = toInsideFolder(stringAt(plugin[1], 'pkgRoot'))
        if (root) return root
      }
  }
  return undefined
}

/** Quotes one shell word when it needs it (folder names come from the project: never trusted as shell). */
export function shellWord(word: string): string {
  return /^[A-Za-z0-9@%+=:,./_-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`
}

/** Yarn 2 and later (`packageManager: "yarn@4…"`): `--frozen-lockfile` and `--ignore-scripts` are yarn 1's flags. */
function isYarnBerry(manifest: Record<string, unknown> | null): boolean {
  const pm = manifest?.packageManager
  const v = typeof pm === 'string' ? /^yarn@(\d+)\./.exec(pm)?.[1] : undefined
  return v !== undefined && Number(v) >= 2
}

/** npm refuses to publish a package whose `private` is truthy (`"true"` included): so does detbuild init. */
export function isPrivate(manifest: Record<string, unknown> | null): boolean {
  return Boolean(manifest?.private)
}

function hasBundledDependencies(manifest: Record<string, unknown> | null): boolean {
  const b = manifest?.bundleDependencies ?? manifest?.bundledDependencies
  return b === true || (Array.isArray(b) && b.length > 0)
}

/** The config `detbuild init` writes, from what the project holds (pure), and its warnings. */
export function toInitialConfig(facts: ProjectFacts): InitialConfig {
  const warnings: string[] = []
  const scripts = toScripts(facts.packageJson)
  const lockfiles = facts.lockfiles
  const npmLock = lockfiles.includes('package-lock.json') || lockfiles.includes('npm-shrinkwrap.json')
  const installCommand = npmLock
    ? 'npm ci --ignore-scripts'
    : lockfiles.includes('pnpm-lock.yaml')
      ? 'pnpm install --frozen-lockfile --ignore-scripts'
      : lockfiles.includes('yarn.lock')
        ? isYarnBerry(facts.packageJson)
          ? 'yarn install --immutable --mode=skip-build'
          : 'yarn install --frozen-lockfile --ignore-scripts'
        : 'npm install --ignore-scripts --no-package-lock'
  const workspaces = facts.workspaces ?? []
  const rootPrivate = isPrivate(facts.packageJson)

  const build = toBuildScripts(scripts).map((name) => `npm run ${name}`)
  if (build.length === 0 && workspaces.length > 0) {
    // each workspace's own build script (the first of BUILD_SCRIPT_NAMES, else a prepare that builds),
    // grouped by name; `build` comes first in the order, so --workspaces runs exactly that group
    const groups = new Map<string, string[]>()
    for (const w of workspaces) {
      const name =
        BUILD_SCRIPT_NAMES.find((n) => w.scripts[n] !== undefined) ??
        (w.scripts.prepare !== undefined && !isHookOnly(w.scripts.prepare, w.scripts) ? 'prepare' : undefined)
      if (name) groups.set(name, [...(groups.get(name) ?? []), w.dir])
    }
    for (const name of [...BUILD_SCRIPT_NAMES, 'prepare']) {
      const dirs = groups.get(name)
      if (!dirs) continue
      build.push(
        name === 'build'
          ? 'npm run build --workspaces --if-present'
          : `npm run ${name} ${dirs.map((d) => `-w ${shellWord(d)}`).join(' ')}`,
      )
    }
  }

  // what is packed: a single package (even a private one: a GitHub Action or an app has nothing else to
  // ship); in a monorepo the public root and every public workspace, or every workspace when none is public
  const pack = `npm pack --ignore-scripts --pack-destination ${PACK_DESTINATION}`
  const packCommands: string[] = []
  const packRoot = workspaces.length === 0 ? toPackRoot(facts) : undefined
  if (packRoot) packCommands.push(`npm pack ./${shellWord(packRoot)} ${pack.slice('npm pack '.length)}`)
  else if (workspaces.length === 0) packCommands.push(pack)
  else {
    const publicWs = workspaces.filter((w) => !w.private)
    if (!rootPrivate) packCommands.push(pack)
    const chosen = publicWs.length > 0 || !rootPrivate ? publicWs : workspaces
    if (chosen.length === workspaces.length) packCommands.push(`${pack} --workspaces`)
    else if (chosen.length > 0)
      packCommands.push(`${pack} ${chosen.map((w) => `-w ${shellWord(w.dir)}`).join(' ')}`)
    // what `npm publish -w` would run before packing each of them
    const withPrepack = chosen.filter(
      (w) => w.scripts.prepack !== undefined && !isHookOnly(w.scripts.prepack, w.scripts),
    )
    if (withPrepack.length > 0)
      build.push(`npm run prepack ${withPrepack.map((w) => `-w ${shellWord(w.dir)}`).join(' ')}`)
  }

  const lerna = workspaces.length === 0 && !packRoot ? (facts.lernaPackages ?? []) : []
  const install: string[] = []
  if (lerna.length > 0) {
    // lerna without npm workspaces: each package has its own dependencies (what `lerna bootstrap` installs)
    for (const p of lerna) if (p.lockfile) install.push(`cd ${shellWord(p.dir)} && npm ci --ignore-scripts`)
    if (build.length === 0)
      for (const p of lerna) {
        const name = toBuildScripts(p.scripts)[0]
        if (name) build.push(`npm run ${name} --prefix ${shellWord(p.dir)}`)
      }
    const publicPkgs = lerna.filter((p) => !p.private)
    packCommands.length = 0
    if (!rootPrivate) packCommands.push(pack)
    if (publicPkgs.length > 0)
      packCommands.push(
        `npm pack ${publicPkgs.map((p) => `./${shellWord(p.dir)}`).join(' ')} ${pack.slice('npm pack '.length)}`,
      )
    else if (rootPrivate) packCommands.push(pack)
  }
  if (build.length === 0)
    warnings.push(
      'no build script (build, package, compile, bundle, dist, prepack, prepare): the config only packs the committed files',
    )
  const needsInstall = build.length > 0 || hasBundledDependencies(facts.packageJson)
  if (needsInstall && !npmLock)
    warnings.push(
      lockfiles.length === 0
        ? 'no lockfile: with "network": "deny" the install has nothing to prefetch and fails; commit a package-lock.json (npm install --package-lock-only)'
        : `${lockfiles[0]}: detbuild prefetches npm lockfiles only; with "network": "deny" this install fails offline`,
    )

  const npm = detectNpmVersion(facts)
  const commands = [...build, `mkdir -p ${PACK_DESTINATION}`, ...packCommands]
  return {
    config: {
      // resolved by editors from the installed package, for completion and checking
      $schema: './node_modules/detbuild/schema/config.schema.json',
      toolchain: { node: detectNodeVersion(facts), ...(npm ? { npm } : {}) },
      // nothing to build: the install would only fetch packages the packing never reads
      install: needsInstall ? (install.length > 0 ? [installCommand, ...install] : installCommand) : [],
      build: commands,
      outputs: [`${PACK_DESTINATION}/*.tgz`],
      network: 'deny',
      scripts: false,
      // a build that asks git for its commit or tag gets a repository holding the HEAD commit only
      ...(facts.gitUse ? { git: true } : {}),
    },
    warnings: facts.gitUse
      ? [
          ...warnings,
          `the build calls git (${facts.gitUse}): git: true gives it a repository with the HEAD commit and its tags`,
        ]
      : warnings,
  }
}

/** A command line or source text that asks git about the checkout (its commit, tags, log). */
const GIT_CALL =
  /\bgit\s+(?:rev-parse|describe|log|show|rev-list|symbolic-ref|branch|tag|ls-files|status)\b|["'`]git["'`]\s*,\s*\[\s*["'`](?:rev-parse|describe|log|show|rev-list|symbolic-ref|branch|tag|ls-files|status)["'`]/
/** Packages that read the git repository at build time. */
const GIT_PACKAGES = [
  'git-describe',
  'git-repo-info',
  'git-rev-sync',
  'git-revision-webpack-plugin',
  'simple-git',
]
/** Where a build's own code usually lives (besides package.json scripts), relative to the project. */
const BUILD_FILE_GLOBS = [
  '*.{js,mjs,cjs,ts,mts,cts}',
  '{build,scripts,tools,tasks,config}/**/*.{js,mjs,cjs,ts,mts,cts,sh}',
]

/**
 * Edge: in a git repository, the first place the build calls git: a package.json script, a dependency
 * that reads the repository, or a build file (bounded: 400 files of at most 512 KiB are read).
 */
async function findGitUse(
  cwd: string,
  manifests: ReadonlyArray<readonly [string, Record<string, unknown> | null]>,
): Promise<string | null> {
  let dir = path.resolve(cwd)
  for (;;) {
    if (await exists(path.join(dir, '.git'))) break
    const up = path.dirname(dir)
    if (up === dir) return null
    dir = up
  }
  for (const [where, manifest] of manifests) {
    for (const [name, script] of Object.entries(toScripts(manifest)))
      if (GIT_CALL.test(script)) return `${where} scripts.${name}`
    for (const field of ['dependencies', 'devDependencies'] as const) {
      const deps = manifest?.[field]
      if (deps && typeof deps === 'object')
        for (const name of GIT_PACKAGES) if (name in deps) return `${where} ${field}.${name}`
    }
  }
  let read = 0
  for await (const rel of glob(BUILD_FILE_GLOBS, {
    cwd,
    exclude: (n) => n === 'node_modules' || n.startsWith('.'),
  })) {
    if (read++ >= 400) break
    const file = path.join(cwd, rel)
    const text = await readFile(file)
      .then((b) => (b.length > 512 * 1024 ? '' : b.toString('utf8')))
      .catch(() => '')
    if (GIT_CALL.test(text)) return rel.split(path.sep).join('/')
  }
  return null
}

async function readManifest(file: string, display: string): Promise<Record<string, unknown>> {
  const text = await readTextFile(file, 'BUILD_PACKAGE_JSON_INVALID', display)
  const raw = parseJson(text, display, 'BUILD_PACKAGE_JSON_INVALID')
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new InputError(
      'BUILD_PACKAGE_JSON_INVALID',
      `the document must be an object, not ${describeJsonType(raw)}`,
      { file: display, details: { path: '$' } },
    )
  return raw as Record<string, unknown>
}

/** The workspace globs of a manifest (`workspaces: [...]` or yarn's `workspaces: { packages: [...] }`). */
export function toWorkspacePatterns(manifest: Record<string, unknown> | null): string[] {
  const ws = manifest?.workspaces
  const list = Array.isArray(ws)
    ? ws
    : ws !== null && typeof ws === 'object' && Array.isArray((ws as Record<string, unknown>).packages)
      ? ((ws as Record<string, unknown>).packages as unknown[])
      : []
  return list.filter((p): p is string => typeof p === 'string' && p.trim() !== '')
}

/** Edge: the workspace folders (inside `cwd`, holding a package.json) that `patterns` select, sorted. */
async function readWorkspaces(
  cwd: string,
  patterns: string[],
  withLockfile = false,
): Promise<WorkspaceFacts[]> {
  const include = patterns.filter((p) => !p.startsWith('!'))
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1).replace(/\/+$/, ''))
  const dirs = new Set<string>()
  for (const pattern of include) {
    const clean = pattern.replace(/^\.\//, '').replace(/\/+$/, '')
    for await (const hit of glob(`${clean}/package.json`, {
      cwd,
      exclude: (name) => name === 'node_modules' || name.endsWith('/node_modules'),
    })) {
      const dir = path.dirname(hit).split(path.sep).join('/')
      // a pattern may point outside the project (`../x`, `/abs`): such a folder is not a workspace here
      if (path.isAbsolute(dir) || dir === '..' || dir.startsWith('../') || dir === '.') continue
      if (dir.split('/').includes('node_modules')) continue
      if (exclude.some((e) => path.matchesGlob(dir, e.replace(/^\.\//, '')))) continue
      dirs.add(dir)
    }
  }
  const out: WorkspaceFacts[] = []
  for (const dir of [...dirs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) {
    const manifest = await readManifest(path.join(cwd, dir, 'package.json'), `${dir}/package.json`)
    out.push({
      dir,
      private: isPrivate(manifest),
      scripts: toScripts(manifest),
      ...(withLockfile ? { lockfile: await exists(path.join(cwd, dir, 'package-lock.json')) } : {}),
    })
  }
  return out
}

/** Edge: the `packages` globs of `lerna.json` (none when it is missing or not the expected JSON). */
async function readLernaPatterns(cwd: string): Promise<string[]> {
  const text = await readOptional(path.join(cwd, 'lerna.json'))
  if (text === null) return []
  const raw = parseJson(text, 'lerna.json', 'BUILD_PACKAGE_JSON_INVALID')
  const packages = (raw as Record<string, unknown> | null)?.packages
  return Array.isArray(packages) ? packages.filter((p): p is string => typeof p === 'string') : []
}

async function readOptional(file: string): Promise<string | null> {
  return (await exists(file)) ? await readFile(file, 'utf8') : null
}

/** Edge: reads the project files `toInitialConfig` needs. */
export async function readProjectFacts(
  cwd: string,
  currentNode: string,
  currentNpm: string | null = null,
): Promise<ProjectFacts> {
  const packageJson = (await exists(path.join(cwd, 'package.json')))
    ? await readManifest(path.join(cwd, 'package.json'), 'package.json')
    : null
  const nvmrc = await readOptional(path.join(cwd, '.nvmrc'))
  const nodeVersionFile = await readOptional(path.join(cwd, '.node-version'))
  const lockfiles: string[] = []
  for (const f of ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'])
    if (await exists(path.join(cwd, f))) lockfiles.push(f)
  const workspaces = await readWorkspaces(cwd, toWorkspacePatterns(packageJson))
  const lernaPackages =
    workspaces.length === 0 ? await readWorkspaces(cwd, await readLernaPatterns(cwd), true) : []
  let releaseConfig: unknown
  for (const f of ['.releaserc', '.releaserc.json']) {
    const text = await readOptional(path.join(cwd, f))
    if (text === null) continue
    try {
      releaseConfig = JSON.parse(text)
    } catch {
      // YAML (or broken): its pkgRoot, if any, is not read
    }
    break
  }
  const gitUse = await findGitUse(cwd, [['package.json', packageJson]])
  return {
    packageJson,
    nvmrc,
    nodeVersionFile,
    releaseConfig,
    lockfiles,
    currentNode,
    currentNpm,
    workspaces,
    lernaPackages,
    gitUse,
  }
}

/** Edge: folders (two levels deep at most, no hidden or node_modules folders) that hold a package.json. */
async function findNestedPackages(cwd: string): Promise<string[]> {
  const found: string[] = []
  for await (const hit of glob(['*/package.json', '*/*/package.json'], {
    cwd,
    exclude: (name) => name === 'node_modules' || name.startsWith('.'),
  }))
    found.push(path.dirname(hit).split(path.sep).join('/'))
  return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Writes detbuild.config.json; refuses to overwrite an existing config unless `force`. A folder without
 * package.json whose subfolders hold packages is exit 2 naming them: run init and build there (`-C`).
 */
export async function initProject(
  cwd: string,
  options: { force?: boolean; currentNode: string; hostPath?: string },
): Promise<{ file: string; config: Record<string, unknown>; warnings: string[] }> {
  for (const name of CONFIG_FILES)
    if (!options.force && (await exists(path.join(cwd, name))))
      throw new InputError('CONFIG_EXISTS', `${name} already exists (use --force to overwrite)`, {
        file: name,
      })
  const npmBin = await findOnPath('npm', options.hostPath)
  const currentNpm = npmBin ? await readNpmVersion(npmBin) : null
  const facts = await readProjectFacts(cwd, options.currentNode, currentNpm)
  if (!facts.packageJson) {
    // a Go module: go.mod and its main packages
    const go = await toGoInitialConfig(cwd, options.hostPath)
    if (go) {
      await writeFileAtomic(path.join(cwd, 'detbuild.config.json'), stableJson(go.config))
      return { file: 'detbuild.config.json', ...go }
    }
    const nested = await findNestedPackages(cwd)
    const hint =
      nested.length > 0
        ? `; ${nested.slice(0, 5).join(', ')}${nested.length > 5 ? ', …' : ''} ${nested.length === 1 ? 'holds' : 'hold'} one: run \`detbuild -C ${shellWord(nested[0] as string)} init\` and build with the same -C`
        : ''
    throw new InputError('BUILD_PACKAGE_JSON_MISSING', `no package.json: not an npm project${hint}`, {
      file: 'package.json',
      ...(nested.length > 0 ? { details: { packages: nested } } : {}),
    })
  }
  const { config, warnings } = toInitialConfig(facts)
  await writeFileAtomic(path.join(cwd, 'detbuild.config.json'), stableJson(config))
  return { file: 'detbuild.config.json', config, warnings }
}

/** `detbuild lock`: records (and fetches, verifying) every pinned toolchain package. */
export async function lockToolchain(options: {
  cwd: string
  /** the resolved context (cache root, config file read with `readConfig`); else resolved from the options */
  context?: Context
  configFile?: string
  hostEnv: NodeJS.ProcessEnv
  cacheDir?: string
  registry?: string
  platforms?: string[]
}): Promise<{ file: string; added: string[]; packages: string[] }> {
  const context =
    options.context ??
    (await resolveContext({
      cwd: options.cwd,
      env: options.hostEnv,
      readConfig: true,
      ...(options.configFile ? { configFile: options.configFile } : {}),
      ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    }))
  const { config } = await toLoadedConfig(context.configFile, options.cwd)
  const settings = resolveBuildHostSettings(options.hostEnv, context.cacheRoot, {
    registry: options.registry,
  })
  const lockPath = path.join(options.cwd, LOCK_FILE)
  const lock = (await exists(lockPath))
    ? parseLock(await readTextFile(lockPath, 'BUILD_LOCK_INVALID', LOCK_FILE))
    : emptyLock()
  const specs: string[] = []
  if (config.toolchain.node.kind === 'version') {
    const platforms = options.platforms ?? [`${process.platform}-${process.arch}`]
    for (const p of platforms) {
      const [platform, arch] = p.split('-') as [string, string]
      specs.push(`${nodePackageName(platform, arch)}@${config.toolchain.node.version}`)
    }
  }
  if (config.toolchain.npm.kind === 'version') specs.push(`npm@${config.toolchain.npm.version}`)
  const added: string[] = []
  for (const spec of specs) {
    const { entry, added: isNew } = await resolveLockEntry(spec, {
      lock,
      frozenLock: false,
      registry: settings.registry,
      cacheDir: settings.cacheDir,
    })
    // fetch and verify now, so a bad lock entry or a tampered package fails here and the cache is warm
    await ensurePackage(spec, entry, settings)
    if (isNew) {
      lock.packages[spec] = entry
      added.push(spec)
    }
  }
  // a Go toolchain: fetched from the module proxy and verified (or pinned) by its h1:, per platform
  const go = config.toolchain.go
  if (go?.kind === 'version') {
    const proxy = resolveGoProxy(options.hostEnv.GOPROXY)
    // through the host's HTTP(S)_PROXY, as the registry's fetches
    const restoreProxy = await useEnvProxy(options.hostEnv, silentLogger)
    try {
      for (const p of options.platforms ?? [`${process.platform}-${process.arch}`]) {
        const [platform, arch] = p.split('-') as [string, string]
        const { goos, goarch } = goPlatform(platform, arch)
        const spec = `golang.org/toolchain@v0.0.1-go${go.version}.${goos}-${goarch}`
        const got = await ensureGoToolchain({
          cacheDir: settings.cacheDir,
          proxy,
          goVersion: go.version,
          goos,
          goarch,
          locked: lock.goToolchains?.[spec] ?? null,
          checksumDatabase: resolveChecksumDatabase(options.hostEnv.GOSUMDB),
        })
        if (got.added) {
          lock.goToolchains = { ...(lock.goToolchains ?? {}), [spec]: got.entry }
          added.push(spec)
        }
      }
    } finally {
      restoreProxy()
    }
  }
  if (added.length > 0 || !(await exists(lockPath))) await writeFileAtomic(lockPath, formatLock(lock))
  return {
    file: LOCK_FILE,
    added,
    packages: [...Object.keys(lock.packages), ...Object.keys(lock.goToolchains ?? {})].sort(),
  }
}
