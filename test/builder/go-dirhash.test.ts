/**
 * Go's dirhash (`h1:`), against REAL go.sum lines: golang.org/x/sync v0.19.0's module zip, rebuilt from
 * the module's real sources at its tag (test/fixtures/go/build/modules/, fetched from github.com/golang/sync
 * at v0.19.0), and its go.mod, must give the h1: values Go's own src/cmd/go.sum (Debian's go1.26.10) holds.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { hashGoMod, hashZip } from '../../src/ecosystems/go/dirhash.ts'
import {
  checkModuleZip,
  escapeModulePath,
  parseGoSumLines,
  resolveGoProxy,
} from '../../src/ecosystems/go/module-proxy.ts'
import { InputError } from '../../src/errors.ts'
import {
  BUILD_FIXTURES,
  GOROOT_DEBIAN,
  moduleFromFixture,
  requireGo,
  writeModuleZip,
} from '../helpers/go-proxy.ts'

const fail = (why: string): never => {
  throw new Error(why)
}

/** The h1: lines of Go's own go.sum for x/sync v0.19.0 (Debian's go1.26.10 source tree). */
function realSumLines(): { zip: string; mod: string } {
  requireGo()
  const text = readFileSync(path.join(GOROOT_DEBIAN, 'src/cmd/go.sum'), 'utf8')
  const lines = parseGoSumLines(text, 'go.sum').filter(
    (l) => l.path === 'golang.org/x/sync' && l.version === 'v0.19.0',
  )
  const zip = lines.find((l) => !l.goMod)?.h1
  const mod = lines.find((l) => l.goMod)?.h1
  assert.ok(zip && mod, 'go.sum of go1.26.10 names golang.org/x/sync v0.19.0')
  return { zip, mod }
}

test('hashZip of the real golang.org/x/sync v0.19.0 module zip equals its real go.sum line', () => {
  const real = realSumLines()
  assert.equal(real.zip, 'h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=')
  const m = moduleFromFixture('golang.org/x/sync', 'v0.19.0')
  assert.equal(hashZip(m.zip, fail), real.zip)
  assert.equal(hashGoMod(m.mod), real.mod)
  // entry order and compression do not matter (the file list is sorted), the content does
  const files = new Map<string, Buffer>()
  const fixture = path.join(BUILD_FIXTURES, 'modules/golang.org/x/sync@v0.19.0')
  for (const name of ['LICENSE', 'go.mod', 'errgroup/errgroup.go'])
    files.set(`golang.org/x/sync@v0.19.0/${name}`, readFileSync(path.join(fixture, name)))
  const partial = hashZip(writeModuleZip(files, 0), fail)
  assert.notEqual(partial, real.zip, 'a zip missing files has another h1')
  const changed = new Map(files)
  changed.set('golang.org/x/sync@v0.19.0/LICENSE', Buffer.from('changed'))
  assert.notEqual(hashZip(writeModuleZip(changed), fail), partial)
  assert.equal(hashZip(writeModuleZip(files, 9), fail), partial)
})

test("the vendored copy in Go's own tree is NOT the module: its h1 differs (files are missing)", () => {
  const real = realSumLines()
  const vendored = path.join(GOROOT_DEBIAN, 'src/cmd/vendor/golang.org/x/sync')
  const files = new Map<string, Buffer>()
  for (const name of ['LICENSE', 'PATENTS', 'errgroup/errgroup.go', 'semaphore/semaphore.go'])
    files.set(`golang.org/x/sync@v0.19.0/${name}`, readFileSync(path.join(vendored, name)))
  assert.notEqual(hashZip(writeModuleZip(files), fail), real.zip)
})

test('go.sum lines: parsed with their line numbers; a malformed line is GO_SUM_SYNTAX naming it', () => {
  const lines = parseGoSumLines(
    'golang.org/x/sync v0.19.0 h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=\n\ngithub.com/BurntSushi/toml v1.0.0/go.mod h1:9KTHXmSnoGruLpwFjVSX0lNNA75CykiMECbovNTZqGI=\n',
    'go.sum',
  )
  assert.deepEqual(
    lines.map((l) => [l.path, l.version, l.goMod, l.line]),
    [
      ['golang.org/x/sync', 'v0.19.0', false, 1],
      ['github.com/BurntSushi/toml', 'v1.0.0', true, 3],
    ],
  )
  assert.equal(escapeModulePath('github.com/BurntSushi/toml'), 'github.com/!burnt!sushi/toml')
  for (const bad of ['a v1 h1:x', 'only two', '../x v1.0.0 h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4='])
    assert.throws(
      () =>
        parseGoSumLines(
          `golang.org/x/sync v0.19.0 h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4=\n${bad}\n`,
          'go.sum',
        ),
      (e: unknown) => e instanceof InputError && e.code === 'GO_SUM_SYNTAX' && /^go\.sum:2: /.test(e.message),
    )
})

test('module zips are checked by Go\'s rules: prefix, no directories, no "..", no case-folded duplicates', () => {
  const ok = new Map([['m@v1.0.0/a.go', Buffer.from('package a')]])
  assert.deepEqual(checkModuleZip(writeModuleZip(ok), 'm@v1.0.0/', fail), ['a.go'])
  for (const name of ['other@v1.0.0/a.go', 'm@v1.0.0/../a.go', 'm@v1.0.0/dir/', 'm@v1.0.0/A.GO'])
    assert.throws(() =>
      checkModuleZip(writeModuleZip(new Map([...ok, [name, Buffer.from('x')]])), 'm@v1.0.0/', fail),
    )
})

test('GOPROXY: the first http(s) entry; unset is the public proxy; off is the verified cache alone; direct only is refused', () => {
  assert.equal(resolveGoProxy(undefined), 'https://proxy.golang.org')
  assert.equal(resolveGoProxy('https://goproxy.example/,direct'), 'https://goproxy.example')
  assert.equal(resolveGoProxy('off'), 'off')
  assert.throws(
    () => resolveGoProxy('direct'),
    (e: unknown) => e instanceof InputError && e.code === 'GO_PROXY_INVALID',
  )
})
