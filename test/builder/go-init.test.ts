/**
 * `detbuild init` in a Go module: the toolchain from go.mod, one `go build` per main package (the root's
 * named after the module path), vendor/testdata/nested modules skipped; the written config is valid.
 */
import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { findMainPackages, isMainPackage, readGoMod } from '../../src/builder/init-go.ts'
import { GO_BIN } from '../helpers/go-proxy.ts'
import { tempDir } from '../helpers/paths.ts'
import { runCli } from './helpers.ts'

function tree(files: Record<string, string>): string {
  const dir = tempDir()
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
    writeFileSync(path.join(dir, name), text)
  }
  return dir
}

test('go.mod: module path and the exact release (toolchain line first)', () => {
  assert.deepEqual(readGoMod('module example.com/svc\n\ngo 1.22\n\ntoolchain go1.22.5\n'), {
    module: 'example.com/svc',
    goVersion: '1.22.5',
  })
  assert.deepEqual(readGoMod('module example.com/svc\ngo 1.26.10\n'), {
    module: 'example.com/svc',
    goVersion: '1.26.10',
  })
  assert.deepEqual(readGoMod('module example.com/svc\ngo 1.26\n'), {
    module: 'example.com/svc',
    goVersion: null,
  })
  assert.equal(isMainPackage('// Package main does x\n/* package lib */\npackage main\n'), true)
  assert.equal(isMainPackage('// package main\npackage mainly\n'), false)
})

test('init writes one go build per main package; root main named after the module; nested module, vendor, testdata skipped', async () => {
  const dir = tree({
    'go.mod': 'module github.com/acme/billing/v2\n\ngo 1.26\n\ntoolchain go1.26.10\n',
    'main.go': 'package main\nfunc main() {}\n',
    'cmd/api/main.go': 'package main\nfunc main() {}\n',
    'cmd/api/main_test.go': 'package main\n',
    'cmd/worker/worker.go': '// worker\npackage main\nfunc main() {}\n',
    'internal/db/db.go': 'package db\n',
    'vendor/x/main.go': 'package main\n',
    'testdata/main.go': 'package main\n',
    'tools/go.mod': 'module tools\n',
    'tools/main.go': 'package main\n',
  })
  assert.deepEqual(await findMainPackages(dir), ['', 'cmd/api', 'cmd/worker'])
  const r = await runCli(['-C', dir, 'init', '--json'])
  assert.equal(r.code, 0, r.stderr)
  const config = JSON.parse(readFileSync(path.join(dir, 'detbuild.config.json'), 'utf8'))
  assert.deepEqual(config.toolchain, { go: '1.26.10' })
  assert.deepEqual(config.build, [
    'mkdir -p dist',
    'go build -o dist/billing .',
    'go build -o dist/api ./cmd/api',
    'go build -o dist/worker ./cmd/worker',
  ])
  assert.deepEqual(config.outputs, ['dist/*'])
  // the written config is valid: a build reads it (and stops later, at the missing proxy, not at the config)
  const check = await runCli(['-C', dir, 'build', '--frozen-lock'])
  assert.equal(check.code, 2, check.stderr)
  assert.match(check.stderr, /BUILD_LOCK_MISSING.*golang\.org\/toolchain@v0\.0\.1-go1\.26\.10/)
})

test('init of a Go module without a main package is exit 2 BUILD_GO_NO_MAIN_PACKAGE', async () => {
  const dir = tree({ 'go.mod': 'module example.com/lib\n\ngo 1.26\n', 'lib.go': 'package lib\n' })
  const r = await runCli(['-C', dir, 'init'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /BUILD_GO_NO_MAIN_PACKAGE/)
})

test('a go.mod without an exact release: init pins the go on PATH, else "system"', async () => {
  const files = {
    'go.mod': 'module example.com/hello\n\ngo 1.26\n',
    'main.go': 'package main\nfunc main() {}\n',
  }
  const dir = tree(files)
  const r = await runCli(['-C', dir, 'init'], { PATH: `${path.dirname(GO_BIN)}:${process.env.PATH}` })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /pinned the go on PATH, 1\.26\.10/)
  const config = JSON.parse(readFileSync(path.join(dir, 'detbuild.config.json'), 'utf8'))
  assert.deepEqual(config.toolchain, { go: '1.26.10' })
  assert.deepEqual(config.build, ['mkdir -p dist', 'go build -o dist/hello .'])
  const none = tree(files)
  const r2 = await runCli(['-C', none, 'init'], { PATH: '/nonexistent' })
  assert.equal(r2.code, 0, r2.stderr)
  assert.deepEqual(JSON.parse(readFileSync(path.join(none, 'detbuild.config.json'), 'utf8')).toolchain, {
    go: 'system',
  })
})
