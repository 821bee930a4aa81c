/**
 * Every command, every path-taking flag, pointed at a path of the wrong kind: missing, a folder where a
 * file is expected, a file where a folder is expected (ENOTDIR), a symlink loop, a path the kernel
 * refuses (EACCES under /sys, where even root cannot write). Each must be exit 2 (or 3 for "no space")
 * with one line naming the path, never "this is a bug".
 */
import assert from 'node:assert/strict'
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

const root = tempDir('detbuild-bad-paths-')
const proj = path.join(root, 'proj')
const out = path.join(proj, '.detbuild')
cpSync(fixture('small-app'), proj, { recursive: true })
const osv = fixture('osv', 'records')

/** A path of each wrong kind, made once. */
const bad = {
  missing: path.join(root, 'missing', 'nothing.json'),
  dir: path.join(root, 'a-folder'),
  notdir: path.join(root, 'a-file', 'child'),
  file: path.join(root, 'a-file'),
  loop: path.join(root, 'loop-a'),
  /** sysfs refuses new files even to root: EACCES */
  denied: '/sys/detbuild-test-denied',
} as const
mkdirSync(bad.dir)
writeFileSync(bad.file, '{}\n')
symlinkSync(path.join(root, 'loop-b'), bad.loop)
symlinkSync(bad.loop, path.join(root, 'loop-b'))

type Kind = keyof typeof bad

interface Case {
  /** command and flags; `P` is replaced by the bad path */
  args: string[]
  kinds: Kind[]
  /** the path the message must name (default: the bad path, or its relative form) */
  names?: (p: string) => string
}

const READ: Kind[] = ['missing', 'dir', 'notdir', 'loop']
const WRITE_FILE: Kind[] = ['dir', 'notdir', 'loop', 'denied']
const WRITE_DIR: Kind[] = ['file', 'notdir', 'denied']
const offline = ['--offline-db', osv]

const CASES: Case[] = [
  { args: ['-C', 'P', 'init'], kinds: ['missing', 'file', 'notdir'] },
  { args: ['-C', 'P', 'sbom'], kinds: ['missing', 'file', 'notdir'] },
  { args: ['--out', 'P', 'sbom'], kinds: WRITE_DIR },
  { args: ['lock', '--config', 'P', '--registry', 'http://127.0.0.1:9'], kinds: READ },
  { args: ['build', '--config', 'P', '--registry', 'http://127.0.0.1:9'], kinds: READ },
  { args: ['scan', '--sbom', 'P', ...offline], kinds: READ },
  { args: ['scan', '--offline-db', 'P'], kinds: ['missing', 'notdir', 'loop'] },
  { args: ['scan', '--ignore-file', 'P', ...offline], kinds: READ },
  { args: ['--out', 'P', 'scan', '--sbom', `${out}/sbom.cdx.json`, ...offline], kinds: WRITE_DIR },
  { args: ['policy', '--policy', 'P'], kinds: READ },
  { args: ['policy', '--vex', 'P'], kinds: READ },
  { args: ['policy', '--sbom', 'P'], kinds: READ },
  { args: ['policy', '--vulns', 'P'], kinds: READ },
  { args: ['policy', '--build-manifest', 'P'], kinds: ['dir', 'notdir', 'loop'] },
  { args: ['policy', '--signatures', 'P'], kinds: ['dir', 'notdir', 'loop'] },
  { args: ['sign', '--key', 'P'], kinds: READ },
  { args: ['bundle', '--key', 'P'], kinds: READ },
  { args: ['verify', 'P', '--bundle', bad.file], kinds: READ },
  { args: ['verify', `${proj}/package.json`, '--bundle', 'P'], kinds: READ },
  { args: ['verify', `${proj}/package.json`, '--evidence', 'P'], kinds: READ },
  { args: ['verify', `${proj}/package.json`, '--bundle', bad.file, '--key', 'P'], kinds: READ },
  { args: ['verify', `${proj}/package.json`, '--bundle', bad.file, '--trusted-root', 'P'], kinds: READ },
  { args: ['inspect', 'P'], kinds: READ },
  { args: ['keygen', '--output-prefix', 'P'], kinds: ['notdir', 'denied'] },
  { args: ['-C', 'P', 'keygen'], kinds: ['missing', 'file', 'notdir'] },
  { args: ['run', '--steps', 'sbom', '--config', 'P'], kinds: READ },
  { args: ['run', '--steps', 'scan', '--offline-db', 'P'], kinds: ['missing', 'notdir', 'loop'] },
  { args: ['run', '--steps', 'policy', '--policy', 'P'], kinds: READ },
  { args: ['run', '--steps', 'policy', '--vex', 'P'], kinds: READ },
  { args: ['run', '--steps', 'sign', '--sign', 'key', '--key', 'P'], kinds: READ },
  { args: ['--out', 'P', 'run', '--steps', 'sbom'], kinds: WRITE_DIR },
]

test('setup: a workspace to point the flags at', async () => {
  assert.equal((await cli(['-C', proj, '-q', 'sbom'])).code, 0)
  assert.equal((await cli(['-C', proj, '-q', 'scan', ...offline])).code, 0)
})

for (const c of CASES) {
  for (const kind of c.kinds) {
    const p = bad[kind]
    const args = ['-C', proj, ...c.args.map((a) => (a === 'P' ? p : a))]
    // -C P replaces the project folder
    if (c.args[0] === '-C') args.splice(0, 2)
    test(`${c.args.join(' ')} with P = ${kind}`, async () => {
      const r = await cli(args)
      const line = r.stderr
      assert.doesNotMatch(line, /this is a bug/, line)
      assert.ok(r.code === 2 || r.code === 3, `exit ${r.code}: ${line}`)
      const named = c.names?.(p) ?? p
      const rel = path.relative(proj, named).split(path.sep).join('/')
      const base = path.basename(named)
      assert.ok(
        line.includes(named) || line.includes(rel) || line.includes(base),
        `the message names ${named}: ${line}`,
      )
      const json = await cli(['--json', ...args])
      assert.equal(json.code, r.code)
      const error = (JSON.parse(json.stdout) as { error: { code: string } }).error
      assert.match(error.code, /^[A-Z][A-Z0-9_]+$/)
      assert.notEqual(error.code, 'INTERNAL_ERROR')
    })
  }
}
