import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { FIXED_ENV_NAMES } from '../../src/builder/env.ts'
import { COMMIT_TIME, makeProject, removeProject, runCli, TSC_ENV } from './helpers.ts'

const cleanup: string[] = []
after(() => {
  for (const p of cleanup) removeProject(p)
})

function project(fixture: string, options?: Parameters<typeof makeProject>[1]): string {
  const p = makeProject(fixture, options)
  cleanup.push(p)
  return p
}

const read = (p: string, f: string) => readFileSync(path.join(p, '.detbuild', f))
const readJson = (p: string, f: string) => JSON.parse(read(p, f).toString('utf8'))

test('ts-lib: --check is reproducible across two varied runs; a rebuild gives byte-identical outputs', async () => {
  const p = project('ts-lib', { remote: 'https://user:secret@example.test/org/ts-lib.git' })
  const env = { ...TSC_ENV }
  const checked = await runCli(
    ['build', '-C', p, '--config', 'detbuild.offline.json', '--check', '--json'],
    env,
  )
  assert.equal(checked.code, 0, checked.stderr)
  const manifest = readJson(p, 'build.json')
  assert.equal(manifest.schemaVersion, 1)
  assert.deepEqual(manifest.reproducibility, {
    checked: true,
    reproducible: true,
    report: 'repro-report.json',
  })
  assert.equal(manifest.source.repo, 'https://example.test/org/ts-lib.git', 'credentials are stripped')
  assert.match(manifest.source.commit, /^[0-9a-f]{40}$/)
  assert.equal(manifest.source.dirty, false)
  assert.equal(manifest.sourceDateEpoch, COMMIT_TIME)
  assert.equal(manifest.lockfile.file, 'package-lock.json')
  assert.deepEqual(manifest.env, ['DETBUILD_TSC'])
  assert.deepEqual(manifest.commands, {
    install: [],
    build: ['node "$DETBUILD_TSC" -p tsconfig.json', 'npm pack --pack-destination dist'],
  })
  assert.equal(manifest.toolchain.node.pinned, false)
  assert.match(manifest.toolchain.node.sha256, /^[0-9a-f]{64}$/)
  assert.equal(manifest.outputs.length, 1)
  const out = manifest.outputs[0]
  assert.equal(out.path, 'artifacts/ts-lib-fixture-1.0.0.tgz')
  assert.equal(out.size, read(p, out.path).length)
  assert.match(out.integrity, /^sha512-/)
  const report = readJson(p, 'repro-report.json')
  assert.equal(report.reproducible, true)
  assert.ok(
    report.variations.some((v: { name: string; applied: boolean }) => v.name === 'umask' && v.applied),
  )
  assert.ok(read(p, 'repro-report.md').toString().includes('**Reproducible**'))
  assert.equal(JSON.parse(checked.stdout).build.outputs[0].sha256, out.sha256)

  // the artifact's mtime is SOURCE_DATE_EPOCH
  const { statSync } = await import('node:fs')
  assert.equal(Math.floor(statSync(path.join(p, '.detbuild', out.path)).mtimeMs / 1000), COMMIT_TIME)

  // run twice, compare bytes: artifact, build.json minus the check fields, provenance
  const firstArtifact = read(p, out.path)
  const firstProvenance = readJson(p, 'provenance.intoto.json')
  const again = await runCli(['build', '-C', p, '--config', 'detbuild.offline.json'], env)
  assert.equal(again.code, 0, again.stderr)
  assert.deepEqual(read(p, out.path), firstArtifact)
  const second = readJson(p, 'build.json')
  assert.deepEqual({ ...second, reproducibility: null }, { ...manifest, reproducibility: null })
  const provenance = readJson(p, 'provenance.intoto.json')
  provenance.predicate.buildDefinition.externalParameters.check = true
  assert.deepEqual(provenance, firstProvenance)
  const third = await runCli(['build', '-C', p, '--config', 'detbuild.offline.json'], env)
  assert.equal(third.code, 0)
  assert.deepEqual(read(p, 'build.json'), Buffer.from(JSON.stringify(second, null, 2) + '\n'))
})

test('unreproducible fixture: --check exits 1 and the report points at the embedded time and path', async () => {
  const p = project('unreproducible')
  const run = await runCli(['build', '-C', p, '--check', '--json'])
  assert.equal(run.code, 1, run.stderr)
  assert.equal(JSON.parse(run.stdout).code, 'BUILD_NOT_REPRODUCIBLE')
  const report = readJson(p, 'repro-report.json')
  assert.equal(report.reproducible, false)
  const tgz = report.outputs.find((o: { name: string }) => o.name === 'unreproducible-fixture-1.0.0.tgz')
  assert.equal(tgz.status, 'differs')
  const entry = tgz.entries.find((e: { path: string }) => e.path === 'package/dist/build-info.js')
  assert.equal(entry.change, 'bytes')
  assert.match(entry.diff, /^-export const builtAt = /m)
  // in the build room the path is /build/src in both runs: the path leak cannot differ, only the time
  assert.match(entry.diff, /^ export const builtIn = "\/build\/src"$/m)
  assert.doesNotMatch(entry.diff, /^[-+]export const builtIn/m)
  // metadata was normalized away, so only bytes differ; package.json is identical
  assert.ok(!tgz.entries.some((e: { path: string }) => e.path === 'package/package.json'))
  const stamp = report.outputs.find((o: { name: string }) => o.name === 'stamp.txt')
  assert.equal(stamp.status, 'differs')
  assert.match(stamp.diff, /^-built /m)
  const md = read(p, 'repro-report.md').toString()
  assert.match(md, /Not reproducible/)
  assert.match(md, /package\/dist\/build-info\.js/)
  assert.match(md, /```diff/)
  const manifest = readJson(p, 'build.json')
  assert.deepEqual(manifest.reproducibility, {
    checked: true,
    reproducible: false,
    report: 'repro-report.json',
  })
})

function writeEnvDumpProject(p: string): void {
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: [
        'mkdir -p out && env | sort > out/env.txt',
        'umask > out/umask.txt && ls -A "$HOME" | wc -l > out/home.txt',
        'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " " > out/net.txt',
      ],
      outputs: ['out/*.txt'],
      env: ['ALLOWED_VAR', 'UNSET_VAR'],
    }),
  )
}

test('the build environment is scrubbed to the allowlist, with a fresh HOME, umask 022 and no network', async () => {
  const p = project('unreproducible', { git: false })
  writeEnvDumpProject(p)
  const run = await runCli(['build', '-C', p], {
    ALLOWED_VAR: 'kept',
    SECRET_TOKEN: 'must-not-leak',
    TZ: 'America/New_York',
    LANG: 'de_DE.UTF-8',
    SOURCE_DATE_EPOCH: '1234567890',
    npm_config_registry: 'http://127.0.0.1:9/',
  })
  assert.equal(run.code, 0, run.stderr)
  const dump = read(p, 'artifacts/env.txt').toString('utf8')
  const vars = new Map(
    dump
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
  )
  const shellOwn = new Set(['PWD', 'OLDPWD', 'SHLVL', '_'])
  const names = [...vars.keys()].filter((n) => !shellOwn.has(n)).sort()
  assert.deepEqual(names, [...FIXED_ENV_NAMES, 'ALLOWED_VAR'].sort())
  assert.equal(vars.get('ALLOWED_VAR'), 'kept')
  assert.ok(!dump.includes('must-not-leak'))
  assert.equal(vars.get('TZ'), 'UTC')
  assert.equal(vars.get('LC_ALL'), 'C.UTF-8')
  assert.equal(vars.get('LANG'), 'C.UTF-8')
  assert.equal(vars.get('SOURCE_DATE_EPOCH'), '1234567890')
  assert.equal(vars.get('npm_config_offline'), 'true')
  assert.equal(read(p, 'artifacts/umask.txt').toString().trim(), '0022')
  assert.equal(read(p, 'artifacts/home.txt').toString().trim(), '0')
  const manifest = readJson(p, 'build.json')
  assert.equal(manifest.source.kind, 'files')
  assert.equal(manifest.source.commit, null)
  assert.equal(manifest.sourceDateEpoch, 1234567890)
  assert.equal(manifest.sourceDateEpochFrom, 'env')
  // build.json records what really happened: with a network namespace only the loopback interface exists
  const interfaces = read(p, 'artifacts/net.txt').toString().trim().split('\n')
  // (this machine and CI can make the room: test/builder/room.test.ts proves what it holds)
  assert.equal(manifest.isolation.network, 'none')
  assert.equal(manifest.isolation.sealed, true)
  assert.deepEqual(interfaces, ['lo'])
})

test('network: allow is recorded as allowed: the host network in a sealed room', async () => {
  const p = project('unreproducible', { git: false })
  writeEnvDumpProject(p)
  const cfg = JSON.parse(readFileSync(path.join(p, 'detbuild.config.json'), 'utf8'))
  writeFileSync(path.join(p, 'detbuild.config.json'), JSON.stringify({ ...cfg, network: 'allow' }))
  const run = await runCli(['build', '-C', p])
  assert.equal(run.code, 0, run.stderr)
  const isolation = readJson(p, 'build.json').isolation
  assert.deepEqual(
    { ...isolation, mechanism: null },
    {
      requested: 'allow',
      network: 'allowed',
      mechanism: null,
      sealed: true,
      pidNamespace: true,
      extraMounts: [],
      note: isolation.note,
    },
  )
  assert.ok(['bwrap', 'unshare'].includes(isolation.mechanism))
  assert.equal(readJson(p, 'build.json').sourceDateEpochFrom, 'default')
})

test('a failing command → exit 1 BUILD_COMMAND_FAILED, build.log kept; no outputs → BUILD_NO_OUTPUTS', async () => {
  const p = project('unreproducible', { git: false })
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['echo failing-step && exit 3'],
      outputs: ['x'],
    }),
  )
  const run = await runCli(['build', '-C', p, '--json'])
  assert.equal(run.code, 1)
  const err = JSON.parse(run.stdout).error
  assert.equal(err.code, 'BUILD_COMMAND_FAILED')
  assert.equal(err.details.exitCode, 3)
  assert.match(read(p, 'build.log').toString(), /failing-step/)
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['true'],
      outputs: ['nothing/*.tgz'],
    }),
  )
  const none = await runCli(['build', '-C', p, '--json'])
  assert.equal(none.code, 1)
  assert.equal(JSON.parse(none.stdout).error.code, 'BUILD_NO_OUTPUTS')
})

test('only git-tracked files are staged; a dirty worktree is recorded', async () => {
  const p = project('unreproducible')
  writeFileSync(path.join(p, 'untracked.txt'), 'not staged\n')
  writeFileSync(path.join(p, 'build.js'), `${readFileSync(path.join(p, 'build.js'), 'utf8')}\n// edited\n`)
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['mkdir -p o && ls -A > o/files.txt'],
      outputs: ['o/*'],
    }),
  )
  const run = await runCli(['build', '-C', p])
  assert.equal(run.code, 0, run.stderr)
  const files = read(p, 'artifacts/files.txt').toString().trim().split('\n')
  assert.ok(!files.includes('untracked.txt'))
  assert.ok(files.includes('build.js'))
  const manifest = readJson(p, 'build.json')
  assert.equal(manifest.source.dirty, true)
})
