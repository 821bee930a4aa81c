import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { resolveBuildConfig, toKeyPath } from '../../src/config/build-config.ts'
import { loadBuildConfig, loadConfigValidator } from '../../src/config/load-build-config.ts'
import { runCli } from './helpers.ts'

const valid = {
  toolchain: { node: '24.21.0' },
  build: 'npm run build',
  outputs: ['dist/*.tgz'],
}

async function withConfig(name: string, text: string, fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-config-'))
  try {
    writeFileSync(path.join(dir, name), text)
    await fn(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

test('defaults: npm ci --ignore-scripts, network deny, scripts off, system npm', async () => {
  const config = resolveBuildConfig(valid, 'detbuild.config.json', await loadConfigValidator())
  assert.deepEqual(config.install, ['npm ci --ignore-scripts'])
  assert.deepEqual(config.build, ['npm run build'])
  assert.equal(config.network, 'deny')
  assert.equal(config.scripts, false)
  assert.deepEqual(config.toolchain.node, { kind: 'version', version: '24.21.0' })
  assert.deepEqual(config.toolchain.npm, { kind: 'system' })
  assert.ok(Object.isFrozen(config))
  const withScripts = resolveBuildConfig({ ...valid, scripts: true }, 'x', await loadConfigValidator())
  assert.deepEqual(withScripts.install, ['npm ci'])
})

test('toKeyPath turns JSON pointers into dotted keys', () => {
  assert.equal(toKeyPath('/toolchain/node'), 'toolchain.node')
  assert.equal(toKeyPath('/outputs/1'), 'outputs[1]')
  assert.equal(toKeyPath('', 'build'), 'build')
})

const badConfigs: Array<[string, unknown, string]> = [
  ['unknown key', { ...valid, netwrok: 'deny' }, 'netwrok'],
  ['missing build', { toolchain: valid.toolchain, outputs: valid.outputs }, 'build'],
  ['missing toolchain.node', { ...valid, toolchain: {} }, 'toolchain.node'],
  ['range instead of exact version', { ...valid, toolchain: { node: '^24' } }, 'toolchain.node'],
  ['bad npm pin', { ...valid, toolchain: { node: 'system', npm: 'latest' } }, 'toolchain.npm'],
  ['bad network', { ...valid, network: 'off' }, 'network'],
  ['empty outputs', { ...valid, outputs: [] }, 'outputs'],
  ['absolute output', { ...valid, outputs: ['/etc/passwd'] }, 'outputs[0]'],
  ['bad env name', { ...valid, env: ['NOT-A-NAME'] }, 'env[0]'],
  ['build not a command', { ...valid, build: 42 }, 'build'],
  ['install array with a number', { ...valid, install: ['npm ci', 3] }, 'install'],
  ['scripts not boolean', { ...valid, scripts: 'yes' }, 'scripts'],
]

for (const [name, doc, key] of badConfigs) {
  test(`bad config (${name}) → exit 2, CONFIG_INVALID naming ${key}`, async () => {
    await withConfig('detbuild.config.json', JSON.stringify(doc), async (dir) => {
      await assert.rejects(
        loadBuildConfig(dir),
        (e: { code: string; exitCode: number; details: { key: string } }) => {
          assert.equal(e.code, 'CONFIG_INVALID')
          assert.equal(e.exitCode, 2)
          assert.equal(e.details.key, key)
          return true
        },
      )
      const run = await runCli(['build', '-C', dir, '--json'])
      assert.equal(run.code, 2)
      const err = JSON.parse(run.stdout).error
      assert.equal(err.code, 'CONFIG_INVALID')
      assert.equal(err.details.key, key)
      assert.equal(err.file, 'detbuild.config.json')
    })
  })
}

test('invalid JSON and invalid YAML name the file and exit 2', async () => {
  await withConfig('detbuild.config.json', '{ "toolchain": ', async (dir) => {
    const run = await runCli(['build', '-C', dir])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /CONFIG_INVALID.*detbuild\.config\.json/)
  })
  await withConfig('detbuild.config.yaml', 'toolchain: [unclosed\n', async (dir) => {
    const run = await runCli(['build', '-C', dir])
    assert.equal(run.code, 2)
    assert.match(run.stderr, /CONFIG_INVALID/)
  })
})

test('a YAML config is read and validated like JSON', async () => {
  await withConfig(
    'detbuild.config.yaml',
    'toolchain:\n  node: system\nbuild:\n  - make\noutputs: [dist/*.zip]\nnetwork: allow\n',
    async (dir) => {
      const loaded = await loadBuildConfig(dir)
      assert.equal(loaded.file, 'detbuild.config.yaml')
      assert.equal(loaded.config.network, 'allow')
      assert.deepEqual(loaded.config.build, ['make'])
    },
  )
})

test('a missing config → exit 2 CONFIG_MISSING', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-config-'))
  try {
    const run = await runCli(['build', '-C', dir, '--json'])
    assert.equal(run.code, 2)
    assert.equal(JSON.parse(run.stdout).error.code, 'CONFIG_MISSING')
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a bad SOURCE_DATE_EPOCH → exit 2', async () => {
  await withConfig('detbuild.config.json', JSON.stringify(valid), async (dir) => {
    const run = await runCli(['build', '-C', dir, '--json'], { SOURCE_DATE_EPOCH: 'yesterday' })
    assert.equal(run.code, 2)
    assert.equal(JSON.parse(run.stdout).error.code, 'CONFIG_SOURCE_DATE_EPOCH_INVALID')
  })
})
