import path from 'node:path'
import semver from 'semver'
import { InputError } from '../../errors.ts'
import { exists, readBytesFile, readTextFile } from '../../util/fs.ts'
import { compareCodePoint } from '../../util/sort.ts'
import type { Inventory, InventoryNode } from '../inventory.ts'
import { hashGoMod } from './dirhash.ts'
import { type GoListGraph, readGoListGraph } from './go-list.ts'
import { type GoMod, type GoReplace, type ModuleVersion, parseGoMod } from './gomod.ts'
import { type GoSum, parseGoSum } from './gosum.ts'
import { type MainVersion, readMainVersion } from './main-version.ts'
import { goModulePurl, stdlibPurl } from './purl.ts'
import { goSemver } from './version-order.ts'

/** Properties the Go reader writes (H2's binary reader and H3's scan read the same names). */
export const GO_PROPERTY = {
  h1: 'detbuild:go:h1',
  goModH1: 'detbuild:go:gomod-h1',
  requirement: 'detbuild:go:requirement',
  replaces: 'detbuild:go:replaces',
  replaceDir: 'detbuild:go:replace-dir',
  version: 'detbuild:go:version',
  versionSource: 'detbuild:go:version-source',
  mainVersionSource: 'detbuild:go:main-version-source',
  revision: 'detbuild:go:vcs-revision',
  modified: 'detbuild:go:vcs-modified',
} as const

type Property = { name: string; value: string }

/** Node keys of Go modules: prefixed, so that they never meet an npm install location in a mixed tree. */
export const GO_KEY_PREFIX = 'go:'
/** `#` is in no module path: a module named `stdlib` cannot take its place */
const STDLIB_KEY = `${GO_KEY_PREFIX}#stdlib`

/** The selected module of one requirement, after replace. */
export interface SelectedModule {
  /** the path go.mod requires (the node key's path) */
  path: string
  /** the required version */
  version: string
  indirect: boolean
  /** the replacement, when one applies */
  replace: GoReplace | undefined
}

/** The version `go.mod`'s requirements leave for each path, after exclude and replace (pure). */
export function selectModules(
  mod: GoMod,
  file = 'go.mod',
): { modules: SelectedModule[]; warnings: string[] } {
  const warnings: string[] = []
  const byPath = new Map<string, { path: string; version: string; indirect: boolean; line: number }>()
  for (const r of mod.require) {
    const seen = byPath.get(r.path)
    if (seen) {
      warnings.push(
        `${file}:${r.line}: ${r.path} is required twice (also ${file}:${seen.line}); the higher version is selected, as Go does`,
      )
      if (semver.compare(r.version.slice(1), seen.version.slice(1)) <= 0) {
        seen.indirect &&= r.indirect
        continue
      }
      byPath.set(r.path, { ...r, indirect: seen.indirect && r.indirect })
    } else byPath.set(r.path, { ...r })
  }
  for (const x of mod.exclude) {
    const r = byPath.get(x.path)
    if (r && r.version === x.version)
      throw new InputError(
        'GO_MOD_INCONSISTENT',
        `${file}:${r.line}: ${r.path} ${r.version} is required but excluded (${file}:${x.line}); the go command would pick another version: run go mod tidy`,
        { file },
      )
  }
  const exact = new Map<string, GoReplace>()
  const any = new Map<string, GoReplace>()
  for (const rep of mod.replace) {
    const map = rep.old.version === undefined ? any : exact
    const key = rep.old.version === undefined ? rep.old.path : `${rep.old.path}@${rep.old.version}`
    const seen = map.get(key)
    if (seen && (seen.new.path !== rep.new.path || seen.new.version !== rep.new.version))
      throw new InputError(
        'GO_MOD_SYNTAX',
        `${file}:${rep.line}: conflicting replacements for ${key} (also ${file}:${seen.line})`,
        { file },
      )
    map.set(key, rep)
  }
  const modules = [...byPath.values()]
    .sort((a, b) => compareCodePoint(a.path, b.path))
    .map((r) => ({
      path: r.path,
      version: r.version,
      indirect: r.indirect,
      replace: exact.get(`${r.path}@${r.version}`) ?? any.get(r.path),
    }))
  return { modules, warnings }
}

/** The `h1:` of a go.mod file's bytes, as go.sum's `/go.mod` lines record it (dirhash.Hash1 over one file). */
export function goModH1(bytes: Uint8Array): string {
  return hashGoMod(bytes)
}

/** Module cache path escaping (golang.org/x/mod/module.EscapePath): `A` → `!a`. */
export function escapeModulePath(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)
}

/** The dependency requirements the reader found for a module, or null when it could not look. */
export type DependencyGoMods = ReadonlyMap<string, readonly string[] | null>

/** A Go module (or the Go release) as an inventory node: no npm flags, its own purl and properties. */
export function goInventoryNode(
  key: string,
  name: string,
  version: string,
  purl: string,
  kind: InventoryNode['kind'],
  properties: Array<{ name: string; value: string }>,
): InventoryNode {
  return {
    key,
    name,
    version,
    location: name,
    kind,
    resolved: undefined,
    integrity: undefined,
    dev: false,
    optional: false,
    devOptional: false,
    peer: false,
    extraneous: false,
    bundled: false,
    manifest: { name, version },
    deps: [],
    ecosystem: 'go',
    purl,
    properties,
  }
}

/** The Go release an SBOM names from go.mod: the toolchain line, else the go line (a minimum either way). */
export function goRelease(mod: GoMod): { version: string; source: string } | undefined {
  if (mod.toolchain !== undefined && mod.toolchain !== 'default')
    return { version: mod.toolchain.replace(/-.*$/, ''), source: 'go.mod toolchain' }
  if (mod.go !== undefined) return { version: `go${mod.go}`, source: 'go.mod go' }
  return undefined
}

/**
 * Pure: the inventory of a parsed module. `depGoMods` maps a selected module's key to the module paths
 * its go.mod requires, or null when that go.mod could not be read or verified.
 */
export function toGoInventory(input: {
  mod: GoMod
  sum: GoSum | undefined
  main: MainVersion
  depGoMods: DependencyGoMods
  warnings?: string[]
}): Inventory {
  const { mod, sum } = input
  const { modules, warnings } = selectModules(mod)
  warnings.unshift(...(input.warnings ?? []))
  const modulePath = mod.module!.path
  const rootProps: Property[] = [{ name: GO_PROPERTY.mainVersionSource, value: input.main.source }]
  if (input.main.revision) rootProps.push({ name: GO_PROPERTY.revision, value: input.main.revision })
  if (input.main.dirty) rootProps.push({ name: GO_PROPERTY.modified, value: 'true' })
  const root = goInventoryNode(
    '',
    modulePath,
    input.main.version,
    goModulePurl(modulePath, input.main.source === 'unknown' ? undefined : input.main.version),
    'root',
    rootProps,
  )
  root.location = ''
  const nodes = new Map<string, InventoryNode>([['', root]])
  const incomplete: string[] = []
  for (const m of modules) {
    const props: Property[] = [{ name: GO_PROPERTY.requirement, value: m.indirect ? 'indirect' : 'direct' }]
    const key = GO_KEY_PREFIX + m.path
    let n: InventoryNode
    if (m.replace?.local) {
      props.push({ name: GO_PROPERTY.replaceDir, value: m.replace.new.path })
      props.push({ name: GO_PROPERTY.replaces, value: `${m.path}@${m.version}` })
      n = goInventoryNode(key, m.path, '', goModulePurl(m.path, undefined), 'directory', props)
    } else {
      const target: Required<ModuleVersion> = m.replace
        ? { path: m.replace.new.path, version: m.replace.new.version! }
        : { path: m.path, version: m.version }
      if (m.replace) props.push({ name: GO_PROPERTY.replaces, value: `${m.path}@${m.version}` })
      const id = `${target.path}@${target.version}`
      const h1 = sum?.modules.get(id)
      const modH1 = sum?.goMods.get(id)
      if (h1) props.push({ name: GO_PROPERTY.h1, value: h1 })
      if (modH1) props.push({ name: GO_PROPERTY.goModH1, value: modH1 })
      n = goInventoryNode(
        key,
        target.path,
        target.version,
        goModulePurl(target.path, target.version),
        'registry',
        props,
      )
    }
    nodes.set(key, n)
    root.deps.push(key)
  }
  const release = goRelease(mod)
  if (release) {
    nodes.set(
      STDLIB_KEY,
      goInventoryNode(STDLIB_KEY, 'stdlib', release.version, stdlibPurl(release.version), 'registry', [
        { name: GO_PROPERTY.version, value: release.version },
        { name: GO_PROPERTY.versionSource, value: release.source },
      ]),
    )
    root.deps.push(STDLIB_KEY)
  } else warnings.push('go.mod has no go directive: the Go release (stdlib) is unknown and not listed')
  // Go ≥ 1.17 lists every module the build needs in go.mod ("pruned module graph"); before, only some
  const language = mod.go === undefined ? null : goSemver(`go${mod.go}`)
  const pruned = language !== null && semver.gte(language, '1.17.0-0')
  if (!pruned && modules.length > 0) {
    warnings.push(
      `go.mod says go ${mod.go ?? '(none: 1.16)'}: before Go 1.17 go.mod does not list every module the build needs; the module list and graph may be incomplete (run go mod tidy -go=1.17)`,
    )
    incomplete.push('')
  }
  for (const m of modules) {
    const key = GO_KEY_PREFIX + m.path
    const requires = input.depGoMods.get(key)
    if (requires === undefined || requires === null) {
      incomplete.push(key)
      continue
    }
    const n = nodes.get(key)!
    for (const p of [...new Set(requires)].sort(compareCodePoint)) {
      const to = GO_KEY_PREFIX + p
      // a requirement the pruned graph left out is not built: no edge to a module not selected
      if (to !== key && nodes.has(to)) n.deps.push(to)
    }
  }
  const inv: Inventory = {
    root,
    nodes,
    warnings,
    lockfile: sum ? 'go.sum' : undefined,
    lockfileVersion: undefined,
    source: 'lockfile',
    workspaces: new Map(),
  }
  if (incomplete.length > 0) inv.incompleteDeps = incomplete.sort(compareCodePoint)
  return inv
}

/** Where the module cache is: $GOMODCACHE, else the first $GOPATH entry's pkg/mod, else ~/go/pkg/mod. */
export function moduleCacheDir(env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (env.GOMODCACHE && path.isAbsolute(env.GOMODCACHE)) return env.GOMODCACHE
  const gopath = env.GOPATH?.split(path.delimiter).find((p) => p !== '' && path.isAbsolute(p))
  if (gopath) return path.join(gopath, 'pkg', 'mod')
  if (env.HOME && path.isAbsolute(env.HOME)) return path.join(env.HOME, 'go', 'pkg', 'mod')
  return undefined
}

/**
 * Edge: each selected module's requirements from its go.mod: a local directory replacement's from disk,
 * a module's from the module cache when it hashes to go.sum's `/go.mod` line (a cached file that does not
 * is not used, and said so). Null where it could not look.
 */
async function readDependencyGoMods(
  projectDir: string,
  modules: readonly SelectedModule[],
  sum: GoSum | undefined,
  cacheDir: string | undefined,
  warnings: string[],
): Promise<Map<string, string[] | null>> {
  const out = new Map<string, string[] | null>()
  await Promise.all(
    modules.map(async (m) => {
      const key = GO_KEY_PREFIX + m.path
      out.set(key, null)
      try {
        if (m.replace?.local) {
          const dir = path.resolve(projectDir, m.replace.new.path)
          const file = path.join(dir, 'go.mod')
          const display = `${m.replace.new.path.replace(/\\/g, '/').replace(/\/$/, '')}/go.mod`
          if (!(await exists(file, display, 'GO_MOD_UNREADABLE'))) {
            warnings.push(`replace ${m.path} => ${m.replace.new.path}: ${display} is missing`)
            return
          }
          const text = await readTextFile(file, 'GO_MOD_UNREADABLE', display)
          out.set(
            key,
            parseGoMod(text, { file: display, strict: false }).require.map((r) => r.path),
          )
          return
        }
        if (cacheDir === undefined) return
        const target = m.replace ? m.replace.new : { path: m.path, version: m.version }
        const id = `${target.path}@${target.version}`
        const want = sum?.goMods.get(id)
        if (want === undefined) return
        const file = path.join(
          cacheDir,
          'cache',
          'download',
          escapeModulePath(target.path),
          '@v',
          `${escapeModulePath(target.version!)}.mod`,
        )
        if (!(await exists(file))) return
        const bytes = await readBytesFile(file, 'GO_MOD_UNREADABLE', `module cache ${id}.mod`)
        if (goModH1(bytes) !== want) {
          warnings.push(
            `module cache: the go.mod of ${id} does not match go.sum (${want}): not used; its dependencies are listed as unknown`,
          )
          return
        }
        const dep = parseGoMod(bytes.toString('utf8'), { file: `${id}/go.mod`, strict: false })
        out.set(
          key,
          dep.require.map((r) => r.path),
        )
      } catch (e) {
        // a dependency's go.mod Go itself would refuse: its edges are unknown, not the whole SBOM
        warnings.push(`${m.path}: dependencies unknown: ${(e as Error).message}`)
        out.set(key, null)
      }
    }),
  )
  return out
}

/**
 * Pure: each selected module's requirements from the go command's graph (`--go-list`), after checking
 * that the go command selects the versions (and replacements) go.mod says; a module the command selects
 * that go.mod does not list provides no package to the build, and is only counted in a warning.
 */
export function depsFromGoList(
  graph: GoListGraph,
  modules: readonly SelectedModule[],
  mainPath: string,
  warnings: string[],
): Map<string, string[]> {
  const listed = new Map(graph.modules.filter((m) => !m.main).map((m) => [m.path, m]))
  const out = new Map<string, string[]>()
  const selected = new Map<string, SelectedModule>()
  for (const m of modules) {
    selected.set(m.path, m)
    const l = listed.get(m.path)
    const want = m.replace
      ? `${m.replace.new.path}${m.replace.local ? '' : `@${m.replace.new.version}`}`
      : undefined
    const got = l?.replace
      ? `${l.replace.path}${l.replace.version ? `@${l.replace.version}` : ''}`
      : undefined
    if (!l || l.version !== m.version || got !== want)
      throw new InputError(
        'GO_MOD_INCONSISTENT',
        `go.mod requires ${m.path} ${m.version}${want ? ` => ${want}` : ''}, the go command selects ${
          l ? `${l.version}${got ? ` => ${got}` : ''}` : 'nothing'
        }: run go mod tidy`,
        { file: 'go.mod' },
      )
    out.set(GO_KEY_PREFIX + m.path, [])
  }
  for (const [from, to] of graph.edges) {
    const at = from.lastIndexOf('@')
    if (at <= 0 || from === mainPath) continue
    const m = selected.get(from.slice(0, at))
    if (!m || m.version !== from.slice(at + 1)) continue
    const target = to.slice(0, Math.max(0, to.lastIndexOf('@')))
    if (selected.has(target)) out.get(GO_KEY_PREFIX + m.path)!.push(target)
  }
  const extra = [...listed.keys()].filter((p) => !selected.has(p)).length
  if (extra > 0)
    warnings.push(
      `go list: ${extra} more module${extra === 1 ? '' : 's'} in the module graph provide no package to the build (go.mod does not list them) and are not components`,
    )
  return out
}

/** Options of {@link readGoInventory}. */
export interface GoInventoryOptions {
  /** the step's environment: GOMODCACHE / GOPATH / HOME (the module cache), PATH and git's */
  env: Readonly<Record<string, string | undefined>>
  /** the graph from the go command (`--go-list`) instead of the module cache's go.mod files */
  goList?: boolean
}

/** Edge: reads the Go module in `projectDir` (go.mod required, go.sum when present). */
export async function readGoInventory(projectDir: string, options: GoInventoryOptions): Promise<Inventory> {
  const mod = await readGoModFile(projectDir)
  const warnings: string[] = []
  let sum: GoSum | undefined
  const sumFile = path.join(projectDir, 'go.sum')
  if (await exists(sumFile, 'go.sum', 'GO_SUM_UNREADABLE'))
    sum = parseGoSum(await readTextFile(sumFile, 'GO_SUM_UNREADABLE', 'go.sum'), 'go.sum')
  else if (mod.require.length > 0)
    warnings.push('go.sum is missing: no h1 hashes are recorded, and no dependency go.mod can be verified')
  const { modules } = selectModules(mod)
  const [main, depGoMods] = await Promise.all([
    readMainVersion(projectDir, mod.module!.path, options.env),
    options.goList
      ? readGoListGraph(projectDir, options.env).then((g) =>
          depsFromGoList(g, modules, mod.module!.path, warnings),
        )
      : readDependencyGoMods(projectDir, modules, sum, moduleCacheDir(options.env), warnings),
  ])
  return toGoInventory({ mod, sum, main, depGoMods, warnings })
}

/** Edge: reads and parses the project's go.mod (strict). */
export async function readGoModFile(projectDir: string): Promise<GoMod> {
  const text = await readTextFile(path.join(projectDir, 'go.mod'), 'GO_MOD_UNREADABLE', 'go.mod')
  return parseGoMod(text, { file: 'go.mod', strict: true })
}

/** Edge: whether `projectDir` holds a go.mod (an unreadable one is detected: the reader reports it). */
export async function detectGoProject(projectDir: string): Promise<boolean> {
  try {
    return await exists(path.join(projectDir, 'go.mod'))
  } catch {
    return true
  }
}
