/** keygen says so when it writes a private key where git would publish it. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { cli } from '../helpers/cli.ts'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

function project(git: boolean, ignore?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-keygen-'))
  dirs.push(dir)
  if (git) execFileSync('git', ['init', '-q'], { cwd: dir })
  if (ignore !== undefined) writeFileSync(path.join(dir, '.gitignore'), ignore)
  return dir
}

const warned = (stderr: string) =>
  /release\.key is inside a git repository that does not ignore it/.test(stderr)

test('a key written into a repository that does not ignore it: one warning; ignored or outside git: none', async () => {
  for (const [git, ignore, expected] of [
    [true, undefined, true],
    [true, '*.key\n', false],
    [false, undefined, false],
  ] as const) {
    const dir = project(git, ignore)
    const r = await cli(['keygen', '-C', dir, '--output-prefix', 'release', '--algorithm', 'ed25519'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(warned(r.stderr), expected, `git ${git}, ignore ${ignore}: ${r.stderr}`)
  }
})
