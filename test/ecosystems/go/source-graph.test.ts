/**
 * The module graph of a Go module from source: from the module cache (each dependency's go.mod, used
 * only when it hashes to go.sum's /go.mod line) and from the go command (`--go-list`: go list -m -json
 * all, go mod graph, offline, the pinned toolchain). The two views agree, byte for byte, on a module
 * cache built here; a tampered cache entry is not used (module cache) or refused (the go command).
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { test } from 'node:test'
import { escapeModulePath, goModH1, readGoInventory } from '../../../src/ecosystems/go/read-inventory.ts'
import { makeSbom } from '../../../src/sbom/index.ts'
import { validateJson } from '../../../src/sbom/validate.ts'
import { repoRoot, tempDir } from '../../helpers/paths.ts'

const GO_BIN = path.join(repoRoot, '.tools/interop/go/usr/lib/go-1.26/bin')

interface Mod {
  path: string
  version: string
  requires: string[]
}

/** Dependencies: `Upper` has capitals (the cache escapes them), `old` is replaced by `new`. */
const MODULES: Mod[] = [
  {
    path: 'example.com/a',
    version: 'v1.0.0',
    requires: ['example.com/b v1.1.0', 'example.com/Upper/x v0.2.0'],
  },
  { path: 'example.com/b', version: 'v1.1.0', requires: ['example.com/c v1.0.0'] },
  { path: 'example.com/c', version: 'v1.0.0', requires: [] },
  { path: 'example.com/Upper/x', version: 'v0.2.0', requires: ['example.com/c v1.0.0'] },
  { path: 'example.com/new', version: 'v2.0.0+incompatible', requires: ['example.com/b v1.1.0'] },
]

const GO_MOD = `module example.com/svc

go 1.22

require (
	example.com/a v1.0.0
	example.com/old v1.0.0
	example.com/local v0.0.0
)

require (
	example.com/Upper/x v0.2.0 // indirect
	example.com/b v1.1.0 // indirect
	example.com/c v1.0.0 // indirect
)

replace example.com/old => example.com/new v2.0.0+incompatible

replace example.com/local => ./local
`

async function project(): Promise<{ dir: string; cache: string; env: Record<string, string> }> {
  const root = tempDir('detbuild-go-graph-')
  const cache = path.join(root, 'modcache')
  const dir = path.join(root, 'svc')
  const sum: string[] = []
  for (const m of MODULES) {
    const at = path.join(cache, 'cache', 'download', escapeModulePath(m.path), '@v')
    await mkdir(at, { recursive: true })
    const text = `module ${m.path}\n\ngo 1.21\n${m.requires.map((r) => `\nrequire ${r}\n`).join('')}`
    await writeFile(path.join(at, `${m.version}.mod`), text)
    await writeFile(
      path.join(at, `${m.version}.info`),
      JSON.stringify({ Version: m.version, Time: '2024-01-02T03:04:05Z' }),
    )
    sum.push(`${m.path} ${m.version}/go.mod ${goModH1(Buffer.from(text))}`)
  }
  await mkdir(path.join(dir, 'local'), { recursive: true })
  await writeFile(path.join(dir, 'go.mod'), GO_MOD)
  await writeFile(path.join(dir, 'go.sum'), `${sum.sort().join('\n')}\n`)
  await writeFile(
    path.join(dir, 'local', 'go.mod'),
    'module example.com/local\n\ngo 1.22\n\nrequire example.com/c v1.0.0\n',
  )
  const env = {
    PATH: `${GO_BIN}:${process.env.PATH}`,
    HOME: root,
    GOMODCACHE: cache,
    GOCACHE: path.join(root, 'gocache'),
  }
  return { dir, cache, env }
}

function edges(inv: Awaited<ReturnType<typeof readGoInventory>>): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const n of inv.nodes.values()) out[n.key || '(root)'] = [...n.deps].sort()
  return out
}

test('the module cache gives each module its own requirements (verified against go.sum)', async () => {
  const { dir, env } = await project()
  const inv = await readGoInventory(dir, { env })
  assert.deepEqual(edges(inv), {
    '(root)': [
      'go:#stdlib',
      'go:example.com/Upper/x',
      'go:example.com/a',
      'go:example.com/b',
      'go:example.com/c',
      'go:example.com/local',
      'go:example.com/old',
    ],
    'go:example.com/Upper/x': ['go:example.com/c'],
    'go:example.com/a': ['go:example.com/Upper/x', 'go:example.com/b'],
    'go:example.com/b': ['go:example.com/c'],
    'go:example.com/c': [],
    'go:example.com/local': ['go:example.com/c'],
    'go:example.com/old': ['go:example.com/b'],
    'go:#stdlib': [],
  })
  assert.equal(inv.incompleteDeps, undefined, 'every dependency list is known')
  const old = inv.nodes.get('go:example.com/old')!
  assert.equal(old.purl, 'pkg:golang/example.com/new@v2.0.0%2Bincompatible')
  assert.deepEqual(
    old.properties?.find((p) => p.name === 'detbuild:go:replaces'),
    { name: 'detbuild:go:replaces', value: 'example.com/old@v1.0.0' },
  )
  assert.equal(inv.nodes.get('go:example.com/Upper/x')!.purl, 'pkg:golang/example.com/Upper/x@v0.2.0')
})

test('--go-list (the go command, offline) and the module cache give the same SBOM, byte for byte', async () => {
  assert.ok(existsSync(path.join(GO_BIN, 'go')), `the pinned Go toolchain is missing in ${GO_BIN}`)
  const { dir, env } = await project()
  const base = {
    cwd: dir,
    from: 'lockfile' as const,
    format: 'json' as const,
    spec: '1.6' as const,
    omit: [],
    workspaces: [],
    validate: false,
    sourceDateEpoch: 1_700_000_000,
    env,
  }
  const fromCache = await makeSbom(base)
  const fromGo = await makeSbom({ ...base, goList: true })
  assert.equal(fromGo.serialized.json, fromCache.serialized.json)
  assert.deepEqual(await validateJson(fromGo.serialized.json, '1.6'), { ok: true })
  const doc = JSON.parse(fromGo.serialized.json)
  assert.deepEqual(
    doc.compositions.map((c: { aggregate: string }) => c.aggregate),
    ['complete'],
    'a complete graph claims nothing incomplete',
  )
  assert.equal(fromGo.dependencyEdges, 7 + 6)
  // the go.mod of go.sum agrees with Go itself: go would refuse a wrong /go.mod hash (next test)
  assert.equal(await readFile(path.join(dir, 'go.mod'), 'utf8'), GO_MOD, 'read-only: go.mod untouched')
})

test('a tampered module cache entry: not used by the reader (incomplete, warned), refused by go (exit 3)', async () => {
  const { dir, cache, env } = await project()
  const file = path.join(cache, 'cache', 'download', 'example.com', 'b', '@v', 'v1.1.0.mod')
  await writeFile(file, 'module example.com/b\n\ngo 1.21\n\nrequire example.com/evil v6.6.6\n')
  const inv = await readGoInventory(dir, { env })
  assert.deepEqual(inv.nodes.get('go:example.com/b')!.deps, [])
  assert.deepEqual(inv.incompleteDeps, ['go:example.com/b'])
  assert.ok(
    inv.warnings.some((w) => /the go\.mod of example\.com\/b@v1\.1\.0 does not match go\.sum/.test(w)),
  )
  const made = await makeSbom({
    cwd: dir,
    from: 'lockfile',
    format: 'json',
    spec: '1.6',
    omit: [],
    workspaces: [],
    validate: false,
    sourceDateEpoch: 0,
    env,
  })
  const compositions = JSON.parse(made.serialized.json).compositions
  assert.deepEqual(compositions[1], {
    aggregate: 'incomplete',
    dependencies: ['pkg:golang/example.com/b@v1.1.0'],
  })
  assert.equal(compositions[0].aggregate, 'complete')
  assert.ok(!compositions[0].dependencies.includes('pkg:golang/example.com/b@v1.1.0'))
  await assert.rejects(readGoInventory(dir, { env, goList: true }), {
    code: 'GO_LIST_FAILED',
    exitCode: 3,
    message: /checksum mismatch|SECURITY ERROR|verifying/,
  })
})

test('--go-list without a go command is GO_LIST_UNAVAILABLE (exit 3), never a silent fallback', async () => {
  const { dir, env } = await project()
  await assert.rejects(readGoInventory(dir, { env: { ...env, PATH: '/nonexistent' }, goList: true }), {
    code: 'GO_LIST_UNAVAILABLE',
    exitCode: 3,
  })
})
