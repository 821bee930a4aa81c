import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import {
  allowEnv,
  DEFAULT_SOURCE_DATE_EPOCH,
  parseSourceDateEpoch,
  resolveCacheRoot,
  resolveContext,
  resolveSourceDate,
} from '../../src/config/index.ts'
import { ExitCode, InputError } from '../../src/errors.ts'
import { gitAt } from '../helpers/git.ts'
import { tempDir } from '../helpers/paths.ts'

const T1 = 1700000000
const T2 = 1700050000
const PATH_ONLY = { PATH: process.env.PATH }

/** A repository whose first commit (T1) makes `pkg/` and whose last (T2) touches only `other/`. */
function monorepo(): string {
  const root = tempDir('detbuild-mono-')
  mkdirSync(path.join(root, 'pkg'))
  mkdirSync(path.join(root, 'other'))
  writeFileSync(path.join(root, 'pkg', 'a.txt'), 'a\n')
  writeFileSync(path.join(root, 'other', 'b.txt'), 'b\n')
  const git = (time: number, ...args: string[]) => gitAt(root, time, ...args)
  git(T1, 'init', '-q')
  git(T1, 'add', '-A')
  git(T1, 'commit', '-qm', 'pkg and other')
  writeFileSync(path.join(root, 'other', 'b.txt'), 'b2\n')
  git(T2, 'commit', '-qam', 'other only')
  return root
}

const invalid = (e: unknown) =>
  e instanceof InputError && e.code === 'CONFIG_SOURCE_DATE_EPOCH_INVALID' && e.exitCode === ExitCode.badInput

test('SOURCE_DATE_EPOCH: digits only, one error code for every bad value (exit 2)', () => {
  assert.equal(parseSourceDateEpoch('1700000000'), 1700000000)
  assert.equal(parseSourceDateEpoch('0'), 0)
  for (const bad of ['yesterday', '-1', '1.5', '1e9', ' 42', '42 ', '0x10', '1234567890123'])
    assert.throws(() => parseSourceDateEpoch(bad), invalid, bad)
})

test('source date: SOURCE_DATE_EPOCH wins over git; a bad value fails before git is asked', async () => {
  const root = monorepo()
  assert.deepEqual(await resolveSourceDate(root, { ...PATH_ONLY, SOURCE_DATE_EPOCH: '42' }), {
    epoch: 42,
    from: 'env',
  })
  await assert.rejects(resolveSourceDate(root, { ...PATH_ONLY, SOURCE_DATE_EPOCH: 'soon' }), invalid)
  // an empty value is unset
  assert.deepEqual(await resolveSourceDate(root, { ...PATH_ONLY, SOURCE_DATE_EPOCH: '' }), {
    epoch: T2,
    from: 'git',
  })
})

test('source date: the last commit touching the project folder, not HEAD (a monorepo package)', async () => {
  const root = monorepo()
  assert.deepEqual(await resolveSourceDate(path.join(root, 'pkg'), PATH_ONLY), { epoch: T1, from: 'git' })
  assert.deepEqual(await resolveSourceDate(path.join(root, 'other'), PATH_ONLY), { epoch: T2, from: 'git' })
  assert.deepEqual(await resolveSourceDate(root, PATH_ONLY), { epoch: T2, from: 'git' })
})

test('source date: a commit touching only what a build never stages (.detbuild/, node_modules/) does not count', async () => {
  const root = monorepo()
  for (const dir of ['.detbuild', 'node_modules/x'])
    mkdirSync(path.join(root, 'pkg', dir), { recursive: true })
  writeFileSync(path.join(root, 'pkg', '.detbuild', 'build.json'), '{}\n')
  writeFileSync(path.join(root, 'pkg', 'node_modules', 'x', 'index.js'), 'x\n')
  const T3 = T2 + 1000
  gitAt(root, T3, 'add', '-A')
  gitAt(root, T3, 'commit', '-qm', 'workspace')
  // the package's sources last changed at T1: a committed workspace does not move its source date
  assert.deepEqual(await resolveSourceDate(path.join(root, 'pkg'), PATH_ONLY), { epoch: T1, from: 'git' })
  // a real change after it does
  writeFileSync(path.join(root, 'pkg', 'a.txt'), 'a2\n')
  gitAt(root, T3 + 5, 'commit', '-qam', 'pkg')
  assert.deepEqual(await resolveSourceDate(path.join(root, 'pkg'), PATH_ONLY), { epoch: T3 + 5, from: 'git' })
})

test('source date: outside git the fixed 1980-01-01 default, never the clock', async () => {
  const dir = tempDir()
  assert.equal(DEFAULT_SOURCE_DATE_EPOCH, 315532800)
  assert.deepEqual(await resolveSourceDate(dir, PATH_ONLY), { epoch: 315532800, from: 'default' })
  // a repository without a commit yet is no different
  execFileSync('git', ['init', '-q'], { cwd: dir, stdio: 'ignore' })
  assert.deepEqual(await resolveSourceDate(dir, PATH_ONLY), { epoch: 315532800, from: 'default' })
})

test('cache root: --cache-dir, else an absolute XDG_CACHE_HOME, else HOME, in one place', () => {
  assert.equal(resolveCacheRoot({ HOME: '/home/u', XDG_CACHE_HOME: '/xdg' }, '/p'), '/xdg/detbuild')
  // a relative XDG_CACHE_HOME is ignored (the XDG spec), HOME is honoured
  assert.equal(resolveCacheRoot({ HOME: '/home/u', XDG_CACHE_HOME: 'rel' }, '/p'), '/home/u/.cache/detbuild')
  assert.equal(resolveCacheRoot({ HOME: '/home/other' }, '/p'), '/home/other/.cache/detbuild')
  assert.equal(resolveCacheRoot({ HOME: '/home/u', XDG_CACHE_HOME: '/xdg' }, '/p', 'c'), '/p/c')
  assert.equal(resolveCacheRoot({}, '/p', '/abs'), '/abs')
})

test('environment allowlist: what the steps read, the config’s names and the caller’s, nothing else', () => {
  const env = allowEnv(
    {
      PATH: '/bin',
      HOME: '/h',
      SOURCE_DATE_EPOCH: '1',
      npm_config_registry: 'r',
      DETBUILD_ROOM: 'none',
      LC_TIME: 'C',
      SIGSTORE_ID_TOKEN: 't',
      AWS_SECRET_ACCESS_KEY: 'no',
      GITHUB_TOKEN: 'no',
      INPUT_KEY: 'no',
      RANDOM_THING: 'no',
      MY_VAR: 'yes',
      MY_PASS: 'yes',
    },
    ['MY_VAR', 'MY_PASS'],
  )
  assert.deepEqual(Object.keys(env).sort(), [
    'DETBUILD_ROOM',
    'HOME',
    'LC_TIME',
    'MY_PASS',
    'MY_VAR',
    'PATH',
    'SIGSTORE_ID_TOKEN',
    'SOURCE_DATE_EPOCH',
    'npm_config_registry',
  ])
  assert.ok(Object.isFrozen(env))
})

test('resolveContext: frozen; the config read once when asked (its env names pass), not otherwise', async () => {
  const root = monorepo()
  const pkg = path.join(root, 'pkg')
  writeFileSync(
    path.join(pkg, 'detbuild.config.json'),
    JSON.stringify({ env: ['FROM_CONFIG'], secretEnv: ['A_TOKEN'] }),
  )
  const host = { ...PATH_ONLY, HOME: '/h', FROM_CONFIG: '1', A_TOKEN: 't', OTHER: 'x' }
  const now = () => new Date(0)
  const ctx = await resolveContext({ cwd: pkg, env: host, readConfig: true, now })
  assert.ok(Object.isFrozen(ctx))
  assert.ok(Object.isFrozen(ctx.sourceDate))
  assert.deepEqual(ctx.sourceDate, { epoch: T1, from: 'git' })
  assert.equal(ctx.cacheRoot, '/h/.cache/detbuild')
  assert.equal(ctx.configFile?.file, 'detbuild.config.json')
  assert.deepEqual(ctx.configFile?.document, { env: ['FROM_CONFIG'], secretEnv: ['A_TOKEN'] })
  assert.equal(ctx.env.FROM_CONFIG, '1')
  assert.equal(ctx.env.A_TOKEN, 't')
  assert.equal(ctx.env.OTHER, undefined)
  assert.equal(ctx.clock, now)

  // without readConfig the file is not read: a broken one is no error for a command that does not need it
  writeFileSync(path.join(pkg, 'detbuild.config.json'), '{ broken')
  const plain = await resolveContext({ cwd: pkg, env: host })
  assert.equal(plain.configFile, null)
  assert.equal(plain.env.FROM_CONFIG, undefined)
  await assert.rejects(
    resolveContext({ cwd: pkg, env: host, readConfig: true }),
    (e: unknown) => e instanceof InputError && e.code === 'CONFIG_INVALID',
  )
  // an explicit config that is missing is an error; none in the folder is "no config"
  await assert.rejects(
    resolveContext({ cwd: root, env: host, readConfig: true, configFile: 'nope.json' }),
    (e: unknown) => e instanceof InputError && e.code === 'CONFIG_MISSING',
  )
  assert.equal((await resolveContext({ cwd: root, env: host, readConfig: true })).configFile, null)
  // the cache root flag is relative to the project
  assert.equal(
    (await resolveContext({ cwd: root, env: host, cacheDir: 'c' })).cacheRoot,
    path.join(root, 'c'),
  )
})
