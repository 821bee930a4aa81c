/**
 * Real go.mod/go.sum files of open-source Go services (test/fixtures/go/source/): the inventory's
 * modules equal go.mod's requirements after replace and exclude, as Go's own go.mod reader sees them
 * (`go mod edit -json` of the pinned toolchain is the oracle), each with go.sum's h1 hashes, direct vs
 * indirect, and the Go release from the go/toolchain line.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { goModulePurl } from '../../../src/ecosystems/go/purl.ts'
import { GO_PROPERTY, readGoInventory } from '../../../src/ecosystems/go/read-inventory.ts'
import { repoRoot, tempDir } from '../../helpers/paths.ts'

/** The pinned toolchain (scripts/interop-tools.sh); a missing one fails loudly. */
const GO = path.join(repoRoot, '.tools/interop/go/usr/lib/go-1.26/bin/go')
const FIXTURES = path.join(repoRoot, 'test/fixtures/go/source')
const NAMES = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort()

interface ModEditJson {
  Module: { Path: string }
  Go?: string
  Toolchain?: string
  Require?: Array<{ Path: string; Version: string; Indirect?: boolean }>
  Exclude?: Array<{ Path: string; Version: string }>
  Replace?: Array<{ Old: { Path: string; Version?: string }; New: { Path: string; Version?: string } }>
}

/** Go's own reading of go.mod (golang.org/x/mod/modfile), offline. */
function goModEdit(dir: string): ModEditJson {
  assert.ok(existsSync(GO), `the pinned Go toolchain is missing at ${GO}: run bash scripts/interop-tools.sh`)
  const home = tempDir('detbuild-go-home-')
  return JSON.parse(
    execFileSync(GO, ['mod', 'edit', '-json'], {
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        GOTOOLCHAIN: 'local',
        GOENV: 'off',
        GOPROXY: 'off',
        GOFLAGS: '',
      },
      encoding: 'utf8',
    }),
  ) as ModEditJson
}

function goSumLines(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of readFileSync(path.join(dir, 'go.sum'), 'utf8').split('\n')) {
    const [p, v, h] = line.split(' ')
    if (p && v && h) out.set(`${p} ${v}`, h)
  }
  return out
}

test('the fixtures are there: four real services', () => {
  assert.deepEqual(NAMES, ['caddy', 'etcd', 'go-cmd', 'prometheus'])
})

for (const name of NAMES) {
  test(`${name}: components = go.mod's requirements after replace and exclude (go mod edit -json), with go.sum's h1`, async () => {
    const dir = path.join(FIXTURES, name)
    const oracle = goModEdit(dir)
    const sums = goSumLines(dir)
    // env {}: no module cache, no git — the module list does not depend on either
    const inv = await readGoInventory(dir, { env: {} })
    assert.equal(inv.root.name, oracle.Module.Path)

    const expected = new Map<string, { purl: string; indirect: boolean; h1?: string; dir?: string }>()
    for (const r of oracle.Require ?? []) {
      assert.ok(
        !(oracle.Exclude ?? []).some((x) => x.Path === r.Path && x.Version === r.Version),
        'a required version is never excluded in a tidy go.mod',
      )
      const rep =
        (oracle.Replace ?? []).find((x) => x.Old.Path === r.Path && x.Old.Version === r.Version) ??
        (oracle.Replace ?? []).find((x) => x.Old.Path === r.Path && x.Old.Version === undefined)
      if (rep && rep.New.Version === undefined) {
        expected.set(r.Path, {
          purl: goModulePurl(r.Path, undefined),
          indirect: !!r.Indirect,
          dir: rep.New.Path,
        })
        continue
      }
      const p = rep ? rep.New.Path : r.Path
      const v = rep ? rep.New.Version! : r.Version
      expected.set(r.Path, { purl: goModulePurl(p, v), indirect: !!r.Indirect, h1: sums.get(`${p} ${v}`) })
    }
    const modules = [...inv.nodes.values()].filter((n) => n !== inv.root && n.name !== 'stdlib')
    assert.equal(modules.length, expected.size, 'one component per required module path')
    const prop = (n: (typeof modules)[number], k: string) => n.properties?.find((p) => p.name === k)?.value
    for (const n of modules) {
      const path_ = n.key.replace(/^go:/, '')
      const want = expected.get(path_)
      assert.ok(want, `${path_} is required by go.mod`)
      assert.equal(n.purl, want.purl, path_)
      assert.equal(prop(n, GO_PROPERTY.requirement), want.indirect ? 'indirect' : 'direct', path_)
      assert.equal(prop(n, GO_PROPERTY.h1), want.h1, `${path_}: go.sum's h1, never a SHA-256 hash`)
      assert.equal(n.integrity, undefined)
      if (want.dir !== undefined) {
        assert.equal(n.kind, 'directory')
        assert.equal(n.version, '')
        assert.equal(prop(n, GO_PROPERTY.replaceDir), want.dir)
      }
    }
    // the Go release: the toolchain line, else the go line
    const stdlib = inv.nodes.get('go:stdlib')!
    const release = oracle.Toolchain ?? `go${oracle.Go}`
    assert.equal(stdlib.version, release)
    assert.equal(stdlib.purl, `pkg:golang/stdlib@${release.slice(2)}`)
    assert.equal(prop(stdlib, GO_PROPERTY.version), release)
    assert.deepEqual(
      [...inv.root.deps].sort(),
      [...expected.keys()]
        .map((p) => `go:${p}`)
        .concat('go:stdlib')
        .sort(),
      'the main module requires every listed module and the Go release',
    )
    // without a module cache nothing is known of the modules' own dependencies: said, not hidden
    assert.deepEqual(inv.incompleteDeps, [...expected.keys()].map((p) => `go:${p}`).sort())
    // the fixture folder is inside detbuild's own repository, whose tags are not this module's: a
    // pseudo-version from HEAD (main-version.ts), or (devel) when git is not there
    assert.match(inv.root.version, /^(?:v\d+\.0\.0-\d{14}-[0-9a-f]{12}|\(devel\))$/)
  })
}

test('etcd: a local directory replacement whose folder is absent is a warning, not a failure', async () => {
  const inv = await readGoInventory(path.join(FIXTURES, 'etcd'), { env: {} })
  assert.ok(
    inv.warnings.some((w) => w.includes('replace go.etcd.io/etcd/api/v3 => ./api: ./api/go.mod is missing')),
  )
  const api = inv.nodes.get('go:go.etcd.io/etcd/api/v3')!
  assert.equal(api.purl, 'pkg:golang/go.etcd.io/etcd/api/v3')
})
