/**
 * A ~20,000-entry npm workspace lockfile (v3) made from the real lockfiles in this repository, for the SBOM
 * benchmark: nine workspaces, each holding whole dependency trees taken from the fixtures' lockfiles
 * (fixtures/large-app, bench/fixtures/no-resolved-app, detbuild's own package-lock.json, vulnerable-app,
 * monorepo, small-app, dep-kinds, ts-lib) with their nesting, platform-specific optional packages, peers,
 * aliases and install scripts as npm wrote them.
 *
 * A workspace takes one tree under the real names and further trees with every package renamed by a suffix
 * (`lodash` → `lodash-w3l1`, in paths, dependency keys, `npm:` alias specs, `name` and registry `resolved`
 * URLs), so trees that share a workspace never meet; the same real name@version thus appears in several
 * workspaces at several paths, as in real monorepos. The first workspace's real-name tree is hoisted to the
 * root node_modules/, every other tree nests under its workspace (packages/ws-N/node_modules/…); the other
 * workspaces depend on the first (a workspace edge) and the last one has the one before as a dev dependency.
 * Every resolution inside a tree therefore stays what npm resolved. The dev/optional/devOptional/peer and
 * extraneous flags are not copied: Arborist (npm's own tree library) loads the assembled lockfile, recomputes
 * the flags for the whole workspace tree as `npm install` does (resetDepFlags + calcDepFlags) and writes the
 * lockfile (Shrinkwrap.commit), so npm, cyclonedx-npm and Arborist accept it by construction.
 *
 * Deterministic: the output depends only on the inputs, which name its cache folder (a content hash).
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { benchCacheDir, repoRoot } from '../lib.ts'

/** bump when the generated lockfile changes */
const GENERATOR = 2

const SOURCES = [
  'fixtures/large-app/package-lock.json',
  'package-lock.json',
  'bench/fixtures/no-resolved-app/package-lock.json',
  'fixtures/vulnerable-app/package-lock.json',
  'fixtures/monorepo/package-lock.json',
  'fixtures/small-app/package-lock.json',
  'fixtures/dep-kinds/package-lock.json',
  'fixtures/ts-lib/package-lock.json',
]

type Entry = Record<string, unknown>
interface Lock {
  lockfileVersion: number
  packages: Record<string, Entry>
}
const DEP_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies', 'devDependencies'] as const
const FLAGS = ['dev', 'optional', 'devOptional', 'peer', 'extraneous'] as const

const rename = (name: string, suffix: string): string => (suffix === '' ? name : `${name}-${suffix}`)

/** The package names along a lockfile path (`node_modules/a/node_modules/@s/b` → ['a', '@s/b']). */
function namesOf(key: string): string[] {
  return key
    .split(/(?:^|\/)node_modules\//)
    .slice(1)
    .map((n) => n.replace(/\/$/, ''))
}

const REGISTRY = 'https://registry.npmjs.org/'

/** A registry tarball URL of the renamed package. */
const tarball = (name: string, version: string): string =>
  `${REGISTRY}${name}/-/${name.replace(/^@[^/]+\//, '')}-${version}.tgz`

/** A dependency spec naming a package (`npm:` alias, registry tarball URL) names the renamed one. */
function renameSpec(spec: string, suffix: string): string {
  if (suffix === '') return spec
  const alias = /^npm:((?:@[^/]+\/)?[^@]+)@(.*)$/.exec(spec)
  if (alias) return `npm:${rename(alias[1]!, suffix)}@${alias[2]}`
  const url = /^https:\/\/registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(spec)
  if (url) return tarball(rename(url[1]!, suffix), url[2]!)
  return spec
}

/** One source tree as entries under `prefix` (`''` or `packages/ws-N/`), names renamed by `suffix`. */
function layer(lock: Lock, prefix: string, suffix: string): { entries: Record<string, Entry>; roots: Entry } {
  const entries: Record<string, Entry> = {}
  for (const [key, value] of Object.entries(lock.packages)) {
    if (!key.startsWith('node_modules/') || value.link === true) continue
    const names = namesOf(key)
    const newKey = prefix + names.map((n) => `node_modules/${rename(n, suffix)}`).join('/')
    const e: Entry = { ...value }
    for (const f of FLAGS) delete e[f]
    for (const f of DEP_FIELDS) {
      const deps = e[f] as Record<string, string> | undefined
      if (!deps) continue
      e[f] = Object.fromEntries(
        Object.entries(deps).map(([n, s]) => [rename(n, suffix), renameSpec(s, suffix)]),
      )
    }
    const meta = e.peerDependenciesMeta as Record<string, unknown> | undefined
    if (meta)
      e.peerDependenciesMeta = Object.fromEntries(
        Object.entries(meta).map(([n, v]) => [rename(n, suffix), v]),
      )
    if (Array.isArray(e.bundleDependencies))
      e.bundleDependencies = (e.bundleDependencies as string[]).map((n) => rename(n, suffix))
    const real = (e.name as string | undefined) ?? names.at(-1)!
    if (e.name !== undefined) e.name = rename(real, suffix)
    const resolved = e.resolved as string | undefined
    if (suffix !== '' && resolved?.startsWith(REGISTRY))
      e.resolved = tarball(rename(real, suffix), `${e.version}`)
    entries[newKey] = e
  }
  // the tree's root dependencies: the source root's, kept when the tree holds them
  const root = lock.packages[''] ?? {}
  const roots: Entry = {}
  for (const f of DEP_FIELDS) {
    const deps = root[f] as Record<string, string> | undefined
    if (!deps) continue
    const kept = Object.entries(deps).filter(([n]) => lock.packages[`node_modules/${n}`]?.link !== true)
    const present = kept.filter(([n]) => lock.packages[`node_modules/${n}`] !== undefined)
    if (present.length > 0)
      roots[f] = Object.fromEntries(present.map(([n, s]) => [rename(n, suffix), renameSpec(s, suffix)]))
  }
  return { entries, roots }
}

function mergeRoots(into: Entry, from: Entry): void {
  for (const f of DEP_FIELDS) {
    const deps = from[f] as Record<string, string> | undefined
    if (deps) into[f] = { ...(into[f] as Record<string, string> | undefined), ...deps }
  }
}

/**
 * The generated project (package.json, packages/ws-N/package.json, package-lock.json) in the bench cache,
 * made once; returns its folder and its lockfile's entry count.
 */
export async function monorepoProject(
  target = 20_000,
  workspaces = 9,
): Promise<{ dir: string; entries: number }> {
  const require = createRequire(import.meta.url)
  const arboristPkg = require('@npmcli/arborist/package.json') as { version: string }
  const hash = createHash('sha256').update(`${GENERATOR}\0${target}\0${workspaces}\0${arboristPkg.version}\0`)
  const locks = SOURCES.map((s) => {
    const text = readFileSync(path.join(repoRoot, s), 'utf8')
    hash.update(s).update('\0').update(text)
    return JSON.parse(text) as Lock
  })
  const dir = path.join(benchCacheDir(), `monorepo-${hash.digest('hex').slice(0, 16)}`)
  const lockFile = path.join(dir, 'package-lock.json')
  if (existsSync(lockFile))
    return { dir, entries: Object.keys((JSON.parse(readFileSync(lockFile, 'utf8')) as Lock).packages).length }

  const tmp = `${dir}.${process.pid}.tmp`
  rmSync(tmp, { recursive: true, force: true })
  const packages: Record<string, Entry> = {}
  const rootPkg = { name: 'bench-monorepo', version: '1.0.0', private: true, workspaces: ['packages/*'] }
  packages[''] = { name: rootPkg.name, version: rootPkg.version, workspaces: rootPkg.workspaces }
  const perWorkspace = Math.ceil(target / workspaces)
  let next = 0
  for (let w = 1; w <= workspaces; w++) {
    const name = `@bench/ws-${w}`
    const wsDir = `packages/ws-${w}`
    const manifest: Entry = { name, version: '1.0.0' }
    if (w > 1) manifest.dependencies = { '@bench/ws-1': '^1.0.0' }
    if (w === workspaces && w > 2) manifest.devDependencies = { [`@bench/ws-${w - 1}`]: '^1.0.0' }
    // whole trees, in turn, while they fit in the workspace's share (a tree too large is left for later)
    let count = 0
    let l = 0
    for (let misses = 0; count < perWorkspace * 0.97 && misses < locks.length; ) {
      const lock = locks[next++ % locks.length]!
      const size = Object.keys(lock.packages).length
      if (count + size > perWorkspace * 1.03) {
        misses++
        continue
      }
      misses = 0
      const hoisted = w === 1 && l === 0
      const { entries, roots } = layer(lock, hoisted ? '' : `${wsDir}/`, l === 0 ? '' : `w${w}l${l}`)
      Object.assign(packages, entries)
      mergeRoots(manifest, roots)
      count += Object.keys(entries).length
      l++
    }
    packages[wsDir] = { ...manifest }
    packages[`node_modules/${name}`] = { resolved: wsDir, link: true }
    mkdirSync(path.join(tmp, wsDir), { recursive: true })
    writeFileSync(path.join(tmp, wsDir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  }
  writeFileSync(path.join(tmp, 'package.json'), `${JSON.stringify(rootPkg, null, 2)}\n`)
  // sorted as npm writes them: a folder before what it holds (loadVirtual wires edges in this order)
  const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => a.localeCompare(b, 'en')))
  const raw = {
    name: rootPkg.name,
    version: rootPkg.version,
    lockfileVersion: 3,
    requires: true,
    packages: sorted,
  }
  writeFileSync(path.join(tmp, 'package-lock.json'), `${JSON.stringify(raw, null, 2)}\n`)

  // npm's own flag computation over the whole workspace tree, written back the way npm writes lockfiles
  const Arborist = require('@npmcli/arborist') as new (o: {
    path: string
  }) => {
    loadVirtual(): Promise<{ meta: { toString(): string } }>
  }
  const resetDepFlags = require('@npmcli/arborist/lib/reset-dep-flags.js') as (t: unknown) => void
  const calcDepFlags = require('@npmcli/arborist/lib/calc-dep-flags.js') as (t: unknown) => void
  const tree = await new Arborist({ path: tmp }).loadVirtual()
  resetDepFlags(tree)
  calcDepFlags(tree)
  const text = tree.meta.toString()
  writeFileSync(path.join(tmp, 'package-lock.json'), text)
  const committed = JSON.parse(text) as Lock
  rmSync(dir, { recursive: true, force: true })
  renameSync(tmp, dir)
  return { dir, entries: Object.keys(committed.packages).length }
}
