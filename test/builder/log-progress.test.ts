/** build.log is streamed while the commands run and lands atomically; the build's progress lines. */
import assert from 'node:assert/strict'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { openBuildLog } from '../../src/builder/build-log.ts'
import { hasCachedContent } from '../../src/builder/prefetch.ts'
import { BUILD_STEPS, createStepTracker, toBuildSteps } from '../../src/builder/steps.ts'
import { cachedToolDigest, readNpmVersion } from '../../src/builder/tool-digest.ts'
import { InputError } from '../../src/errors.ts'
import { createLogger } from '../../src/util/log.ts'
import { createPlainProgress } from '../../src/util/progress.ts'
import { makeProject, removeProject, runCli } from './helpers.ts'

const cleanup: (() => void)[] = []
after(() => {
  for (const c of cleanup) c()
})

function project(): string {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(() => removeProject(p))
  return p
}

function tmpDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'detbuild-test-'))
  cleanup.push(() => rmSync(d, { recursive: true, force: true }))
  return d
}

function writeConfig(p: string, build: string[], extra: Record<string, unknown> = {}): void {
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build,
      outputs: ['o/*'],
      env: ['DETBUILD_TEST_OUT'],
      ...extra,
    }),
  )
}

const outDir = (p: string) => path.join(p, '.detbuild')
const buildLog = (p: string) => readFileSync(path.join(outDir(p), 'build.log'), 'utf8')
const leftovers = (p: string) => readdirSync(outDir(p)).filter((f) => f.endsWith('.tmp'))

/** Each `[i/n] step` line of plain progress, in the order printed. */
const progressLines = (stderr: string) => stderr.split('\n').filter((l) => /^\[\d+\/\d+\] /.test(l))

test('build.log streams each command output in order while the build runs, then lands atomically', async () => {
  const p = project()
  writeConfig(p, [
    'echo first-command-output',
    // the second command sees the first one's output already in the (temporary) log
    'grep -q first-command-output "$DETBUILD_TEST_OUT"/.build.log.*.tmp && echo streamed-while-running',
    'echo to-stderr >&2; mkdir -p o && echo artifact > o/a.txt',
  ])
  // the build room shows the host's out folder to the build only through a read-only mount
  const env = { DETBUILD_TEST_OUT: outDir(p), DETBUILD_ROOM_MOUNTS: outDir(p) }
  const run = await runCli(['build', '-C', p], env)
  assert.equal(run.code, 0, run.stderr)
  const log = buildLog(p)
  const order = [
    '# build: first run',
    '$ echo first-command-output',
    'first-command-output',
    '$ grep -q first-command-output',
    'streamed-while-running',
    '$ echo to-stderr',
    'to-stderr',
    '# build: 3 commands',
    '# outputs: 1 output: a.txt',
    '# attest: ',
  ].map((needle) => log.indexOf(needle))
  assert.ok(
    order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] as number))),
    `in order: ${order}`,
  )
  assert.deepEqual(leftovers(p), [])
  assert.equal(statSync(path.join(outDir(p), 'build.log')).mode & 0o777, 0o644)
  // no timestamps, no temporary paths: a rebuild writes the same bytes
  const again = await runCli(['build', '-C', p], env)
  assert.equal(again.code, 0, again.stderr)
  assert.equal(buildLog(p), log)
  assert.ok(!log.includes(os.tmpdir()), 'no staging paths in the log')
})

test('a failing build still leaves its whole build.log in place (and no temporary file)', async () => {
  const p = project()
  writeConfig(p, ['echo before-the-failure', 'echo failing-output && exit 4', 'echo never-run'])
  const run = await runCli(['build', '-C', p, '--json'])
  assert.equal(run.code, 1)
  assert.equal(JSON.parse(run.stdout).error.code, 'BUILD_COMMAND_FAILED')
  const log = buildLog(p)
  assert.ok(log.indexOf('before-the-failure') < log.indexOf('failing-output'))
  assert.match(log, /^# build: FAILED: build command "echo failing-output && exit 4" exited with 4/m)
  assert.ok(!log.includes('never-run\n'))
  assert.deepEqual(leftovers(p), [])

  // a failure before any command (a bad toolchain) also closes the log into place
  writeConfig(p, ['true'], { toolchain: { node: 'system' } })
  const noNode = await runCli(['build', '-C', p, '--json'], { PATH: '/nonexistent' })
  assert.equal(noNode.code, 2)
  assert.match(buildLog(p), /^# toolchain: FAILED: /m)
  assert.deepEqual(leftovers(p), [])
})

test('plain progress: one line per step start and end, in step order, no timestamps; --quiet hides it', async () => {
  const p = project()
  writeConfig(p, ['mkdir -p o && echo artifact > o/a.txt'])
  const run = await runCli(['build', '-C', p], { CI: 'true' })
  assert.equal(run.code, 0, run.stderr)
  const lines = progressLines(run.stderr)
  const steps = toBuildSteps(false)
  assert.equal(steps.length, 8)
  // every step starts once and ends once, each end after its start, ends in list order
  for (const [i, step] of steps.entries()) {
    const start = lines.indexOf(`[${i + 1}/8] ${step}`)
    const end = lines.findIndex((l) => l.startsWith(`[${i + 1}/8] ${step}: `))
    assert.ok(start >= 0 && end > start, `${step}: start ${start}, end ${end}`)
  }
  const ends = lines.filter((l) => l.includes(': '))
  assert.deepEqual(
    ends.map((l) => l.slice(0, l.indexOf(':'))),
    steps.map((s, i) => `[${i + 1}/8] ${s}`),
  )
  assert.ok(ends.includes('[5/8] install: skip: no install command'))
  assert.ok(ends.includes('[6/8] build: ok: 1 command'))
  assert.ok(!/\d\d:\d\d|\d+(\.\d+)?s\b/.test(lines.join('\n')), 'no clock times or durations')
  assert.ok(!run.stderr.includes('\u001b['), 'no escape codes when not a TTY')

  // a failing step is marked FAIL; later steps print nothing
  writeConfig(p, ['exit 5'])
  const failed = await runCli(['build', '-C', p], { CI: 'true' })
  assert.equal(failed.code, 1)
  const failLines = progressLines(failed.stderr)
  assert.ok(failLines.some((l) => l.startsWith('[6/8] build: FAIL: build command "exit 5" exited with 5')))
  assert.ok(!failLines.some((l) => l.includes('outputs')))

  // --check: the second run is the check step; a difference marks it FAIL (exit 1), attest still runs
  // ($PWD no longer differs: the build room's working folder is /build/src in both runs)
  writeConfig(p, ['mkdir -p o && umask > o/umask.txt'])
  const check = await runCli(['build', '-C', p, '--check'], { CI: 'true' })
  assert.equal(check.code, 1)
  const checkLines = progressLines(check.stderr)
  assert.ok(
    checkLines.some((l) =>
      /^\[8\/9\] check: FAIL: NOT reproducible under \d+ variations: umask\.txt differ$/.test(l),
    ),
    checkLines.join('\n'),
  )
  assert.ok(checkLines.some((l) => l.startsWith('[9/9] attest: ok: ')))
  assert.match(buildLog(p), /^# check: second run under varied conditions$/m)

  // --quiet: no progress (the error line still comes)
  writeConfig(p, ['exit 5'])
  const quiet = await runCli(['build', '-C', p, '--quiet'], { CI: 'true' })
  assert.equal(quiet.code, 1)
  assert.deepEqual(progressLines(quiet.stderr), [])
  assert.match(quiet.stderr, /BUILD_COMMAND_FAILED/)
})

test('--check adds the check step; concurrent steps are reported in list order', async () => {
  assert.deepEqual(toBuildSteps(true), [...BUILD_STEPS])
  const lines: string[] = []
  const written: string[] = []
  const tracker = createStepTracker(
    toBuildSteps(true),
    createPlainProgress((l) => lines.push(l)),
    createLogger({ write: () => {} }),
    (t) => written.push(t),
  )
  tracker.start('toolchain')
  tracker.start('isolation')
  // isolation finishes first, toolchain fails: both reported in list order, the failure thrown
  const results = await Promise.allSettled([
    new Promise<string>((_, reject) =>
      setTimeout(() => reject(new InputError('BUILD_TOOLCHAIN_NOT_FOUND', 'no toolchain')), 5),
    ),
    Promise.resolve('probe'),
  ])
  assert.throws(
    () =>
      tracker.settle<[string, string]>([
        ['toolchain', results[0], (v) => ({ detail: v })],
        ['isolation', results[1], (v) => ({ detail: v })],
      ]),
    { code: 'BUILD_TOOLCHAIN_NOT_FOUND' },
  )
  assert.deepEqual(lines, [
    '[1/9] toolchain',
    '[2/9] isolation',
    '[1/9] toolchain: FAIL: no toolchain',
    '[2/9] isolation: ok: probe',
  ])
  assert.deepEqual(written, ['# toolchain: FAILED: no toolchain\n', '# isolation: probe\n'])
})

test('openBuildLog: flush puts written text on disk; close renames it into place once', async () => {
  const dir = tmpDir()
  const file = path.join(dir, 'nested', 'build.log')
  const log = await openBuildLog(file)
  log.write('one\n')
  await log.flush()
  const [tmp] = readdirSync(path.dirname(file))
  assert.match(tmp as string, /^\.build\.log\..*\.tmp$/)
  assert.equal(readFileSync(path.join(path.dirname(file), tmp as string), 'utf8'), 'one\n')
  log.write('two\n')
  await log.close()
  await log.close()
  log.write('ignored after close\n')
  assert.deepEqual(readdirSync(path.dirname(file)), ['build.log'])
  assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n')
})

test('the toolchain digest is remembered per file identity and recomputed when the file changes', async () => {
  const dir = tmpDir()
  const bin = path.join(dir, 'tool')
  const record = path.join(dir, 'cache', 'tool.json')
  writeFileSync(bin, 'version one')
  let asked = 0
  const version = async () => `v${++asked}`
  const first = await cachedToolDigest(bin, record, version)
  assert.match(first.sha256, /^[0-9a-f]{64}$/)
  assert.equal(first.version, 'v1')
  assert.deepEqual(await cachedToolDigest(bin, record, version), first, 'served from the record')
  assert.equal(asked, 1)
  // new content (the size, ctime and mtime move), so it is hashed again
  writeFileSync(bin, 'version two, longer')
  const second = await cachedToolDigest(bin, record, version)
  assert.notEqual(second.sha256, first.sha256)
  assert.equal(second.version, 'v2')
  // a damaged record is ignored
  writeFileSync(record, '{not json')
  assert.equal((await cachedToolDigest(bin, record)).sha256, second.sha256)
})

test('npm version from its package.json behind the bin symlink; cached content by integrity', async () => {
  const dir = tmpDir()
  const pkg = path.join(dir, 'lib', 'node_modules', 'npm')
  mkdirSync(path.join(pkg, 'bin'), { recursive: true })
  mkdirSync(path.join(dir, 'bin'))
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: 'npm', version: '10.9.8' }))
  writeFileSync(path.join(pkg, 'bin', 'npm-cli.js'), '')
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(dir, 'bin', 'npm'))
  assert.equal(await readNpmVersion(path.join(dir, 'bin', 'npm')), '10.9.8')
  writeFileSync(path.join(dir, 'bin', 'wrapper'), '#!/bin/sh\n')
  assert.equal(await readNpmVersion(path.join(dir, 'bin', 'wrapper')), null)
  assert.equal(await readNpmVersion(path.join(dir, 'missing')), null)

  const integrity = 'sha512-3q2+7w=='
  const cache = path.join(dir, '_cacache')
  assert.equal(await hasCachedContent(cache, integrity), false)
  const hex = Buffer.from('3q2+7w==', 'base64').toString('hex')
  mkdirSync(path.join(cache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4)), { recursive: true })
  writeFileSync(path.join(cache, 'content-v2', 'sha512', hex.slice(0, 2), hex.slice(2, 4), hex.slice(4)), '')
  assert.equal(await hasCachedContent(cache, integrity), true)
})
