/** `toolchain.go` in the build config: defaults of a Go build, the version's shape, the record, the lock's Go pins. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatLock, parseLock } from '../../src/builder/lockfile.ts'
import { resolveBuildConfig, toConfigRecord } from '../../src/config/build-config.ts'
import { loadConfigValidator } from '../../src/config/load-build-config.ts'
import { InputError } from '../../src/errors.ts'

const go = { toolchain: { go: '1.26.10' }, build: 'go build -o dist/x .', outputs: ['dist/*'] }

test('a Go config: node defaults to system, no install step, the go pin recorded', async () => {
  const config = resolveBuildConfig(go, 'detbuild.config.json', await loadConfigValidator())
  assert.deepEqual(config.toolchain.go, { kind: 'version', version: '1.26.10' })
  assert.deepEqual(config.toolchain.node, { kind: 'system' })
  assert.deepEqual(config.install, [])
  assert.deepEqual(toConfigRecord(config).toolchain, { node: 'system', npm: 'system', go: '1.26.10' })
  const system = resolveBuildConfig({ ...go, toolchain: { go: 'system' } }, 'x', await loadConfigValidator())
  assert.deepEqual(system.toolchain.go, { kind: 'system' })
  for (const v of ['1.21rc2', '1.22'])
    assert.ok(resolveBuildConfig({ ...go, toolchain: { go: v } }, 'x', await loadConfigValidator()))
  // an npm config is unchanged: no go key recorded
  const npm = resolveBuildConfig({ ...go, toolchain: { node: '24.21.0' } }, 'x', await loadConfigValidator())
  assert.equal(npm.toolchain.go, null)
  assert.equal('go' in (toConfigRecord(npm).toolchain as object), false)
})

test('a bad Go version, or a toolchain with neither node nor go, is CONFIG_INVALID naming the key', async () => {
  const validate = await loadConfigValidator()
  assert.throws(
    () => resolveBuildConfig({ ...go, toolchain: { go: 'go1.26.10' } }, 'detbuild.config.json', validate),
    (e: unknown) =>
      e instanceof InputError &&
      e.code === 'CONFIG_INVALID' &&
      /toolchain\.go.*a Go release like "1\.26\.10"/.test(e.message),
  )
  assert.throws(
    () => resolveBuildConfig({ ...go, toolchain: {} }, 'detbuild.config.json', validate),
    (e: unknown) =>
      e instanceof InputError && e.code === 'CONFIG_INVALID' && /toolchain\.(node|go)/.test(e.message),
  )
})

test('detbuild.lock: Go toolchain pins are parsed and written; a bad one is BUILD_LOCK_INVALID', () => {
  const key = 'golang.org/toolchain@v0.0.1-go1.26.10.linux-amd64'
  const h1 = 'h1:vV+1eWNmZ5geRlYjzm2adRgW2/mcpevXNg50YZtPCE4='
  const lock = parseLock(
    JSON.stringify({ lockfileVersion: 1, packages: {}, goToolchains: { [key]: { h1, resolved: 'u' } } }),
  )
  assert.deepEqual(lock.goToolchains, { [key]: { h1, resolved: 'u' } })
  assert.deepEqual(parseLock(formatLock(lock)), lock)
  // an npm-only lock keeps its bytes (no empty goToolchains)
  assert.equal(
    formatLock({ lockfileVersion: 1, packages: {}, goToolchains: {} }).includes('goToolchains'),
    false,
  )
  for (const bad of [
    { [key]: { h1: 'sha256-x', resolved: 'u' } },
    { 'golang.org/toolchain@latest': { h1, resolved: 'u' } },
  ])
    assert.throws(
      () => parseLock(JSON.stringify({ lockfileVersion: 1, packages: {}, goToolchains: bad })),
      (e: unknown) => e instanceof InputError && e.code === 'BUILD_LOCK_INVALID',
    )
})
