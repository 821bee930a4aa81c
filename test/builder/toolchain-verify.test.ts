/**
 * A cached toolchain is re-verified before use: a file changed, added or removed since its verified
 * extraction makes it refused and extracted again (from the content-addressed tarball, or the
 * registry); when neither is possible the build stops and the changed tree is gone, never run.
 */
import assert from 'node:assert/strict'
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import ssri from 'ssri'
import { ensurePackage } from '../../src/builder/toolchain.ts'
import { type FakeRegistry, startRegistry } from '../helpers/npm-registry.ts'
import { makeProject, runCli } from './helpers.ts'

const NODE_SCRIPT = `#!/bin/sh\nif [ "$1" = "--version" ]; then echo v99.0.0; exit 0; fi\nexec "${process.execPath}" "$@"\n`
const NAME = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}`

let reg: FakeRegistry
const cleanup: string[] = []

before(async () => {
  reg = await startRegistry([
    { name: NAME, version: '99.0.0', files: { 'bin/node': NODE_SCRIPT, 'lib/x.js': 'x\n' } },
  ])
})

after(async () => {
  await reg.close()
  for (const d of cleanup) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(path.join(os.tmpdir(), 'detbuild-tcv-'))
  cleanup.push(d)
  return d
}

const spec = `${NAME}@99.0.0`
const entry = () => ({
  integrity: ssri.fromData(reg.tarballs.get(spec) as Buffer, { algorithms: ['sha512'] }).toString(),
  resolved: reg.tarballUrl(spec),
})

for (const [what, tamper] of [
  [
    'bin/node rewritten in place',
    (dir: string) => writeFileSync(path.join(dir, 'bin', 'node'), '#!/bin/sh\necho evil\n'),
  ],
  ['a byte appended to a file', (dir: string) => appendFileSync(path.join(dir, 'lib', 'x.js'), ' ')],
  ['a file added', (dir: string) => writeFileSync(path.join(dir, 'bin', 'npx'), '#!/bin/sh\necho evil\n')],
  ['a file removed', (dir: string) => unlinkSync(path.join(dir, 'lib', 'x.js'))],
] as const) {
  test(`a cached toolchain with ${what} is refused and extracted again from the verified tarball`, async () => {
    const cacheDir = tempDir()
    const first = await ensurePackage(spec, entry(), { cacheDir, registry: reg.url })
    assert.equal(readFileSync(path.join(first, 'bin', 'node'), 'utf8'), NODE_SCRIPT)
    // unchanged: used as it is
    const told: string[] = []
    const onTampered = (d: string) => told.push(d)
    assert.equal(await ensurePackage(spec, entry(), { cacheDir, registry: reg.url, onTampered }), first)
    assert.deepEqual(told, [])
    tamper(first)
    // the tarball is in the npm cache, verified by its integrity on read: no request needed
    reg.down = true
    const refused = reg.refused
    try {
      const again = await ensurePackage(spec, entry(), { cacheDir, registry: reg.url, onTampered })
      assert.equal(again, first)
      assert.deepEqual(told, [first])
      assert.equal(readFileSync(path.join(again, 'bin', 'node'), 'utf8'), NODE_SCRIPT)
      assert.deepEqual(readdirSync(path.join(again, 'bin')), ['node'])
      assert.equal(readFileSync(path.join(again, 'lib', 'x.js'), 'utf8'), 'x\n')
    } finally {
      reg.down = false
    }
    assert.equal(reg.refused, refused)
  })
}

test('a changed toolchain that cannot be fetched again fails closed (exit 3) and is gone', async () => {
  const cacheDir = tempDir()
  const dir = await ensurePackage(spec, entry(), { cacheDir, registry: reg.url })
  writeFileSync(path.join(dir, 'bin', 'node'), '#!/bin/sh\necho evil\n')
  rmSync(path.join(cacheDir, '_cacache'), { recursive: true, force: true })
  reg.down = true
  try {
    await assert.rejects(
      ensurePackage(spec, entry(), { cacheDir, registry: reg.url }),
      (e: { code: string; exitCode: number }) => {
        assert.equal(e.code, 'BUILD_TOOLCHAIN_UNAVAILABLE')
        assert.equal(e.exitCode, 3)
        return true
      },
    )
  } finally {
    reg.down = false
  }
  assert.equal(existsSync(dir), false, 'the changed tree must not stay where a build could run it')
})

test('a record forged for another integrity is not trusted', async () => {
  const cacheDir = tempDir()
  const dir = await ensurePackage(spec, entry(), { cacheDir, registry: reg.url })
  const record = `${dir}.tree.json`
  const rec = JSON.parse(readFileSync(record, 'utf8'))
  writeFileSync(record, JSON.stringify({ ...rec, integrity: 'sha512-forged' }))
  const told: string[] = []
  await ensurePackage(spec, entry(), { cacheDir, registry: reg.url, onTampered: (d) => told.push(d) })
  assert.deepEqual(told, [dir])
  assert.equal(JSON.parse(readFileSync(record, 'utf8')).integrity, entry().integrity)
})

test('detbuild build never runs a tampered cached node: it warns, fetches it again and builds', async () => {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(path.dirname(p))
  const cacheDir = tempDir()
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: '99.0.0' },
      install: [],
      build: ["node -e \"require('fs').writeFileSync('made.txt', 'ok\\n')\""],
      outputs: ['made.txt'],
    }),
  )
  writeFileSync(
    path.join(p, 'detbuild.lock'),
    `${JSON.stringify({ lockfileVersion: 1, packages: { [spec]: entry() } }, null, 2)}\n`,
  )
  // the fake node execs the real one: the build room sees its folder read-only
  const build = () =>
    runCli(['build', '-C', p, '--json', '--registry', reg.url, '--cache-dir', cacheDir], {
      DETBUILD_ROOM_MOUNTS: path.dirname(path.dirname(process.execPath)),
    })
  const first = await build()
  assert.equal(first.code, 0, first.stderr)
  const cached = readdirSync(path.join(cacheDir, 'toolchains')).find(
    (n) => n.startsWith(`${NAME}_99.0.0-`) && !n.endsWith('.json') && !n.includes('.tmp-'),
  ) as string
  const bin = path.join(cacheDir, 'toolchains', cached, 'bin', 'node')
  // the tampered node makes no output: had it run, the build would fail on the missing made.txt
  writeFileSync(bin, '#!/bin/sh\nexit 0\n')
  const second = await build()
  assert.equal(second.code, 0, second.stderr)
  assert.match(
    second.stderr,
    /does not match the record of its verified extraction: refused, extracted again/,
  )
  assert.equal(readFileSync(bin, 'utf8'), NODE_SCRIPT)
})
