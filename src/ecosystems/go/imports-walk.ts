/**
 * Edge (files): the packages a Go program's import graph reaches, read from source without a Go
 * toolchain. It starts from every package of the main module (the project's `.go` files, tests left
 * out) and follows each import into the folder that holds it: the main module, `vendor/` when the
 * project vendors, the module cache (`GOMODCACHE`, else `GOPATH`/pkg/mod, else ~/go/pkg/mod) for the
 * modules the SBOM lists, and `GOROOT/src` for the standard library when its VERSION is the Go version
 * being scanned. Build constraints are not evaluated: every file counts (more imports, never fewer).
 * A package it cannot read makes the walk `incomplete` (named in `missing`): a package not reached
 * by an incomplete walk is not proven absent.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { parseGoImports } from './imports.ts'

export interface GoModuleRef {
  path: string
  version: string
}

export interface ImportWalkOptions {
  projectDir: string
  /** the main module's path (go.mod's `module`) */
  mainModule: string
  /** the modules of the build (the SBOM's), without the main module and `stdlib` */
  modules: readonly GoModuleRef[]
  /** the Go release being scanned (`go1.21.5`), to check GOROOT's VERSION against */
  goVersion: string | null
  env: Readonly<Record<string, string | undefined>>
}

export interface ImportWalk {
  /** import paths reached (standard-library copies under GOROOT/src/vendor as `vendor/<path>`) */
  packages: Set<string>
  /** packages that could not be read, with why (sorted); empty: the walk is complete */
  missing: string[]
}

const MAX_PACKAGES = 50_000
const MAX_FILE_BYTES = 8 * 1024 * 1024

/** Go's module cache spelling: an upper-case letter is `!` and its lower case. */
export function escapeModulePath(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`)
}

function isStd(importPath: string): boolean {
  const first = importPath.split('/')[0]!
  return !first.includes('.')
}

/** `module` of a go.mod text, or null. */
export function goModModulePath(text: string): string | null {
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim()
    const m = /^module\s+("(?:[^"\\]|\\.)*"|`[^`]*`|\S+)$/.exec(line)
    if (m) {
      const v = m[1]!
      if (v.startsWith('"')) {
        try {
          return JSON.parse(v) as string
        } catch {
          return null
        }
      }
      return v.startsWith('`') ? v.slice(1, -1) : v
    }
  }
  return null
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory()
  } catch {
    return false
  }
}

/** The imports of the package in `dir` (its non-test .go files), or why not. */
async function packageImports(dir: string): Promise<{ imports: string[] } | { error: string }> {
  let entries: import('node:fs').Dirent[]
  try {
    entries = await readdir(dir, { withFileTypes: true })
  } catch {
    return { error: 'not found' }
  }
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.go') && !e.name.endsWith('_test.go'))
    .map((e) => e.name)
    .sort()
  if (files.length === 0) return { error: 'no Go files' }
  const all = new Set<string>()
  for (const f of files) {
    const file = path.join(dir, f)
    let text: string
    try {
      if ((await stat(file)).size > MAX_FILE_BYTES) return { error: `${f}: larger than 8 MiB` }
      text = await readFile(file, 'utf8')
    } catch {
      return { error: `${f}: unreadable` }
    }
    const r = parseGoImports(text)
    if ('error' in r) return { error: `${f}: ${r.error}` }
    for (const p of r.imports) all.add(p)
  }
  return { imports: [...all].sort() }
}

/** The main module's package folders (relative, POSIX; '' for the top), nested modules and vendor/ left out. */
async function mainPackages(projectDir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (rel: string): Promise<void> => {
    let entries: import('node:fs').Dirent[]
    try {
      entries = await readdir(path.join(projectDir, rel), { withFileTypes: true })
    } catch {
      return
    }
    if (rel !== '' && entries.some((e) => e.isFile() && e.name === 'go.mod')) return
    if (entries.some((e) => e.isFile() && e.name.endsWith('.go') && !e.name.endsWith('_test.go')))
      out.push(rel)
    for (const e of entries.filter((x) => x.isDirectory()).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.') || e.name.startsWith('_') || e.name === 'testdata') continue
      if (rel === '' && e.name === 'vendor') continue
      await walk(rel === '' ? e.name : `${rel}/${e.name}`)
    }
  }
  await walk('')
  return out.sort()
}

function moduleCache(env: ImportWalkOptions['env']): string | null {
  if (env.GOMODCACHE) return env.GOMODCACHE
  const gopath = env.GOPATH?.split(path.delimiter).find((p) => p !== '')
  if (gopath) return path.join(gopath, 'pkg', 'mod')
  return env.HOME ? path.join(env.HOME, 'go', 'pkg', 'mod') : null
}

async function goroot(o: ImportWalkOptions): Promise<{ dir: string } | { why: string }> {
  const root = o.env.GOROOT
  if (!root) return { why: 'GOROOT is not set' }
  let version: string
  try {
    version = (await readFile(path.join(root, 'VERSION'), 'utf8')).split('\n')[0]!.trim()
  } catch {
    return { why: `GOROOT ${root} has no VERSION file` }
  }
  if (o.goVersion === null) return { why: 'the Go version is not known' }
  if (version !== o.goVersion)
    return { why: `GOROOT holds ${version}, the scanned Go version is ${o.goVersion}` }
  return { dir: path.join(root, 'src') }
}

/** Walks the import graph from the main module's packages. */
export async function walkImports(o: ImportWalkOptions): Promise<ImportWalk> {
  const packages = new Set<string>()
  const missing = new Set<string>()
  const vendored = await isDir(path.join(o.projectDir, 'vendor'))
  const cache = moduleCache(o.env)
  const std = await goroot(o)
  // longest module path first: a package belongs to the module with the longest matching prefix
  const modules = [...o.modules].sort((a, b) => b.path.length - a.path.length)

  /** where an import path's package is, or why it cannot be known */
  const locate = (
    p: string,
    fromStd: boolean,
  ): { key: string; dir: string } | { key: string; why: string } => {
    if (fromStd && !isStd(p)) {
      if ('why' in std) return { key: `vendor/${p}`, why: std.why }
      return { key: `vendor/${p}`, dir: path.join(std.dir, 'vendor', p) }
    }
    if (isStd(p)) return 'why' in std ? { key: p, why: std.why } : { key: p, dir: path.join(std.dir, p) }
    if (p === o.mainModule || p.startsWith(`${o.mainModule}/`))
      return { key: p, dir: path.join(o.projectDir, p.slice(o.mainModule.length)) }
    const m = modules.find((x) => p === x.path || p.startsWith(`${x.path}/`))
    if (m === undefined) return { key: p, why: 'no module of the SBOM provides it' }
    if (vendored) return { key: p, dir: path.join(o.projectDir, 'vendor', p) }
    if (cache === null) return { key: p, why: 'no module cache (GOMODCACHE, GOPATH or HOME)' }
    const modDir = path.join(cache, `${escapeModulePath(m.path)}@${escapeModulePath(m.version)}`)
    return { key: p, dir: path.join(modDir, p.slice(m.path.length)) }
  }

  const queue: Array<{ key: string; dir: string; std: boolean }> = []
  const main = await mainPackages(o.projectDir)
  // no Go source at all is no evidence (go.mod and go.sum alone say nothing about imports)
  if (main.length === 0) missing.add(`${o.mainModule}: no Go source files in the project`)
  for (const rel of main) {
    const key = rel === '' ? o.mainModule : `${o.mainModule}/${rel}`
    packages.add(key)
    queue.push({ key, dir: path.join(o.projectDir, rel), std: false })
  }
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i]!
    const r = await packageImports(at.dir)
    if ('error' in r) {
      missing.add(`${at.key}: ${r.error}`)
      continue
    }
    for (const p of r.imports) {
      if (p === 'C' || p === 'unsafe') continue
      const loc = locate(p, at.std)
      if (packages.has(loc.key)) continue
      packages.add(loc.key)
      if ('why' in loc) {
        missing.add(`${loc.key}: ${loc.why}`)
        continue
      }
      if (packages.size > MAX_PACKAGES) {
        missing.add(`more than ${MAX_PACKAGES} packages: the walk stopped`)
        return { packages, missing: [...missing].sort() }
      }
      queue.push({ key: loc.key, dir: loc.dir, std: at.std || isStd(p) })
    }
  }
  return { packages, missing: [...missing].sort() }
}
