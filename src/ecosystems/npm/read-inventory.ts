/**
 * Edge: reads an npm project's dependency tree and turns it into plain data: a v2/v3 lockfile directly
 * (lockfile-reader.ts, pure; this file reads the files it needs), a v1 lockfile or the installed
 * node_modules with @npmcli/arborist (loaded only then). Everything after this file is pure.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { InputError } from '../../errors.ts'
import { exists, isDirectory, readTextFile } from '../../util/fs.ts'
import { parseJson } from '../../util/json-parse.ts'
import { compareCodePoint } from '../../util/sort.ts'
import type { ProjectLock } from '../ecosystem.ts'
import { addInstalledGoBinaries } from '../go/installed-binaries.ts'
import type { Inventory, InventoryNode, TreeSource } from '../inventory.ts'
import { assertLockfileShape, assertPackageJsonShape } from './input-shapes.ts'
import { readInstalledManifests } from './installed-manifests.ts'
import { toLockInfo, toProjectLock } from './lock-info.ts'
import {
  type LockfileInput,
  linkTargetLocations,
  NEEDS_SPEC_PARSER,
  readLockfileInventory,
  resolvesOutsideRegistry,
  simpleWorkspacePatterns,
} from './lockfile-reader.ts'
import { toPurl } from './purl.ts'
import { kindOf, pickManifest, satisfiesPlainRange } from './tree-node.ts'

const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json'] as const

/** Finds and checks the lockfile: present, valid JSON, a known lockfileVersion. */
async function checkLockfile(
  cwd: string,
): Promise<{ file: string; version: number; data: Record<string, unknown> }> {
  for (const name of LOCKFILES) {
    const file = path.join(cwd, name)
    if (!(await exists(file, name, 'SBOM_LOCKFILE_UNREADABLE'))) continue
    const data = parseJson(
      await readTextFile(file, 'SBOM_LOCKFILE_UNREADABLE', name),
      name,
      'SBOM_LOCKFILE_INVALID',
    )
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw new InputError('SBOM_LOCKFILE_INVALID', 'expected a JSON object', { file: name })
    }
    const lock = data as { lockfileVersion?: unknown; packages?: unknown; dependencies?: unknown }
    const version = lock.lockfileVersion
    if (version !== 1 && version !== 2 && version !== 3) {
      throw new InputError(
        'SBOM_LOCKFILE_INVALID',
        `unsupported lockfileVersion ${JSON.stringify(version)} (expected 1, 2 or 3)`,
        { file: name },
      )
    }
    const section = version === 1 ? lock.dependencies : lock.packages
    if (
      section !== undefined &&
      (typeof section !== 'object' || section === null || Array.isArray(section))
    ) {
      throw new InputError(
        'SBOM_LOCKFILE_INVALID',
        `"${version === 1 ? 'dependencies' : 'packages'}" must be an object`,
        { file: name },
      )
    }
    assertLockfileShape(data, name)
    return { file: name, version, data: data as Record<string, unknown> }
  }
  throw new InputError(
    'SBOM_LOCKFILE_MISSING',
    'no package-lock.json or npm-shrinkwrap.json (create one with: npm install --package-lock-only)',
    { file: cwd },
  )
}

// The subset of Arborist's Node and Edge that we read; typed here so the rest stays independent of it.
interface ArbEdge {
  type: string
  name: string
  spec: string
  to: ArbNode | null
  valid: boolean
  missing: boolean
  invalid: boolean
  peerConflicted?: boolean
  optional: boolean
  peer: boolean
  from: ArbNode | null
}
interface ArbNode {
  name: string
  packageName: string
  version: string
  location: string
  resolved: string | null
  integrity: string | null
  isLink: boolean
  isRoot: boolean
  isWorkspace: boolean
  target: ArbNode
  dev: boolean
  optional: boolean
  devOptional: boolean
  peer: boolean
  extraneous: boolean
  inBundle: boolean
  package: Record<string, unknown> & { bundleDependencies?: unknown; bundledDependencies?: unknown }
  edgesOut: Map<string, ArbEdge>
  inventory: Map<string, ArbNode>
  workspaces?: Map<string, string> | null
}

/** Whether an edge's target satisfies its spec: a plain range by semver, anything else by Arborist. */
function satisfiesQuickly(edge: ArbEdge, to: ArbNode): boolean {
  return satisfiesPlainRange(edge.spec, to.version) ?? !edge.invalid
}

/** An edge's spec for a message: a workspace's (`file:<absolute path>` in Arborist) relative to the project. */
function shownSpec(edge: { type: string; spec: string }, projectDir: string): string {
  if (edge.type !== 'workspace' || !edge.spec.startsWith('file:')) return edge.spec
  return `file:${path.relative(projectDir, edge.spec.slice(5)).split(path.sep).join('/')}`
}

/**
 * A temporary folder whose entries link to the project's, with the shrinkwrap as package-lock.json, so
 * that Arborist (which no longer reads npm-shrinkwrap.json) sees the same tree npm would install.
 */
async function shadowWithShrinkwrap(cwd: string): Promise<string> {
  const base = await mkdtemp(path.join(tmpdir(), 'detbuild-shrinkwrap-'))
  const dir = path.join(base, path.basename(cwd))
  await mkdir(dir)
  for (const entry of await readdir(cwd)) {
    if (entry === 'package-lock.json' || entry === 'npm-shrinkwrap.json' || entry === 'node_modules') continue
    await symlink(path.join(cwd, entry), path.join(dir, entry))
  }
  await copyFile(path.join(cwd, 'npm-shrinkwrap.json'), path.join(dir, 'package-lock.json'))
  return dir
}

/**
 * A package must have a name a package URL can carry: a lockfile entry at `packages[" "]` gives Arborist
 * a blank name, which packageurl-js refuses (it would otherwise surface as a crash in the SBOM writer).
 */
function assertNamed(node: InventoryNode, lockfile: string | undefined): void {
  try {
    toPurl(node)
  } catch (e) {
    const where = lockfile ? `packages[${JSON.stringify(node.location)}]` : node.location
    throw new InputError(
      lockfile ? 'SBOM_LOCKFILE_INVALID' : 'SBOM_TREE_UNREADABLE',
      `${where}: the package name ${JSON.stringify(node.name.slice(0, 80))} cannot be a package URL (${(e as Error).message.replace(/^Invalid purl: /, '')})`,
      { file: lockfile ?? 'node_modules', details: { path: lockfile ? `$.${where}` : node.location } },
    )
  }
}

/** A package.json on disk as Arborist would use it, or undefined when there is none or it is not plain. */
async function readPackageJsonIfAny(file: string): Promise<Record<string, unknown> | null | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? undefined : null
  }
  try {
    const data = JSON.parse(text) as unknown
    assertPackageJsonShape(data)
    return data as Record<string, unknown>
  } catch {
    return null
  }
}

/** Whether `dir` is a folder (symlinks followed, as glob does); null on any other error than absence. */
async function folderOrNull(dir: string): Promise<boolean | null> {
  try {
    return (await stat(dir)).isDirectory()
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' || code === 'ENOTDIR' ? false : null
  }
}

/**
 * The workspace folders @npmcli/map-workspaces finds for `a/b` and `a/*` patterns (in its order: sorted,
 * then by pattern), each with its package.json; null when only Arborist can say (other globs, an
 * unreadable package.json).
 */
async function findWorkspaceFolders(
  cwd: string,
  rootPackage: Record<string, unknown>,
): Promise<LockfileInput['workspaceFolders'] | null> {
  const patterns = simpleWorkspacePatterns(rootPackage)
  if (patterns === null) return null
  const perPattern: string[][] = []
  const matches = new Set<string>()
  for (const p of patterns) {
    const found: string[] = []
    if (p.endsWith('/*')) {
      const dir = p.slice(0, -2)
      let entries: string[]
      try {
        entries = await readdir(path.join(cwd, dir))
      } catch {
        entries = []
      }
      for (const e of entries) {
        if (e.startsWith('.') || e === 'node_modules') continue
        const isDir = await folderOrNull(path.join(cwd, dir, e))
        if (isDir === null) return null
        if (isDir) found.push(`${dir}/${e}`)
      }
    } else {
      const isDir = await folderOrNull(path.join(cwd, p))
      if (isDir === null) return null
      if (isDir) found.push(p)
    }
    for (const f of found) matches.add(f)
    perPattern.push(found)
  }
  const sorted = [...matches].sort((a, b) => a.localeCompare(b, 'en'))
  const ordered: string[] = []
  for (const found of perPattern) for (const m of sorted) if (found.includes(m)) ordered.push(m)
  const out: Array<{ dir: string; pkg: Record<string, unknown> }> = []
  const seen = new Set<string>()
  for (const dir of ordered) {
    if (seen.has(dir)) continue
    seen.add(dir)
    const pkg = await readPackageJsonIfAny(path.join(cwd, dir, 'package.json'))
    if (pkg === null) return null
    if (pkg !== undefined) out.push({ dir, pkg })
  }
  return out
}

/** The direct read of a v2/v3 lockfile (lockfile-reader.ts), or null when Arborist must read it. */
async function readLockfileDirectly(
  cwd: string,
  rootPackage: Record<string, unknown>,
  lock: CheckedLock,
): Promise<Inventory | null> {
  const workspaceFolders = await findWorkspaceFolders(cwd, rootPackage)
  if (workspaceFolders === null) return null
  const linkTargetPackages = new Map<string, Record<string, unknown>>()
  for (const loc of linkTargetLocations(lock.data)) {
    const pkg = await readPackageJsonIfAny(path.join(cwd, loc, 'package.json'))
    if (pkg === null) return null
    if (pkg !== undefined) linkTargetPackages.set(loc, pkg)
  }
  const input: LockfileInput = {
    lockfile: lock.file,
    lockfileVersion: lock.version,
    lock: lock.data,
    rootPackage,
    projectDir: path.resolve(cwd),
    workspaceFolders,
    linkTargetPackages,
  }
  // git, remote or tarball resolutions and specs need npm-package-arg (loaded only then): a resolution
  // says so up front, a spec alone when the reader meets it (then it reads again)
  const loadNpa = async () => (await import('npm-package-arg')).default
  if (resolvesOutsideRegistry(lock.data)) input.npa = await loadNpa()
  let inventory = readLockfileInventory(input)
  if (inventory === NEEDS_SPEC_PARSER) {
    inventory = readLockfileInventory({ ...input, npa: await loadNpa() })
    if (inventory === NEEDS_SPEC_PARSER) return null
  }
  if (inventory) for (const node of inventory.nodes.values()) assertNamed(node, lock.file)
  return inventory
}

/**
 * Loads the tree and returns plain data; tree problems become warnings, never failures. A v2/v3 lockfile
 * is read directly (lockfile-reader.ts); v1 lockfiles, `installed` trees and whatever the direct reader
 * leaves to it go through Arborist (`via: 'arborist'` forces that path: the oracle in tests).
 */
export async function readInventory(
  cwd: string,
  source: TreeSource,
  options: { via?: 'arborist' } = {},
): Promise<Inventory> {
  const { rootPackage, lock } = await readProjectFiles(cwd, source)
  if (lock && lock.version >= 2 && options.via !== 'arborist') {
    const direct = await readLockfileDirectly(cwd, rootPackage, lock)
    if (direct !== null) return direct
  }
  const inventory = await readWithArborist(cwd, source, lock)
  // the Go executables installed packages ship (esbuild's): their Go modules, nested in the package
  if (source === 'installed') await addInstalledGoBinaries(cwd, inventory)
  return inventory
}

/**
 * The direct read alone, for tests: the inventory, or null when the lockfile is v1 or the direct
 * reader leaves it to Arborist. Checks the inputs exactly as readInventory does.
 */
export async function readInventoryDirectly(cwd: string): Promise<Inventory | null> {
  const { rootPackage, lock } = await readProjectFiles(cwd, 'lockfile')
  return lock && lock.version >= 2 ? readLockfileDirectly(cwd, rootPackage, lock) : null
}

type CheckedLock = Awaited<ReturnType<typeof checkLockfile>>

/** package.json and the lockfile, read and checked (shape, version) before any tree is built. */
async function readProjectFiles(
  cwd: string,
  source: TreeSource,
): Promise<{ rootPackage: Record<string, unknown>; lock: CheckedLock | undefined }> {
  const pkgFile = path.join(cwd, 'package.json')
  const pkgText = await readTextFile(pkgFile, 'SBOM_PACKAGE_JSON_UNREADABLE', 'package.json')
  const rootPackage = parseJson(pkgText, 'package.json', 'SBOM_PACKAGE_JSON_INVALID')
  // Arborist crashes (or drops data) on a type-confused manifest: check its shape first
  assertPackageJsonShape(rootPackage)
  const lock = source === 'lockfile' ? await checkLockfile(cwd) : undefined
  // an installed tree without node_modules is an empty tree: a clean scan of nothing, so refuse it
  if (source === 'installed' && !(await isDirectory(path.join(cwd, 'node_modules'))))
    throw new InputError(
      'SBOM_NODE_MODULES_MISSING',
      'no node_modules folder to read with --from installed (run npm ci first, or use --from lockfile)',
      { file: 'node_modules' },
    )
  return { rootPackage: rootPackage as Record<string, unknown>, lock }
}

/** The Arborist read: loadVirtual (lockfile) or loadActual (installed), turned into plain data. */
async function readWithArborist(
  cwd: string,
  source: TreeSource,
  lock: CheckedLock | undefined,
): Promise<Inventory> {
  const { default: Arborist } = await import('@npmcli/arborist')
  // Arborist reads only package-lock.json: a shrinkwrap is shown to it through a shadow folder
  const shadow = lock?.file === 'npm-shrinkwrap.json' ? await shadowWithShrinkwrap(cwd) : undefined
  const arb = new Arborist({
    path: shadow ?? cwd,
    audit: false,
    fund: false,
    workspacesEnabled: true,
  } as never)
  let tree: ArbNode
  try {
    tree = (source === 'lockfile' ? await arb.loadVirtual() : await arb.loadActual()) as unknown as ArbNode
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    if (err.code === 'ENOLOCK') {
      throw new InputError(
        'SBOM_LOCKFILE_MISSING',
        'no lockfile (create one with: npm install --package-lock-only)',
        {
          file: cwd,
          cause: e,
        },
      )
    }
    if (err.code === 'EJSONPARSE') {
      throw new InputError('SBOM_INPUT_INVALID', `invalid JSON: ${err.message}`, {
        file: 'package.json',
        cause: e,
      })
    }
    throw new InputError('SBOM_TREE_UNREADABLE', `cannot read the dependency tree: ${err.message}`, {
      file: lock?.file ?? 'node_modules',
      cause: e,
    })
  } finally {
    if (shadow) await rm(path.dirname(shadow), { recursive: true, force: true })
  }

  const warnings: string[] = []
  const outOfSync: string[] = []
  const hasBundles = [...tree.inventory.values()].some((n) => {
    const b = n.package?.bundleDependencies ?? n.package?.bundledDependencies
    return b === true || (Array.isArray(b) && b.length > 0)
  })
  const nodes = new Map<string, InventoryNode>()
  const all: ArbNode[] = [tree, ...[...tree.inventory.values()].filter((n) => n !== tree)]
  for (const n of all) {
    if (n.isLink) continue
    if (!n.isRoot && !n.version && !n.packageName) continue
    const node: InventoryNode = {
      key: n.location,
      name: n.packageName || n.name,
      version: n.version ?? '',
      location: n.location,
      kind: n.isRoot ? 'root' : kindOf(n),
      resolved: n.resolved ?? undefined,
      integrity: n.integrity ?? undefined,
      dev: n.dev,
      optional: n.optional,
      devOptional: n.devOptional,
      peer: n.peer,
      extraneous: n.extraneous,
      // Arborist's inBundle walks up the tree for every node: ask only when something bundles
      bundled: hasBundles && n.inBundle,
      manifest: pickManifest(n.package ?? {}),
      deps: [],
    }
    assertNamed(node, lock?.file)
    nodes.set(node.key, node)
  }
  // Arborist takes an installed tree from npm's hidden lockfile when it is fresh, without the packages'
  // own package.json files: read each one (authors, descriptions, links), a gap being a warning
  if (source === 'installed') warnings.push(...(await readInstalledManifests(cwd, nodes.values())))
  // install paths of each real node: its own location plus every link that points at it
  const linkPaths = new Map<string, string[]>()
  for (const n of tree.inventory.values()) {
    if (!n.isLink || !n.target) continue
    const list = linkPaths.get(n.target.location) ?? []
    list.push(n.location)
    linkPaths.set(n.target.location, list)
  }
  for (const [target, paths] of linkPaths) {
    const node = nodes.get(target)
    if (node) node.linkedFrom = paths
  }

  for (const n of all) {
    if (n.isLink) continue
    const from = nodes.get(n.location)
    if (!from) continue
    const deps = new Set<string>()
    for (const edge of n.edgesOut.values()) {
      const to = edge.to ? (edge.to.isLink ? edge.to.target : edge.to) : null
      // a problem on the project's (or a workspace's) own edges means the lockfile is out of sync
      const own = n.isRoot || n.isWorkspace
      const who = n.isRoot ? 'package.json' : `${from.name}@${from.version}`
      if (!to) {
        // an absent optional peer is not a problem; any other absent edge is
        if (edge.type === 'peerOptional') continue
        if (own && lock && !edge.peer)
          outOfSync.push(`${edge.name}@${shownSpec(edge, shadow ?? cwd)} is not in ${lock.file}`)
        else if (!edge.optional) {
          warnings.push(
            `missing ${edge.peer ? 'peer ' : ''}dependency ${edge.name}@${edge.spec} (required by ${who})`,
          )
        }
        continue
      }
      if (!satisfiesQuickly(edge, to)) {
        if (own && lock)
          outOfSync.push(`${edge.name}: ${who} wants ${edge.spec}, ${lock.file} has ${to.version}`)
        else
          warnings.push(
            `invalid ${edge.peer ? 'peer ' : ''}dependency ${edge.name}: ${who} wants ${edge.spec}, found ${to.version}`,
          )
      }
      if (nodes.has(to.location)) deps.add(to.location)
    }
    from.deps = [...deps]
    if (n.extraneous && !n.isRoot)
      warnings.push(`extraneous package ${from.name}@${from.version} at ${n.location}`)
  }

  if (outOfSync.length > 0) {
    warnings.unshift(
      `${lock?.file} is out of sync with package.json (run npm install): ${outOfSync.sort(compareCodePoint).join('; ')}`,
    )
  }
  const root = nodes.get(tree.location)!
  const workspaces = new Map<string, string>()
  for (const [name, dir] of tree.workspaces ?? []) {
    workspaces.set(
      name,
      path
        .relative(shadow ?? cwd, dir)
        .split(path.sep)
        .join('/'),
    )
  }
  return { root, nodes, warnings, lockfile: lock?.file, lockfileVersion: lock?.version, source, workspaces }
}

/**
 * Whether `cwd` is an npm project: it has a package.json. Any error but "not there" counts as yes, so
 * that the reader reports it with its own code (SBOM_PACKAGE_JSON_UNREADABLE).
 */
export async function detectNpmProject(cwd: string): Promise<boolean> {
  try {
    await stat(path.join(cwd, 'package.json'))
    return true
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code !== 'ENOENT' && code !== 'ENOTDIR'
  }
}

/**
 * The project's package-lock.json for scan's advice and SARIF locations, or null when there is none
 * (a malformed one is SCAN_LOCKFILE_INVALID, exit 2).
 */
export async function readProjectLock(cwd: string): Promise<ProjectLock | null> {
  const lockPath = path.join(cwd, 'package-lock.json')
  if (!(await exists(lockPath))) return null
  return toProjectLock(toLockInfo(await readTextFile(lockPath), 'package-lock.json'))
}
