/**
 * Pure: a v2/v3 package-lock.json (or npm-shrinkwrap.json) read directly into the `Inventory`, with the
 * semantics of @npmcli/arborist's `loadVirtual` as `readInventory` consumes them: the tree shape (parent =
 * the package whose node_modules folder holds a node, else the nearest ancestor folder), dependency edges
 * in Arborist's order resolved through node_modules folders, the lockfile's dev/optional/devOptional/peer
 * flags when the lockfile agrees with package.json and Arborist's recomputation (calc-dep-flags) when it
 * does not, links and workspaces, aliases, bundles (getBundler) and extraneous packages.
 *
 * Hand-written rather than Arborist because loading Arborist's modules and building its Node/Edge graph is
 * most of an SBOM's time (about 0.5 s on 2,200 entries); Arborist stays the oracle (test/ecosystems/
 * lockfile-reader.test.ts compares both on every fixture and on generated lockfiles). Whatever this file
 * cannot decide exactly as Arborist would (overrides, unusual workspace globs, non-normal paths, a link
 * without its target, …) returns `null`: the caller then asks Arborist, so a lockfile is never read
 * differently, only more slowly.
 *
 * Git, remote (non-registry URL) and local tarball (`file:x.tgz`) resolutions and specs are worked out
 * with npm-package-arg, the parser Arborist itself uses (consistent-resolve.js, dep-valid.js and
 * from-path.js are ported below line for line): the caller passes it in (`npa`) only when the lockfile
 * needs it (`NEEDS_SPEC_PARSER`), so that the common all-registry lockfile does not pay for loading it.
 */
import path from 'node:path'
import type npaType from 'npm-package-arg'
import semver from 'semver'
import { compareCodePoint } from '../../util/sort.ts'
import type { DependencyKind, Inventory, InventoryNode } from '../inventory.ts'
import { kindOf, pickManifest, type RawNode, satisfiesPlainRange } from './tree-node.ts'

type Json = Record<string, unknown>

export interface LockfileInput {
  /** 'package-lock.json' or 'npm-shrinkwrap.json' */
  lockfile: string
  lockfileVersion: number
  /** the parsed lockfile, its shape already checked */
  lock: Json
  /** the parsed package.json, its shape already checked */
  rootPackage: Json
  /** absolute project folder (only joined, never read) */
  projectDir: string
  /** workspace folders found on disk (relative, in npm's order) with their package.json */
  workspaceFolders: ReadonlyArray<{ dir: string; pkg: Json }>
  /** package.json on disk of link targets (by location); absent when there is none */
  linkTargetPackages: ReadonlyMap<string, Json>
  /** npm-package-arg, given when a first read answered `NEEDS_SPEC_PARSER` */
  npa?: typeof npaType
}

/** readLockfileInventory's answer when the lockfile needs npm-package-arg: read again with `npa`. */
export const NEEDS_SPEC_PARSER = 'needs npm-package-arg'

/** The hosted-git-info object npm-package-arg attaches (its typings leave the methods out). */
interface Hosted {
  auth?: string
  default?: string
  ssh(opts: { noCommittish: boolean }): string | undefined
  https(opts: { noCommittish: boolean }): string
  sshurl(opts: { noCommittish: boolean }): string
}

const hostedOf = (r: npaType.Result): Hosted | undefined => r.hosted as unknown as Hosted | undefined

/** What edge checks read besides the nodes. */
interface Context {
  projectDir: string
  packages: Json
  npa: typeof npaType | undefined
}

interface Edge {
  name: string
  spec: string
  type: 'prod' | 'dev' | 'optional' | 'peer' | 'peerOptional' | 'workspace'
  from: Node
  to: Node | null
}

interface Node extends RawNode {
  /** folder name ('@s/b' for scoped packages) */
  folderName: string
  /** Arborist's packageName: the manifest's name (a lockfile entry's defaults to its folder name) */
  packageName: string | null
  integrity: string | null
  pkg: Json
  isLink: boolean
  target: Node
  parent: Node | null
  fsParent: Node | null
  children: Map<string, Node>
  edgesOut: Map<string, Edge>
  edgesIn: Edge[]
  dev: boolean
  optional: boolean
  devOptional: boolean
  peer: boolean
  extraneous: boolean
}

/** Thrown inside to give up on the direct path; never escapes `readLockfileInventory`. */
class NeedsArborist extends Error {}
/** Thrown inside when npm-package-arg is needed and was not given. */
class NeedsSpecParser extends Error {}

function parser(ctx: Context): typeof npaType {
  if (ctx.npa === undefined) throw new NeedsSpecParser()
  return ctx.npa
}

const giveUp = (why: string): never => {
  throw new NeedsArborist(why)
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** @npmcli/name-from-folder */
function nameFromFolder(dir: string): string {
  const base = path.posix.basename(dir)
  const parent = path.posix.basename(path.posix.dirname(dir))
  return parent.startsWith('@') ? `${parent}/${base}` : base
}

/** @npmcli/map-workspaces: a workspace's name is its package.json's, else its folder's. */
function workspaceName(dir: string, pkg: Json): string {
  return typeof pkg.name === 'string' && pkg.name ? pkg.name : nameFromFolder(dir)
}

/** A lockfile location npm would write and Arborist keeps as is: relative, normal, inside the project. */
function isPlainLocation(loc: string): boolean {
  if (loc === '') return true
  if (loc.includes('\\') || loc.startsWith('/') || loc.endsWith('/')) return false
  return loc.split('/').every((s) => s !== '' && s !== '.' && s !== '..')
}

/** The workspace patterns this reader expands like @npmcli/map-workspaces: `a/b` and `a/*`. */
export function simpleWorkspacePatterns(pkg: Json): string[] | null {
  const ws = pkg.workspaces
  if (ws === undefined) return []
  // map-workspaces throws on an object without a `packages` list: Arborist reports it
  const list = isObject(ws) ? ws.packages : ws
  if (!Array.isArray(list)) return null
  const out: string[] = []
  for (const raw of list) {
    if (typeof raw !== 'string') return null
    const p = raw.replace(/^\.?\/+/, '').replace(/\/+$/, '')
    const star = p.endsWith('/*') ? p.slice(0, -2) : p
    if (star === '' || /[*?[\]{}()!+@\\]/.test(star) || !isPlainLocation(star)) return null
    if (star.split('/').includes('node_modules')) return null
    out.push(p)
  }
  return out
}

/** Link targets whose package.json Arborist reads from disk (those not in a node_modules folder). */
export function linkTargetLocations(lock: Json): string[] {
  const out: string[] = []
  const packages = isObject(lock.packages) ? lock.packages : {}
  for (const meta of Object.values(packages)) {
    if (!isObject(meta) || meta.link !== true || typeof meta.resolved !== 'string') continue
    if (isPlainLocation(meta.resolved) && !meta.resolved.split('/').includes('node_modules'))
      out.push(meta.resolved)
  }
  return out
}

/**
 * Whether a package resolved elsewhere than a registry tarball (git, a remote or local tarball): then the
 * reader needs npm-package-arg from the start (a cheap look, so as not to read such a lockfile twice).
 */
export function resolvesOutsideRegistry(lock: Json): boolean {
  const packages = isObject(lock.packages) ? lock.packages : {}
  for (const meta of Object.values(packages))
    if (isObject(meta) && meta.link !== true && typeof meta.resolved === 'string' && meta.resolved)
      if (!REGISTRY_TARBALL.test(meta.resolved)) return true
  return false
}

/** The manifest normalization (@npmcli/package-json `normalize`) steps that change what is read here. */
function normalizePackage(raw: Json): Json {
  const data: Json = { ...raw }
  if (data.bundleDependencies === undefined && data.bundledDependencies !== undefined)
    data.bundleDependencies = data.bundledDependencies
  delete data.bundledDependencies
  const bd = data.bundleDependencies
  if (bd === false) data.bundleDependencies = []
  else if (bd === true) data.bundleDependencies = Object.keys((data.dependencies as Json) ?? {})
  else if (bd && typeof bd === 'object') {
    if (!Array.isArray(bd)) data.bundleDependencies = Object.keys(bd)
  } else if ('bundleDependencies' in data) delete data.bundleDependencies
  if (isObject(data.dependencies) && isObject(data.optionalDependencies)) {
    const deps = { ...data.dependencies }
    for (const name in data.optionalDependencies) delete deps[name]
    data.dependencies = deps
  }
  return data
}

/** A registry tarball URL: npm-package-arg reads it as `remote` and consistentResolve keeps it as is. */
const REGISTRY_TARBALL = /^https?:\/\/[^\s#?]+\/-\/[^/\s#?]+\.tgz$/

/**
 * Arborist's dep-valid: the common specs (ranges, aliases, tags, folders) without npm-package-arg, the
 * others (git, remote and tarball URLs, paths) with it. `to` is what the edge resolved to (a link or a
 * node).
 */
function depValid(to: Node, spec: string, from: Node, ctx: Context): boolean {
  // Arborist parses the requesting package's own resolution for every spec (from-path.js): past a
  // registry tarball, only the port decides as it does
  if (from.resolved !== null && !REGISTRY_TARBALL.test(from.resolved)) return validByNpa(to, spec, from, ctx)
  if (spec !== spec.trim()) giveUp('spec with spaces')
  if (spec === '' || spec === '*') return true
  if (spec.startsWith('npm:')) {
    const rest = spec.slice(4)
    const at = rest.indexOf('@', 1)
    const name = at === -1 ? rest : rest.slice(0, at)
    const range = at === -1 ? '' : rest.slice(at + 1)
    if (!/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i.test(name)) giveUp('alias name')
    if (range === '' || range === '*') return true
    if (/[/:\\]/.test(range) || range !== range.trim() || semver.validRange(range, true) === null)
      giveUp('alias range')
    return semver.satisfies(to.version, range, true)
  }
  if (spec.startsWith('file:')) {
    const rest = spec.slice(5)
    if (rest === '' || /[#?%~\\]/.test(rest) || /\.(tgz|tar|tar\.gz)$/i.test(rest) || rest.startsWith('//'))
      return validByNpa(to, spec, from, ctx)
    const fetchSpec = path.resolve(path.join(ctx.projectDir, from.location), rest)
    return to.isLink && path.relative(path.join(ctx.projectDir, to.target.location), fetchSpec) === ''
  }
  if (/[/:\\]/.test(spec) || spec.startsWith('.') || spec.startsWith('~'))
    return validByNpa(to, spec, from, ctx)
  if (semver.validRange(spec, true) !== null) return semver.satisfies(to.version, spec, true)
  if (encodeURIComponent(spec) !== spec) giveUp('tag name')
  return tagValid(to, ctx)
}

/** A tag: valid when the package resolved to a tarball from somewhere (npa's `remote`). */
function tagValid(to: Node, ctx: Context): boolean {
  if (to.isLink || to.resolved === null) return false
  if (REGISTRY_TARBALL.test(to.resolved)) return true
  return parseOrGiveUp(ctx, to.resolved).type === 'remote'
}

/** npa(spec) where Arborist does not catch its error (it would throw out of the edge check). */
function parseOrGiveUp(ctx: Context, spec: string): npaType.Result {
  const npa = parser(ctx)
  try {
    return npa(spec)
  } catch {
    return giveUp('unparsable resolution')
  }
}

/** Arborist's from-path.js (no overrides here): where a package's own `file:` specs are resolved from. */
function fromPath(from: Node, ctx: Context): string {
  if (from.resolved && !REGISTRY_TARBALL.test(from.resolved)) {
    const spec = parser(ctx)(from.resolved)
    if (spec.type === 'file') return path.dirname(spec.fetchSpec!)
  }
  return path.join(ctx.projectDir, from.location)
}

/** Arborist's dep-valid.js for a string spec, through npm-package-arg. */
function validByNpa(to: Node, spec: string, from: Node, ctx: Context): boolean {
  const npa = parser(ctx)
  let requested: npaType.Result
  try {
    requested = npa.resolve(to.folderName, spec || '*', fromPath(from, ctx))
  } catch (e) {
    if (e instanceof NeedsSpecParser) throw e
    // an unsupported spec: nothing can satisfy it
    return false
  }
  return validRequest(to, requested, from, ctx)
}

function validRequest(to: Node, requested: npaType.Result, from: Node, ctx: Context): boolean {
  switch (requested.type) {
    case 'range':
      if (requested.fetchSpec === '*') return true
      return semver.satisfies(to.version, requested.fetchSpec!, true)
    case 'version':
      return semver.satisfies(to.version, requested.fetchSpec!, true)
    case 'directory':
      // installLinks is off: a folder spec wants a link to that folder
      return (
        to.isLink && path.relative(path.join(ctx.projectDir, to.target.location), requested.fetchSpec!) === ''
      )
    case 'file':
      if (to.isLink) return false
      if (to.resolved)
        return to.resolved.replace(/\\/g, '/') === `file:${requested.fetchSpec!.replace(/\\/g, '/')}`
      if (to.pkg._requested !== undefined) giveUp('_requested')
      return false
    case 'alias':
      return validRequest(to, (requested as npaType.AliasResult).subSpec, from, ctx)
    case 'tag':
      return tagValid(to, ctx)
    case 'remote':
      return to.resolved === requested.fetchSpec
    case 'git':
      return gitValid(to, requested, from, ctx)
    default:
      return false
  }
}

/** dep-valid.js's git case: the same repository, the same commit when one is named, the semver: range. */
function gitValid(to: Node, requested: npaType.Result, from: Node, ctx: Context): boolean {
  // a link's package is its target's as loaded from the lockfile, not from disk: leave it to Arborist
  if (to.isLink) giveUp('git spec resolved to a link')
  const resRepo = parseOrGiveUp(ctx, to.resolved || '')
  const resHost = hostedOf(resRepo)
  const reqHost = hostedOf(requested)
  const reqCommit = /^[a-fA-F0-9]{40,64}$/.test(requested.gitCommittish || '')
  const nc = { noCommittish: !reqCommit }
  if (!resHost) {
    if (resRepo.fetchSpec !== requested.fetchSpec) return false
  } else if (reqHost?.ssh(nc) !== resHost.ssh(nc)) return false
  if (!requested.gitRange) {
    // a named ref cannot be checked offline: valid while it is the one the lockfile recorded
    if (!reqCommit) {
      const locked = lockedGitCommittish(to, from, ctx)
      if (locked !== null && locked !== (requested.gitCommittish || '')) return false
    }
    return true
  }
  return semver.satisfies(to.pkg.version as string, requested.gitRange, { loose: true })
}

/** dep-valid.js's lockedGitCommittish: the committish of the spec the lockfile's entry records. */
function lockedGitCommittish(to: Node, from: Node, ctx: Context): string | null {
  const lock = ctx.packages[from.location]
  if (!isObject(lock)) return null
  const name = to.folderName
  const field = (f: string): unknown => (isObject(lock[f]) ? (lock[f] as Json)[name] : undefined)
  // Arborist normalizes a lockfile entry in place when it builds its node (optionalDedupe drops
  // `dependencies` that are also optional); the root's entry is not a node's manifest
  const dedupe = from.location !== '' && isObject(lock.dependencies) && isObject(lock.optionalDependencies)
  const prod = dedupe && name in (lock.optionalDependencies as Json) ? undefined : field('dependencies')
  const spec = prod || field('optionalDependencies') || field('devDependencies') || field('peerDependencies')
  if (!spec) return null
  if (typeof spec !== 'string') giveUp('locked spec')
  try {
    const parsed = parser(ctx).resolve(name, spec as string, path.join(ctx.projectDir, from.location))
    return parsed.type === 'git' ? parsed.gitCommittish || '' : null
  } catch (e) {
    if (e instanceof NeedsSpecParser) throw e
    return null
  }
}

/** Arborist's consistent-resolve.js as loadVirtual calls it: a lockfile `resolved` made canonical. */
function consistentResolve(resolved: string, ctx: Context): string {
  if (REGISTRY_TARBALL.test(resolved)) return resolved
  const npa = parser(ctx)
  try {
    const parsed = npa(resolved, ctx.projectDir)
    const { fetchSpec, saveSpec, type, rawSpec, raw } = parsed
    const hosted = hostedOf(parsed)
    if (type === 'file' || type === 'directory') return `file:${fetchSpec}`
    if (hosted) {
      const opt = { noCommittish: false }
      return `git+${hosted.auth || hosted.default === 'https' ? hosted.https(opt) : hosted.sshurl(opt)}`
    }
    if (type === 'git') return saveSpec!
    if (rawSpec === '*') return raw
    return rawSpec
  } catch {
    return resolved
  }
}

function getBundler(node: Node, seen: Node[] = []): Node | null {
  if (seen.includes(node)) return null
  seen.push(node)
  const parent = node.parent
  if (!parent) return null
  const pBundler = getBundler(parent, seen)
  if (pBundler) return pBundler
  const bd = parent.pkg.bundleDependencies
  if (Array.isArray(bd) && bd.includes(node.folderName)) return parent
  for (const edge of node.edgesIn) {
    const eBundler = getBundler(edge.from, seen)
    if (eBundler && eBundler === parent) return eBundler
  }
  return null
}

function stringMap(v: unknown): Array<[string, string]> {
  return isObject(v) ? (Object.entries(v) as Array<[string, string]>) : []
}

function loadEdges(node: Node, workspaces: ReadonlyMap<string, string>, projectDir: string): void {
  const add = (name: string, spec: string, type: Edge['type']): void => {
    const current = node.edgesOut.get(name)
    if (current?.type === 'workspace' && type !== 'workspace') return
    // a newer edge replaces (and moves behind) an older one, as Arborist's detach + set does
    node.edgesOut.delete(name)
    node.edgesOut.set(name, { name, spec, type, from: node, to: null })
  }
  // the root's workspace edges come first (Arborist sets them, then reloads the other edges)
  for (const [name, dir] of workspaces) add(name, `file:${path.join(projectDir, dir)}`, 'workspace')
  const pkg = node.pkg
  if (pkg.acceptDependencies !== undefined) giveUp('acceptDependencies')
  const pd = pkg.peerDependencies
  if (pd && typeof pd === 'object') {
    const pm = isObject(pkg.peerDependenciesMeta) ? pkg.peerDependenciesMeta : {}
    const peer: Array<[string, string]> = []
    const peerOptional: Array<[string, string]> = []
    for (const [name, spec] of stringMap(pd)) {
      const meta = pm[name]
      if (isObject(meta) && meta.optional) peerOptional.push([name, spec])
      else peer.push([name, spec])
    }
    for (const [n, s] of peer) add(n, s, 'peer')
    for (const [n, s] of peerOptional) add(n, s, 'peerOptional')
  }
  for (const [n, s] of stringMap(pkg.dependencies)) add(n, s, 'prod')
  for (const [n, s] of stringMap(pkg.optionalDependencies)) add(n, s, 'optional')
  // devDependencies count for tops only (the root, workspaces, any package without a parent)
  if (node.parent === null && !node.location.split('/').includes('.store'))
    for (const [n, s] of stringMap(pkg.devDependencies)) add(n, s, 'dev')
}

function resolve(node: Node, name: string): Node | null {
  for (let n: Node | null = node; n; n = n.parent ?? n.fsParent) {
    const mine = n.children.get(name)
    if (mine) return mine
  }
  return null
}

/**
 * @npmcli/map-workspaces' `virtual`: the workspaces the lockfile's root entry names, matched against the
 * lockfile's own keys (name → absolute-free relative folder).
 */
function lockfileWorkspaces(rootEntry: Json, keys: readonly string[], packages: Json): Map<string, string> {
  const patterns = simpleWorkspacePatterns(rootEntry)
  if (patterns === null) giveUp('lockfile workspaces')
  const byPath = new Map<string, string>()
  const candidates = keys.filter((k) => k !== '' && !k.split('/').includes('node_modules'))
  for (const p of patterns!) {
    const star = p.endsWith('/*')
    const dir = star ? p.slice(0, -2) : p
    for (const k of candidates) {
      const match = star
        ? k.startsWith(`${dir}/`) &&
          !k.slice(dir.length + 1).includes('/') &&
          !k.slice(dir.length + 1).startsWith('.')
        : k === dir
      if (!match) continue
      const entry = packages[k]
      const name =
        isObject(entry) && typeof entry.name === 'string' && entry.name ? entry.name : nameFromFolder(k)
      byPath.set(k, name)
    }
  }
  const out = new Map<string, string>()
  for (const [k, name] of byPath) out.set(name, k)
  return out
}

/** Arborist's #checkRootEdges: whether the lockfile's flags can be trusted for this package.json. */
function flagsSuspect(root: Node, rootEntry: Json, lockWS: Map<string, string>, projectDir: string): boolean {
  const prod: Json = { ...((rootEntry.dependencies as Json) ?? {}) }
  const dev = (rootEntry.devDependencies as Json) ?? {}
  const optional = (rootEntry.optionalDependencies as Json) ?? {}
  const peer: Json = { ...((rootEntry.peerDependencies as Json) ?? {}) }
  const peerOptional: Json = {}
  if (isObject(rootEntry.peerDependenciesMeta))
    for (const [name, meta] of Object.entries(rootEntry.peerDependenciesMeta))
      if (isObject(meta) && meta.optional && peer[name] !== undefined) {
        peerOptional[name] = peer[name]
        delete peer[name]
      }
  for (const name of Object.keys(optional)) delete prod[name]
  const workspace: Json = {}
  for (const [name, dir] of lockWS) workspace[name] = `file:${path.join(projectDir, dir)}`
  const rootNames = new Set(root.edgesOut.keys())
  const byType: Array<[Edge['type'], Json]> = [
    ['dev', dev],
    ['optional', optional],
    ['peer', peer],
    ['peerOptional', peerOptional],
    ['prod', prod],
    ['workspace', workspace],
  ]
  for (const [type, deps] of byType)
    for (const name in deps) {
      const edge = root.edgesOut.get(name)
      if (!edge || edge.type !== type || edge.spec !== deps[name]) return true
      rootNames.delete(name)
    }
  return rootNames.size > 0
}

function calcDepFlags(root: Node): void {
  const seen = new Set<Node>()
  const queue: Node[] = [root]
  for (let node = queue.pop(); node; node = queue.pop()) {
    seen.add(node)
    if (!node.extraneous)
      for (let n = node.parent ?? node.fsParent; n?.extraneous; n = n.parent ?? n.fsParent)
        n.extraneous = false
    if (node.isLink) {
      const t = node.target
      let changed = false
      for (const f of ['dev', 'optional', 'devOptional', 'peer', 'extraneous'] as const)
        if (t[f] && !node[f]) {
          t[f] = false
          changed = true
        }
      if (changed || !seen.has(t)) queue.push(t)
      continue
    }
    for (const edge of node.edgesOut.values()) {
      const to = edge.to
      if (!to) continue
      const dev = edge.type === 'dev'
      const optional = edge.type === 'optional' || edge.type === 'peerOptional'
      const peer = edge.type === 'peer' || edge.type === 'peerOptional'
      let changed = false
      if (to.extraneous && !node.extraneous && !(peer && optional)) {
        to.extraneous = false
        changed = true
      }
      if (to.dev && !node.dev && !dev) {
        to.dev = false
        changed = true
      }
      if (to.optional && !node.optional && !optional) {
        to.optional = false
        changed = true
      }
      if (to.devOptional && !node.devOptional && !node.dev && !node.optional && !dev && !optional) {
        to.devOptional = false
        changed = true
      }
      if (to.peer && !node.peer && !peer) {
        to.peer = false
        changed = true
      }
      if (changed) queue.push(to)
    }
  }
  seen.delete(root)
  for (const node of seen) if (node.devOptional && (node.dev || node.optional)) node.devOptional = false
}

/** The tree Arborist's loadVirtual builds, or null when only Arborist can say. */
function buildTree(
  input: LockfileInput,
  ctx: Context,
): { nodes: Map<string, Node>; root: Node; suspect: boolean } {
  const packages = ctx.packages
  if (input.rootPackage.overrides !== undefined) {
    const ov = input.rootPackage.overrides
    if (isObject(ov) && Object.keys(ov).length > 0) giveUp('overrides')
  }
  const keys = Object.keys(packages)
  const make = (location: string, pkg: Json, isLink: boolean): Node => {
    const n = {
      location,
      folderName: location === '' ? nameFromFolder(input.projectDir) : nameFromFolder(location),
      pkg,
      isLink,
      parent: null,
      fsParent: null,
      children: new Map(),
      edgesOut: new Map(),
      edgesIn: [],
      dev: !!pkg.dev,
      optional: !!pkg.optional,
      devOptional: !!(pkg.devOptional || pkg.dev || pkg.optional),
      peer: !!pkg.peer,
      extraneous: !!pkg.extraneous,
      resolved: null as string | null,
      integrity: typeof pkg.integrity === 'string' && pkg.integrity ? pkg.integrity : null,
      packageName:
        typeof pkg.name === 'string' && pkg.name ? pkg.name : nameFromFolder(location || input.projectDir),
      version: '',
      isRoot: location === '',
      isWorkspace: false,
    } as unknown as Node
    n.target = n
    return n
  }
  const rootPkg = normalizePackage(input.rootPackage)
  // Arborist reads these legacy fields as a resolution and an integrity of the package
  // `directories` sends @npmcli/package-json to the disk (binDir), which may fail: then Arborist falls
  // back to the lockfile's root entry as the root's manifest
  for (const f of ['_resolved', '_integrity', 'resolved', 'integrity', 'directories'])
    if (rootPkg[f] !== undefined) giveUp('root resolution')
  const root = make('', rootPkg, false)
  // loadVirtual gives the root's manifest its folder name when it has none
  if (!(typeof rootPkg.name === 'string' && rootPkg.name)) rootPkg.name = root.packageName
  root.dev = root.optional = root.devOptional = root.peer = root.extraneous = false
  const nodes = new Map<string, Node>([['', root]])
  const links: Array<[string, Json]> = []
  for (const loc of keys) {
    if (loc === '') continue
    if (!isPlainLocation(loc)) giveUp('location')
    const meta = packages[loc] as Json
    if (meta._resolved !== undefined || meta._integrity !== undefined) giveUp('legacy fields')
    if (meta.link) {
      links.push([loc, meta])
      continue
    }
    const r = meta.resolved
    if (r !== undefined && typeof r !== 'string') giveUp('resolved')
    // loadVirtual: consistentResolve(sw.resolved, root path, node path), falsy as null
    const resolved = r ? consistentResolve(r as string, ctx) || null : null
    // a local path made absolute from the project folder: for a shrinkwrap, Arborist reads a temporary
    // copy of the project, whose path it would then report
    if (resolved?.startsWith('file:') && input.lockfile !== 'package-lock.json') giveUp('shrinkwrap file:')
    // loadVirtual gives an entry without a name its folder name (as the manifest's name)
    const node = make(
      loc,
      typeof meta.name === 'string' && meta.name ? meta : { ...meta, name: nameFromFolder(loc) },
      false,
    )
    node.resolved = resolved
    nodes.set(loc, node)
  }
  const linkNodes: Node[] = []
  for (const [loc, meta] of links) {
    const r = meta.resolved
    if (typeof r !== 'string' || !isPlainLocation(r) || r === '') giveUp('link target')
    const target = nodes.get(r as string)
    if (!target) giveUp('missing link target')
    const link = make(loc, target!.pkg, true)
    link.target = target!
    link.dev = target!.dev
    link.optional = target!.optional
    link.devOptional = target!.devOptional
    link.peer = target!.peer
    link.extraneous = target!.extraneous
    linkNodes.push(link)
  }
  // Arborist lists links after the nodes read from the lockfile (a link's location clobbers a node's)
  for (const link of linkNodes) {
    if (nodes.has(link.location)) giveUp('link over a node')
    nodes.set(link.location, link)
  }
  // parents: the nearest ancestor folder that holds a (non-link) node; a parent when the node sits in
  // its node_modules folder, else an fsParent
  // Arborist builds nodes in the lockfile's order and a node's edges as it is built: one listed before
  // the package that holds it is built as a top (with its devDependencies); npm writes parents first
  const order = new Map([...nodes.keys()].map((k, i) => [k, i]))
  for (const node of nodes.values()) {
    if (node.isRoot) continue
    let dir = node.location
    for (;;) {
      const i = dir.lastIndexOf('/')
      dir = i === -1 ? '' : dir.slice(0, i)
      const p = nodes.get(dir)
      if (p && !p.isLink) {
        if (order.get(dir)! > order.get(node.location)!) giveUp('a package listed before its parent')
        if (node.location === `${dir}${dir ? '/' : ''}node_modules/${node.folderName}`) {
          node.parent = p
          p.children.set(node.folderName, node)
        } else node.fsParent = p
        break
      }
      if (dir === '') break
    }
  }
  // a link target outside node_modules is read from disk, as Arborist does
  const targets = new Set(linkNodes.map((l) => l.target))
  for (const node of targets) {
    if (node.parent) continue
    const onDisk = input.linkTargetPackages.get(node.location)
    if (onDisk === undefined) continue
    node.pkg = normalizePackage(onDisk)
    node.packageName = typeof onDisk.name === 'string' && onDisk.name ? onDisk.name : null
  }
  // a link's version is its target's (Arborist's Link), read from disk or not
  for (const node of nodes.values()) {
    const pkg = node.target.pkg
    node.version = typeof pkg.version === 'string' ? pkg.version : ''
  }
  const workspaces = new Map<string, string>()
  for (const { dir, pkg } of input.workspaceFolders) {
    const name = workspaceName(dir, pkg)
    if (workspaces.has(name) && workspaces.get(name) !== dir) giveUp('duplicate workspace')
    workspaces.set(name, dir)
  }
  for (const node of nodes.values())
    if (!node.isLink) loadEdges(node, node.isRoot ? workspaces : new Map(), input.projectDir)
  for (const node of nodes.values())
    for (const edge of node.edgesOut.values()) {
      edge.to = resolve(node, edge.name)
      edge.to?.edgesIn.push(edge)
    }
  for (const node of nodes.values()) {
    if (node.isRoot) continue
    const edge = node.packageName === null ? undefined : root.edgesOut.get(node.packageName)
    node.isWorkspace = edge?.type === 'workspace' && !!edge.to && edge.to.target === node
  }
  const rootEntry = packages[''] as Json
  const suspect = flagsSuspect(
    root,
    rootEntry,
    lockfileWorkspaces(rootEntry, keys, packages),
    input.projectDir,
  )
  if (suspect) {
    for (const node of nodes.values())
      if (!node.isRoot) node.dev = node.optional = node.devOptional = node.peer = node.extraneous = true
    calcDepFlags(root)
  }
  return { nodes, root, suspect }
}

/** The lockfile as an Inventory exactly as the Arborist reader gives it, or null to ask Arborist. */
export function readLockfileInventory(input: LockfileInput): Inventory | null | typeof NEEDS_SPEC_PARSER {
  try {
    return toInventory(input)
  } catch (e) {
    if (e instanceof NeedsArborist) return null
    if (e instanceof NeedsSpecParser) return NEEDS_SPEC_PARSER
    throw e
  }
}

function toInventory(input: LockfileInput): Inventory {
  // without `packages` (or its root entry) Arborist falls back to the v1 `dependencies` listing
  if (!isObject(input.lock.packages) || !isObject(input.lock.packages[''])) giveUp('no packages[""]')
  const ctx: Context = { projectDir: input.projectDir, packages: input.lock.packages as Json, npa: input.npa }
  const { nodes: tree, root: treeRoot } = buildTree(input, ctx)
  const { lockfile } = input
  const all = [...tree.values()]
  const hasBundles = all.some((n) => {
    const b = n.pkg.bundleDependencies ?? n.pkg.bundledDependencies
    return b === true || (Array.isArray(b) && b.length > 0)
  })
  const nodes = new Map<string, InventoryNode>()
  for (const n of all) {
    if (n.isLink) continue
    // as the Arborist reader: a package with neither name nor version (a link target's empty package.json)
    if (!n.isRoot && !n.version && n.packageName === null) continue
    const node: InventoryNode = {
      key: n.location,
      name: n.packageName ?? n.folderName,
      version: n.version,
      location: n.location,
      kind: n.isRoot ? 'root' : (kindOf(n) as DependencyKind),
      resolved: n.resolved ?? undefined,
      integrity: n.integrity ?? undefined,
      dev: n.dev,
      optional: n.optional,
      devOptional: n.devOptional,
      peer: n.peer,
      extraneous: n.extraneous,
      bundled: hasBundles && getBundler(n) !== null,
      manifest: pickManifest(n.pkg),
      deps: [],
    }
    nodes.set(node.key, node)
  }
  const linkPaths = new Map<string, string[]>()
  for (const n of all) {
    if (!n.isLink) continue
    const list = linkPaths.get(n.target.location) ?? []
    list.push(n.location)
    linkPaths.set(n.target.location, list)
  }
  for (const [target, paths] of linkPaths) {
    const node = nodes.get(target)
    if (node) node.linkedFrom = paths
  }
  const workspaceDirs = new Map(input.workspaceFolders.map(({ dir, pkg }) => [workspaceName(dir, pkg), dir]))
  const warnings: string[] = []
  const outOfSync: string[] = []
  for (const n of all) {
    if (n.isLink) continue
    const from = nodes.get(n.location)
    if (!from) continue
    const deps = new Set<string>()
    const own = n.isRoot || n.isWorkspace
    const who = n.isRoot ? 'package.json' : `${from.name}@${from.version}`
    for (const edge of n.edgesOut.values()) {
      const to = edge.to ? edge.to.target : null
      const peer = edge.type === 'peer' || edge.type === 'peerOptional'
      const optional = edge.type === 'optional' || edge.type === 'peerOptional'
      if (!to) {
        if (edge.type === 'peerOptional') continue
        // a workspace's spec is shown relative to the project (Arborist's is an absolute path)
        const shown = edge.type === 'workspace' ? `file:${workspaceDirs.get(edge.name)}` : edge.spec
        if (own && !peer) outOfSync.push(`${edge.name}@${shown} is not in ${lockfile}`)
        else if (!optional)
          warnings.push(
            `missing ${peer ? 'peer ' : ''}dependency ${edge.name}@${edge.spec} (required by ${who})`,
          )
        continue
      }
      if (!satisfied(edge, to, ctx)) {
        if (own) outOfSync.push(`${edge.name}: ${who} wants ${edge.spec}, ${lockfile} has ${to.version}`)
        else
          warnings.push(
            `invalid ${peer ? 'peer ' : ''}dependency ${edge.name}: ${who} wants ${edge.spec}, found ${to.version}`,
          )
      }
      if (nodes.has(to.location)) deps.add(to.location)
    }
    from.deps = [...deps]
    if (n.extraneous && !n.isRoot)
      warnings.push(`extraneous package ${from.name}@${from.version} at ${n.location}`)
  }
  if (outOfSync.length > 0)
    warnings.unshift(
      `${lockfile} is out of sync with package.json (run npm install): ${outOfSync.sort(compareCodePoint).join('; ')}`,
    )
  return {
    root: nodes.get(treeRoot.location)!,
    nodes,
    warnings,
    lockfile,
    lockfileVersion: input.lockfileVersion,
    source: 'lockfile',
    workspaces: workspaceDirs,
  }
}

/** readInventory's check: a plain semver range as semver says, anything else as Arborist's edge.invalid. */
function satisfied(edge: Edge, to: Node, ctx: Context): boolean {
  const quick = satisfiesPlainRange(edge.spec, to.version)
  if (quick !== undefined) return quick
  const raw = edge.to!
  // PEER LOCAL is an error but not an invalid edge
  if ((edge.type === 'peer' || edge.type === 'peerOptional') && edge.from === raw.parent && edge.from.parent)
    return true
  return depValid(raw, edge.spec, edge.from, ctx)
}
