/**
 * Outputs are confined to the build tree: build code may leave a symlinked folder or file that points at
 * host files; such a match is exit 2 (BUILD_OUTPUT_OUTSIDE), never a copy of a host file into artifacts/.
 * Output globs with a `..` segment or a leading `/` are refused by the config itself.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { makeProject, removeProject, runCli } from './helpers.ts'

const cleanup: Array<() => void> = []
after(() => {
  for (const c of cleanup) c()
})

/** A host folder outside every build tree, holding a "secret" that matches the output glob. */
function hostSecret(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-host-'))
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(path.join(dir, 'id_rsa.tgz'), 'HOST SECRET')
  return dir
}

function project(build: string, outputs: string[]): string {
  const p = makeProject('unreproducible', { git: false })
  cleanup.push(() => removeProject(p))
  writeFileSync(path.join(p, 'make.cjs'), build)
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({ toolchain: { node: 'system' }, install: [], build: ['node make.cjs'], outputs }),
  )
  return p
}

const artifactsOf = (p: string): string[] => {
  try {
    return readdirSync(path.join(p, '.detbuild', 'artifacts'))
  } catch {
    return []
  }
}

for (const [what, link] of [
  ['a symlinked folder', 'dist'],
  ['a symlinked file', 'dist/id_rsa.tgz'],
] as const)
  test(`${what} pointing at host files → exit 2 BUILD_OUTPUT_OUTSIDE, nothing copied`, async () => {
    const host = hostSecret()
    const target = link === 'dist' ? host : path.join(host, 'id_rsa.tgz')
    const p = project(
      [
        "const fs = require('node:fs')",
        link === 'dist' ? '' : "fs.mkdirSync('dist')",
        `fs.symlinkSync(${JSON.stringify(target)}, ${JSON.stringify(link)})`,
      ].join('\n'),
      ['dist/*.tgz'],
    )
    const run = await runCli(['build', '-C', p, '--json'])
    assert.equal(run.code, 2, run.stdout + run.stderr)
    const err = JSON.parse(run.stdout).error
    assert.equal(err.code, 'BUILD_OUTPUT_OUTSIDE')
    assert.match(err.message, /^output "dist\/id_rsa\.tgz" resolves outside the build tree/)
    assert.deepEqual(artifactsOf(p), [])
  })

test('a symlink that stays inside the build tree is an ordinary output', async () => {
  const p = project(
    [
      "const fs = require('node:fs')",
      "fs.mkdirSync('real')",
      "fs.writeFileSync('real/app.txt', 'x')",
      "fs.symlinkSync('real', 'dist')",
    ].join('\n'),
    ['dist/*.txt'],
  )
  const run = await runCli(['build', '-C', p])
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.deepEqual(artifactsOf(p), ['app.txt'])
})

for (const glob of ['../host/*.tgz', 'dist/../../x.tgz', '..', '/etc/*'])
  test(`the output glob ${JSON.stringify(glob)} leaves the project → exit 2 before anything runs`, async () => {
    const p = project("require('node:fs').writeFileSync('ran', '')", [glob])
    const run = await runCli(['build', '-C', p, '--json'])
    assert.equal(run.code, 2, run.stdout + run.stderr)
    const err = JSON.parse(run.stdout).error
    assert.match(err.message, /outputs\[0\]" must be a non-empty glob inside the project/)
  })
