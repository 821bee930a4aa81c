import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { runCli } from '../builder/helpers.ts'
import { gitAt } from '../helpers/git.ts'
import { tempDir } from '../helpers/paths.ts'

const T1 = 1700000000
const T2 = 1700050000
const cleanup: string[] = []
after(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true })
})

/** A monorepo: `pkg/` (a tiny npm package with a build) committed at T1, then a commit at T2 touching only `other/`. */
function monorepo(): { root: string; pkg: string } {
  const root = tempDir('detbuild-mono-')
  cleanup.push(root)
  const pkg = path.join(root, 'pkg')
  mkdirSync(pkg)
  mkdirSync(path.join(root, 'other'))
  const manifest = { name: 'mono-pkg', version: '1.0.0', license: 'MIT' }
  writeFileSync(path.join(pkg, 'package.json'), JSON.stringify(manifest))
  writeFileSync(
    path.join(pkg, 'package-lock.json'),
    JSON.stringify({ ...manifest, lockfileVersion: 3, requires: true, packages: { '': manifest } }),
  )
  writeFileSync(
    path.join(pkg, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: [`node -e "require('fs').mkdirSync('dist');require('fs').writeFileSync('dist/out.txt','x')"`],
      outputs: ['dist/*.txt'],
      network: 'deny',
    }),
  )
  writeFileSync(path.join(root, 'other', 'b.txt'), 'b\n')
  const git = (time: number, ...args: string[]) => gitAt(root, time, ...args)
  git(T1, 'init', '-q')
  git(T1, 'add', '-A')
  git(T1, 'commit', '-qm', 'pkg')
  writeFileSync(path.join(root, 'other', 'b.txt'), 'b2\n')
  git(T2, 'commit', '-qam', 'other only')
  return { root, pkg }
}

const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'))

test('a monorepo package: standalone build, sbom and scan stamp the same source date (its folder’s last commit)', async () => {
  const { pkg } = monorepo()
  const ws = path.join(pkg, '.detbuild')
  const build = await runCli(['build', '-C', pkg, '--json'])
  assert.equal(build.code, 0, build.stderr)
  const manifest = readJson(path.join(ws, 'build.json'))
  // not HEAD's time (T2): the last commit touching pkg/
  assert.equal(manifest.sourceDateEpoch, T1)
  assert.equal(manifest.sourceDateEpochFrom, 'commit')

  const sbom = await runCli(['sbom', '-C', pkg, '--json'])
  assert.equal(sbom.code, 0, sbom.stderr)
  assert.deepEqual(JSON.parse(sbom.stdout).sourceDateEpoch, { value: T1, from: 'git' })
  const iso = new Date(T1 * 1000).toISOString().replace(/\.000Z$/, 'Z')
  assert.equal(readJson(path.join(ws, 'sbom.cdx.json')).metadata.timestamp.replace(/\.000Z$/, 'Z'), iso)

  // the scan's time is the same source date, not the clock (vulns.json and vulns.intoto.json)
  mkdirSync(path.join(pkg, 'db'))
  const scan = await runCli(['scan', '-C', pkg, '--offline-db', 'db', '--json'])
  assert.equal(scan.code, 0, scan.stderr)
  const statement = readJson(path.join(ws, 'vulns.intoto.json'))
  assert.equal(statement.predicate.metadata.scanStartedOn, new Date(T1 * 1000).toISOString())
})

test('outside git without SOURCE_DATE_EPOCH: sbom and scan stamp the fixed 1980-01-01, not the clock', async () => {
  const { pkg } = monorepo()
  rmSync(path.join(path.dirname(pkg), '.git'), { recursive: true, force: true })
  const ws = path.join(pkg, '.detbuild')
  const sbom = await runCli(['sbom', '-C', pkg, '--json'])
  assert.equal(sbom.code, 0, sbom.stderr)
  assert.deepEqual(JSON.parse(sbom.stdout).sourceDateEpoch, { value: 315532800, from: 'fallback' })
  mkdirSync(path.join(pkg, 'db'))
  const scan = await runCli(['scan', '-C', pkg, '--offline-db', 'db'])
  assert.equal(scan.code, 0, scan.stderr)
  const statement = readFileSync(path.join(ws, 'vulns.intoto.json'), 'utf8')
  assert.match(statement, /1980-01-01T00:00:00\.000Z/)
  assert.doesNotMatch(statement, new RegExp(String(new Date().getUTCFullYear())))
})

test('a bad SOURCE_DATE_EPOCH is the same error (exit 2, CONFIG_SOURCE_DATE_EPOCH_INVALID) for every command', async () => {
  const { pkg } = monorepo()
  mkdirSync(path.join(pkg, 'db'))
  for (const argv of [['build'], ['sbom'], ['scan', '--offline-db', 'db'], ['run', '--steps', 'sbom']]) {
    const r = await runCli([argv[0]!, '-C', pkg, '--json', ...argv.slice(1)], {
      SOURCE_DATE_EPOCH: 'yesterday',
    })
    assert.equal(r.code, 2, `${argv[0]}: ${r.stderr}`)
    assert.equal(JSON.parse(r.stdout).error.code, 'CONFIG_SOURCE_DATE_EPOCH_INVALID', argv[0])
  }
})
