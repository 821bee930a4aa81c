/**
 * The main module's version from git, checked against the go command itself: Go ≥ 1.24 stamps a build
 * with the version of the main module from version control (`go version -m`), and detbuild must say the
 * same for the same repository: a tag at HEAD, a pseudo-version over the last tag, `+dirty`, `/v2`.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { readMainVersion } from '../../../src/ecosystems/go/main-version.ts'
import { gitAt } from '../../helpers/git.ts'
import { repoRoot, tempDir } from '../../helpers/paths.ts'

const GO = path.join(repoRoot, '.tools/interop/go/usr/lib/go-1.26/bin/go')
/** One build cache for every run of this file: the first build compiles the runtime once. */
const GOCACHE = path.join(tmpdir(), 'detbuild-test-go-build-cache')

/** The version `go build` stamps for the main module of `dir` (its `mod` line in `go version -m`). */
function goStamp(dir: string): string {
  assert.ok(existsSync(GO), `the pinned Go toolchain is missing at ${GO}: run bash scripts/interop-tools.sh`)
  const out = path.join(tempDir('detbuild-go-bin-'), 'bin')
  const env = {
    PATH: process.env.PATH,
    HOME: tmpdir(),
    GOCACHE,
    GOTOOLCHAIN: 'local',
    GOENV: 'off',
    GOPROXY: 'off',
    CGO_ENABLED: '0',
    GOFLAGS: '-buildvcs=true',
  }
  execFileSync(GO, ['build', '-o', out, '.'], { cwd: dir, env, stdio: 'pipe' })
  const info = execFileSync(GO, ['version', '-m', out], { env, encoding: 'utf8' })
  const mod = /^\tmod\t\S+\t(\S+)/m.exec(info)
  assert.ok(mod, info)
  return mod[1]!
}

function repo(modulePath: string): string {
  const dir = tempDir('detbuild-go-stamp-')
  writeFileSync(path.join(dir, 'go.mod'), `module ${modulePath}\n\ngo 1.24\n`)
  writeFileSync(path.join(dir, 'main.go'), 'package main\n\nfunc main() {}\n')
  gitAt(dir, 1_700_000_000, 'init', '-q')
  gitAt(dir, 1_700_000_000, 'add', '-A')
  gitAt(dir, 1_700_000_123, 'commit', '-qm', 'one')
  return dir
}

function commit(dir: string, time: number): void {
  writeFileSync(path.join(dir, 'main.go'), `package main\n\n// ${time}\nfunc main() {}\n`)
  gitAt(dir, time, 'commit', '-qam', String(time))
}

const env = { PATH: process.env.PATH }

test('no tag: v0.0.0-<commit time>-<hash>, as go build stamps it', async () => {
  const dir = repo('example.com/svc')
  const v = await readMainVersion(dir, 'example.com/svc', env)
  assert.equal(v.source, 'pseudo-version')
  assert.match(v.version, /^v0\.0\.0-20231114221523-[0-9a-f]{12}$/)
  assert.equal(v.version, goStamp(dir))
})

test('a tag at HEAD; after it a pseudo-version over it; after a pre-release one over that', async () => {
  // another module path than the first test's: another commit (go's build cache keys a link on the
  // revision, not on the tags, so the same commit built untagged before would keep its old stamp)
  const dir = repo('example.com/tagged')
  gitAt(dir, 0, 'tag', 'v1.2.3')
  const tagged = await readMainVersion(dir, 'example.com/tagged', env)
  assert.deepEqual([tagged.version, tagged.source], ['v1.2.3', 'git-tag'])
  assert.equal(tagged.version, goStamp(dir))
  commit(dir, 1_700_000_500)
  const after = await readMainVersion(dir, 'example.com/tagged', env)
  assert.match(after.version, /^v1\.2\.4-0\.20231114222140-[0-9a-f]{12}$/)
  assert.equal(after.version, goStamp(dir))
  gitAt(dir, 0, 'tag', 'v1.3.0-rc.1')
  gitAt(dir, 0, 'tag', 'v3.0.0') // not this module's major version: ignored
  commit(dir, 1_700_000_900)
  const pre = await readMainVersion(dir, 'example.com/tagged', env)
  assert.match(pre.version, /^v1\.3\.0-rc\.1\.0\.20231114222820-[0-9a-f]{12}$/)
  assert.equal(pre.version, goStamp(dir))
})

test('a /v2 module takes v2 tags only; a changed working tree is +dirty', async () => {
  const dir = repo('example.com/svc/v2')
  gitAt(dir, 0, 'tag', 'v1.9.0')
  gitAt(dir, 0, 'tag', 'v2.1.0')
  const v2 = await readMainVersion(dir, 'example.com/svc/v2', env)
  assert.equal(v2.version, 'v2.1.0')
  assert.equal(v2.version, goStamp(dir))
  writeFileSync(path.join(dir, 'main.go'), 'package main\n\n// changed\nfunc main() {}\n')
  const dirty = await readMainVersion(dir, 'example.com/svc/v2', env)
  assert.equal(dirty.version, 'v2.1.0+dirty')
  assert.equal(dirty.dirty, true)
  assert.equal(dirty.version, goStamp(dir))
  gitAt(dir, 1_700_000_700, 'commit', '-qam', 'two')
  writeFileSync(path.join(dir, 'untracked.txt'), 'new')
  const untracked = await readMainVersion(dir, 'example.com/svc/v2', env)
  assert.match(untracked.version, /^v2\.1\.1-0\.20231114222500-[0-9a-f]{12}\+dirty$/)
  assert.equal(untracked.version, goStamp(dir))
  // detbuild's own workspace does not make a tree dirty
  const clean = repo('example.com/svc')
  mkdirSync(path.join(clean, '.detbuild'))
  writeFileSync(path.join(clean, '.detbuild', 'sbom.cdx.json'), '{}')
  assert.doesNotMatch((await readMainVersion(clean, 'example.com/svc', env)).version, /dirty/)
})

test('outside git: (devel), explicitly unknown', async () => {
  const dir = tempDir('detbuild-go-nogit-')
  const v = await readMainVersion(dir, 'example.com/svc', { PATH: '/nonexistent' })
  assert.deepEqual(v, { version: '(devel)', source: 'unknown' })
})
