/** `detbuild init` and `detbuild lock`: detect a project's build and pin its toolchain. */
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'
import { resolveBuildHostSettings } from '../config/build-env.ts'
import { CONFIG_FILES, loadBuildConfig } from '../config/load-build-config.ts'
import { InputError } from '../errors.ts'
import { stableJson } from '../util/canonical-json.ts'
import { exists, readTextFile, writeFileAtomic } from '../util/fs.ts'
import { describeJsonType, parseJson } from '../util/json-parse.ts'
import { emptyLock, formatLock, LOCK_FILE, nodePackageName, parseLock } from './lockfile.ts'
import { ensurePackage, resolveLockEntry } from './toolchain.ts'

export interface ProjectFacts {
  packageJson: Record<string, unknown> | null
  nvmrc: string | null
  lockfiles: string[]
  /** the running node's version, used when nothing pins one */
  currentNode: string
}

/** An exact version from `.nvmrc` or `engines.node`, if either pins one. */
export function detectNodeVersion(facts: ProjectFacts): string {
  const fromNvmrc = facts.nvmrc?.trim().replace(/^v/, '')
  if (fromNvmrc && semver.valid(fromNvmrc)) return fromNvmrc
  const engines = (facts.packageJson?.engines as Record<string, unknown> | undefined)?.node
  if (typeof engines === 'string') {
    const exact = engines.trim().replace(/^[=v]+/, '')
    if (semver.valid(exact)) return exact
    if (semver.validRange(engines) && semver.satisfies(facts.currentNode, engines)) return facts.currentNode
  }
  return facts.currentNode
}

/** The config `detbuild init` writes, from what the project holds (pure). */
export function toInitialConfig(facts: ProjectFacts): Record<string, unknown> {
  const scripts = (facts.packageJson?.scripts as Record<string, unknown> | undefined) ?? {}
  const lockfiles = facts.lockfiles
  const install =
    lockfiles.includes('package-lock.json') || lockfiles.includes('npm-shrinkwrap.json')
      ? 'npm ci --ignore-scripts'
      : lockfiles.includes('pnpm-lock.yaml')
        ? 'pnpm install --frozen-lockfile --ignore-scripts'
        : lockfiles.includes('yarn.lock')
          ? 'yarn install --frozen-lockfile --ignore-scripts'
          : 'npm install --ignore-scripts --no-package-lock'
  const build = [
    ...(typeof scripts.build === 'string' ? ['npm run build'] : []),
    'npm pack --pack-destination dist',
  ]
  const packageManager = facts.packageJson?.packageManager
  const npmPin =
    typeof packageManager === 'string' ? /^npm@(\d+\.\d+\.\d+)$/.exec(packageManager)?.[1] : undefined
  return {
    // resolved by editors from the installed package, for completion and checking
    $schema: './node_modules/detbuild/schema/config.schema.json',
    toolchain: { node: detectNodeVersion(facts), ...(npmPin ? { npm: npmPin } : {}) },
    install,
    build: build.length === 1 ? build[0] : build,
    outputs: ['dist/*.tgz'],
    env: ['NODE_ENV'],
    network: 'deny',
    scripts: false,
  }
}

/** Edge: reads the project files `toInitialConfig` needs. */
export async function readProjectFacts(cwd: string, currentNode: string): Promise<ProjectFacts> {
  let packageJson: Record<string, unknown> | null = null
  if (await exists(path.join(cwd, 'package.json'))) {
    const text = await readTextFile(
      path.join(cwd, 'package.json'),
      'BUILD_PACKAGE_JSON_INVALID',
      'package.json',
    )
    const raw = parseJson(text, 'package.json', 'BUILD_PACKAGE_JSON_INVALID')
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new InputError(
        'BUILD_PACKAGE_JSON_INVALID',
        `the document must be an object, not ${describeJsonType(raw)}`,
        { file: 'package.json', details: { path: '$' } },
      )
    packageJson = raw as Record<string, unknown>
  }
  const nvmrc = (await exists(path.join(cwd, '.nvmrc')))
    ? await readFile(path.join(cwd, '.nvmrc'), 'utf8')
    : null
  const lockfiles: string[] = []
  for (const f of ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock'])
    if (await exists(path.join(cwd, f))) lockfiles.push(f)
  return { packageJson, nvmrc, lockfiles, currentNode }
}

/** Writes detbuild.config.json; refuses to overwrite an existing config unless `force`. */
export async function initProject(
  cwd: string,
  options: { force?: boolean; currentNode: string },
): Promise<{ file: string; config: Record<string, unknown> }> {
  for (const name of CONFIG_FILES)
    if (!options.force && (await exists(path.join(cwd, name))))
      throw new InputError('BUILD_CONFIG_EXISTS', `${name} already exists (use --force to overwrite)`, {
        file: name,
      })
  const facts = await readProjectFacts(cwd, options.currentNode)
  if (!facts.packageJson)
    throw new InputError('BUILD_PACKAGE_JSON_MISSING', 'no package.json: not an npm project', {
      file: 'package.json',
    })
  const config = toInitialConfig(facts)
  await writeFileAtomic(path.join(cwd, 'detbuild.config.json'), stableJson(config))
  return { file: 'detbuild.config.json', config }
}

/** `detbuild lock`: records (and fetches, verifying) every pinned toolchain package. */
export async function lockToolchain(options: {
  cwd: string
  configFile?: string
  hostEnv: NodeJS.ProcessEnv
  cacheDir?: string
  registry?: string
  platforms?: string[]
}): Promise<{ file: string; added: string[]; packages: string[] }> {
  const { config } = await loadBuildConfig(options.cwd, options.configFile)
  const settings = resolveBuildHostSettings(options.hostEnv, options.cwd, {
    cacheDir: options.cacheDir,
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
  if (added.length > 0 || !(await exists(lockPath))) await writeFileAtomic(lockPath, formatLock(lock))
  return { file: LOCK_FILE, added, packages: Object.keys(lock.packages).sort() }
}
