/**
 * Outside git, staging honours the project's .gitignore files as git would (root and nested, `!`
 * negations, folders that hide everything under them) and finds dot files as `git add -A` does. The
 * expected list comes from git itself, run on the same tree.
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { inspectSource } from '../../src/builder/stage.ts'
import { runCli } from './helpers.ts'

const dirs: string[] = []
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

const TREE: Record<string, string> = {
  '.gitignore': '*.log\n!keep.log\nbuild/\n/secret.txt\n.env*\n# a comment\n\\#literal\n',
  '.npmrc': 'fund=false\n',
  '.env.local': 'TOKEN=1\n',
  '#literal': 'x',
  'a.log': 'x',
  'keep.log': 'x',
  'build/x.js': 'x',
  'secret.txt': 'x',
  'index.js': 'x',
  'src/secret.txt': 'not the root one: staged',
  'src/build/y.js': 'build/ matches a folder at any depth',
  'src/.gitignore': '!*.log\ngen/\n!gen/keep.js\nLOCAL.md\n',
  'src/b.log': 're-included by the nested file',
  'src/gen/keep.js': 'cannot be re-included: its folder is ignored',
  'src/gen/z.js': 'x',
  'src/LOCAL.md': 'x',
  'src/local.md': 'case matters',
  'dist/.gitignore': '*\n!.gitignore\n',
  'dist/out.js': 'x',
  'deep/a/b/.gitignore': '/only-here.txt\n',
  'deep/a/b/only-here.txt': 'x',
  'deep/a/b/c/only-here.txt': 'anchored to its own folder: staged',
}

function makeTree(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-gitignore-'))
  dirs.push(dir)
  const p = path.join(dir, 'project')
  for (const [file, text] of Object.entries(TREE)) {
    mkdirSync(path.dirname(path.join(p, file)), { recursive: true })
    writeFileSync(path.join(p, file), text)
  }
  return p
}

/** What git itself would add: a throwaway repository over a copy of the tree. */
function gitWouldAdd(p: string): string[] {
  const copy = `${p}-git`
  execFileSync('cp', ['-a', p, copy])
  execFileSync('git', ['init', '-q'], { cwd: copy, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' } })
  const listed = execFileSync('git', ['ls-files', '--others', '--exclude-standard', '-z'], {
    cwd: copy,
    env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' },
  }).toString()
  return listed
    .split('\0')
    .filter((f) => f !== '')
    .sort()
}

test('outside git, the staged file list is what git would add: nested .gitignore files, negations, dot files', async () => {
  const p = makeTree()
  const source = await inspectSource(p, ['**'], path.join(p, '.detbuild'), process.env)
  assert.equal(source.kind, 'files')
  const expected = gitWouldAdd(p)
  assert.deepEqual(source.files, expected)
  // the cases the tree is made of, spelled out
  for (const f of ['.npmrc', 'keep.log', 'src/b.log', 'src/secret.txt', 'src/local.md', 'dist/.gitignore'])
    assert.ok(source.files.includes(f), `${f} is staged`)
  for (const f of [
    '#literal',
    'a.log',
    '.env.local',
    'build/x.js',
    'src/build/y.js',
    'secret.txt',
    'src/gen/keep.js',
    'src/LOCAL.md',
    'dist/out.js',
    'deep/a/b/only-here.txt',
  ])
    assert.ok(!source.files.includes(f), `${f} is ignored`)
  assert.ok(source.files.includes('deep/a/b/c/only-here.txt'))
})

test('include globs still choose, and match dot files; .gitignore still applies within them', async () => {
  const p = makeTree()
  const source = await inspectSource(p, ['src/**', '.npmrc'], path.join(p, '.detbuild'), process.env)
  assert.deepEqual(source.files, ['.npmrc', 'src/.gitignore', 'src/b.log', 'src/local.md', 'src/secret.txt'])
})

test('a build outside git sees no ignored file (detbuild build, include globs)', async () => {
  const p = makeTree()
  writeFileSync(
    path.join(p, 'list.cjs'),
    [
      "const fs = require('node:fs')",
      "fs.mkdirSync('out', { recursive: true })",
      "fs.writeFileSync('out/seen.txt', fs.readdirSync('.', { recursive: true }).map(String).sort().join('\\n'))",
    ].join('\n'),
  )
  writeFileSync(
    path.join(p, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['node list.cjs'],
      outputs: ['out/seen.txt'],
    }),
  )
  const r = await runCli(['build', '-C', p])
  assert.equal(r.code, 0, r.stderr)
  const seen = readFileSync(path.join(p, '.detbuild', 'artifacts', 'seen.txt'), 'utf8').split('\n')
  assert.ok(seen.includes('.npmrc') && seen.includes('list.cjs'), seen.join(' '))
  for (const f of ['.env.local', 'secret.txt', 'a.log', path.join('src', 'gen', 'keep.js')])
    assert.ok(!seen.includes(f), `${f} reached the build`)
})

test('a .gitignore that is not a regular file is not read; an oversized one is exit 2 BUILD_GITIGNORE_INVALID', async () => {
  const p = makeTree()
  // git does not follow a symlinked .gitignore either
  mkdirSync(path.join(p, 'linked'))
  writeFileSync(path.join(p, 'everything.txt'), '*\n')
  symlinkSync('../everything.txt', path.join(p, 'linked', '.gitignore'))
  writeFileSync(path.join(p, 'linked', 'kept.js'), 'x')
  const linked = await inspectSource(p, ['**'], path.join(p, '.detbuild'), process.env)
  assert.ok(linked.files.includes('linked/kept.js'), linked.files.join(' '))
  assert.ok(linked.files.includes('linked/.gitignore'), 'the link itself is staged, as git would')
  writeFileSync(path.join(p, 'src', '.gitignore'), Buffer.alloc(1024 * 1024 + 1, 0x61))
  await assert.rejects(
    inspectSource(p, ['**'], path.join(p, '.detbuild'), process.env),
    (e: Error & { code?: string; exitCode?: number; file?: string }) => {
      assert.equal(e.code, 'BUILD_GITIGNORE_INVALID')
      assert.equal(e.exitCode, 2)
      assert.equal(e.file, 'src/.gitignore')
      return true
    },
  )
})
