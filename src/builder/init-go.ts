/**
 * `detbuild init` for a Go module (a go.mod, no package.json): the toolchain from go.mod's `toolchain`
 * line (or an exact `go` line), and one `go build -o dist/<name> ./<folder>` per main package — a main
 * package at the root is named after the module path's last element. Reads go.mod and the .go files'
 * package clauses; runs only `go env GOVERSION` of the go on PATH when go.mod names no exact release.
 */
import { readdir, readFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { InputError } from '../errors.ts'
import { compareCodePoint } from '../util/sort.ts'
import { SYSTEM_PATH } from './env.ts'
import { captureOutput, findOnPath } from './run.ts'

/** Folders the go command never builds packages from (and detbuild's own). */
const SKIPPED = new Set(['vendor', 'testdata', 'node_modules', '.detbuild'])
/** At most this many folders are read: a huge tree is not walked to the end. */
const MAX_DIRS = 5000

/** The module path and the Go release go.mod pins (`toolchain go1.26.10`, else an exact `go 1.26.10`). */
export function readGoMod(text: string): { module: string | null; goVersion: string | null } {
  const module = /^module\s+"?([^\s"]+)"?\s*$/m.exec(text)?.[1] ?? null
  const toolchain = /^toolchain\s+go([0-9]+\.[0-9]+(?:\.[0-9]+|rc[0-9]+)?)\s*$/m.exec(text)?.[1]
  const go = /^go\s+([0-9]+\.[0-9]+\.[0-9]+)\s*$/m.exec(text)?.[1]
  return { module, goVersion: toolchain ?? go ?? null }
}

/** Whether a Go source file declares `package main` (its package clause, comments skipped). */
export function isMainPackage(source: string): boolean {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '')
  return /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*)/m.exec(text)?.[1] === 'main'
}

/** The folders (relative, POSIX; '' for the root) holding a main package, sorted; nested modules are left out. */
export async function findMainPackages(cwd: string): Promise<string[]> {
  const found: string[] = []
  const queue = ['']
  let seen = 0
  while (queue.length > 0 && seen < MAX_DIRS) {
    const rel = queue.shift() as string
    seen++
    const entries = await readdir(path.join(cwd, rel), { withFileTypes: true })
    // a folder with its own go.mod is another module
    if (rel !== '' && entries.some((e) => e.isFile() && e.name === 'go.mod')) continue
    let main = false
    for (const e of entries) {
      if (e.isDirectory() && !SKIPPED.has(e.name) && !e.name.startsWith('.') && !e.name.startsWith('_'))
        queue.push(rel === '' ? e.name : `${rel}/${e.name}`)
      else if (!main && e.isFile() && e.name.endsWith('.go') && !e.name.endsWith('_test.go'))
        main = isMainPackage(await readFile(path.join(cwd, rel, e.name), 'utf8'))
    }
    if (main) found.push(rel)
  }
  return found.sort(compareCodePoint)
}

/** The initial config of a Go module, or null when `cwd` has no go.mod. */
export async function toGoInitialConfig(
  cwd: string,
  hostPath?: string,
): Promise<{ config: Record<string, unknown>; warnings: string[] } | null> {
  let text: string
  try {
    text = await readFile(path.join(cwd, 'go.mod'), 'utf8')
  } catch {
    return null
  }
  const { module, goVersion } = readGoMod(text)
  if (!module)
    throw new InputError('BUILD_GO_MODULE_MISSING', 'no "module" line: not a Go module', { file: 'go.mod' })
  const warnings: string[] = []
  const mains = await findMainPackages(cwd)
  if (mains.length === 0)
    throw new InputError(
      'BUILD_GO_NO_MAIN_PACKAGE',
      'no main package in this module: nothing to build into a binary',
      {
        file: 'go.mod',
      },
    )
  const base =
    module
      .split('/')
      .filter((p) => !/^v[0-9]+$/.test(p))
      .pop() ?? module
  const build = ['mkdir -p dist']
  const names = new Set<string>()
  for (const dir of mains) {
    const name = dir === '' ? base : (dir.split('/').pop() as string)
    if (names.has(name))
      warnings.push(`two main packages are named ${name}: ./${dir} is built as dist/${name}-${names.size}`)
    const out = names.has(name) ? `${name}-${names.size}` : name
    names.add(name)
    build.push(`go build -o dist/${out} ${dir === '' ? '.' : `./${dir}`}`)
  }
  // no exact release in go.mod: the go on PATH is pinned (as init pins the running node), else "system"
  const pinned = goVersion ?? (await pathGoVersion(hostPath))
  if (!goVersion)
    warnings.push(
      pinned
        ? `go.mod names no exact Go release (a "toolchain go1.x.y" line): pinned the go on PATH, ${pinned}`
        : 'go.mod names no exact Go release (a "toolchain go1.x.y" line) and no go is on PATH: toolchain.go is "system", unpinned',
    )
  return {
    config: {
      $schema: './node_modules/detbuild/schema/config.schema.json',
      toolchain: { go: pinned ?? 'system' },
      build,
      outputs: ['dist/*'],
      network: 'deny',
    },
    warnings,
  }
}

/** The release of the go on PATH (`go env GOVERSION`, no go env file read, no toolchain switch), or null. */
async function pathGoVersion(hostPath: string | undefined): Promise<string | null> {
  const bin = await findOnPath('go', hostPath)
  if (!bin) return null
  const printed = await captureOutput(
    bin,
    ['env', 'GOVERSION'],
    { PATH: SYSTEM_PATH.join(':'), GOTOOLCHAIN: 'local', GOENV: 'off', HOME: os.tmpdir() },
    os.tmpdir(),
  )
  return /^go([0-9]+\.[0-9]+(?:\.[0-9]+|rc[0-9]+)?)$/.exec(printed ?? '')?.[1] ?? null
}
