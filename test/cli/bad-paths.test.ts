/**
 * Every command, every path-taking flag, pointed at a path of the wrong kind: missing, a folder where a
 * file is expected, a file where a folder is expected (ENOTDIR), a symlink loop, a path the kernel
 * refuses (EACCES under /sys, where even root cannot write). Each must be exit 2 (or 3 for "no space")
 * with one line naming the path, never "this is a bug".
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { main } from '../../src/cli/main.ts'
import { EMPTY_TRUSTED_ROOT } from '../../src/run/step-runners.ts'
import { toFsError } from '../../src/util/fs-errors.ts'
import { cli } from '../helpers/cli.ts'
import { fixture, tempDir } from '../helpers/paths.ts'

const root = tempDir('detbuild-bad-paths-')
const proj = path.join(root, 'proj')
const out = path.join(proj, '.detbuild')
cpSync(fixture('small-app'), proj, { recursive: true })
const osv = fixture('osv', 'records')
const artifact = path.join(proj, 'package.json')
const pub = path.join(proj, 'detbuild.pub')
/** an empty trusted root: verification stays offline */
const root0 = path.join(root, 'trusted_root.json')
writeFileSync(root0, JSON.stringify(EMPTY_TRUSTED_ROOT))
const keyless = [
  '--certificate-identity',
  'a@example.com',
  '--certificate-oidc-issuer',
  'https://issuer.example',
]

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
const WRITE_FILE: Kind[] = ['dir', 'notdir', 'denied']
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
  { args: ['bundle', '--key', 'detbuild.key', '--no-tlog', '--output', 'P'], kinds: WRITE_FILE },
  { args: ['verify', 'P', '--bundle', bad.file, '--key', pub], kinds: READ },
  { args: ['verify', artifact, '--bundle', 'P', '--key', pub], kinds: READ },
  { args: ['verify', artifact, '--evidence', 'P', '--key', pub, '--trusted-root', root0], kinds: READ },
  { args: ['verify', artifact, '--bundle', bad.file, '--key', 'P'], kinds: READ },
  { args: ['verify', artifact, '--bundle', bad.file, ...keyless, '--trusted-root', 'P'], kinds: READ },
  { args: ['inspect', 'P'], kinds: READ },
  { args: ['keygen', '--output-prefix', 'P'], kinds: ['missing', 'notdir'], names: path.dirname },
  { args: ['keygen', '--output-prefix', 'P'], kinds: ['denied'] },
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
  assert.equal((await cli(['-C', proj, '-q', 'keygen'])).code, 0)
})

for (const c of CASES) {
  for (const kind of c.kinds) {
    const p = bad[kind]
    const args = ['-C', proj, ...c.args.map((a) => (a === 'P' ? p : a))]
    // -C P replaces the project folder
    if (c.args[0] === '-C') args.splice(0, 2)
    test(`${c.args.join(' ')} with P = ${kind}`, async () => {
      const r = await cli(args)
      // run reports a failed step in its summary on stdout
      const line = `${r.stderr}${r.stdout}`
      assert.doesNotMatch(line, /this is a bug/, line)
      assert.ok(r.code === 2 || r.code === 3, `exit ${r.code}: ${line}`)
      const named = c.names?.(p) ?? p
      // for a/file/child, naming the file in the way (a/file) names the problem too
      const candidates = kind === 'notdir' ? [named, bad.file] : [named]
      assert.ok(
        candidates.some((n) => {
          const rel = path.relative(proj, n).split(path.sep).join('/')
          return line.includes(n) || line.includes(rel) || line.includes(path.basename(n))
        }),
        `the message names ${named}: ${line}`,
      )
      const json = await cli(['--json', ...args])
      assert.equal(json.code, r.code)
      const doc = JSON.parse(json.stdout) as {
        error?: { code: string }
        steps?: Array<{ error?: { code: string } }>
      }
      const code = doc.error?.code ?? doc.steps?.find((s) => s.error)?.error?.code
      assert.match(code ?? '', /^[A-Z][A-Z0-9_]+$/, json.stdout)
      assert.notEqual(code, 'INTERNAL_ERROR')
    })
  }
}

test('inside the project: package-lock.json as a folder or a symlink loop is exit 2 naming it', async () => {
  for (const make of [(f: string) => mkdirSync(f), (f: string) => symlinkSync(path.basename(f), f)]) {
    const dir = path.join(tempDir(), 'proj')
    cpSync(fixture('small-app'), dir, { recursive: true })
    const lock = path.join(dir, 'package-lock.json')
    rmSync(lock)
    make(lock)
    const r = await cli(['-C', dir, '--json', 'sbom'])
    assert.equal(r.code, 2, r.stdout)
    const error = JSON.parse(r.stdout).error
    assert.equal(error.file, 'package-lock.json')
    assert.match(error.code, /^SBOM_LOCKFILE_/)
  }
})

test('init --force over a folder named detbuild.config.json is exit 2 naming it', async () => {
  const dir = path.join(tempDir(), 'proj')
  cpSync(fixture('small-app'), dir, { recursive: true })
  mkdirSync(path.join(dir, 'detbuild.config.json'))
  const r = await cli(['-C', dir, 'init', '--force'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /detbuild\.config\.json/)
  assert.doesNotMatch(r.stderr, /this is a bug/)
})

test('the errno mapping: bad paths are exit 2, a full disk or a failing device exit 3', () => {
  const errno = (code: string) =>
    Object.assign(new Error(`${code}: x`), { code, path: '/p', syscall: 'open' })
  for (const code of [
    'ENOENT',
    'EACCES',
    'EPERM',
    'EROFS',
    'EISDIR',
    'ENOTDIR',
    'EEXIST',
    'ELOOP',
    'ENAMETOOLONG',
  ]) {
    for (const op of ['read', 'write', 'mkdir', 'list'] as const) {
      const e = toFsError(errno(code), 'some/file', 'SBOM_LOCKFILE_UNREADABLE', op)
      assert.equal(e.exitCode, 2, `${code} ${op}`)
      assert.equal(e.code, 'SBOM_LOCKFILE_UNREADABLE')
      assert.equal(e.file, 'some/file')
      assert.equal(e.details?.errno, code)
    }
  }
  for (const [code, expected] of [
    ['ENOSPC', 'IO_NO_SPACE'],
    ['EDQUOT', 'IO_NO_SPACE'],
    ['EIO', 'IO_FAILED'],
    ['EMFILE', 'IO_FAILED'],
  ]) {
    const e = toFsError(errno(code!), 'out/sbom.cdx.json', 'SBOM_LOCKFILE_UNREADABLE', 'write')
    assert.equal(e.exitCode, 3, code)
    assert.equal(e.code, expected)
    assert.equal(e.file, 'out/sbom.cdx.json')
  }
  // an unknown errno is still about the path
  assert.equal(toFsError(errno('EWHATEVER'), 'f', 'SBOM_LOCKFILE_UNREADABLE', 'read').exitCode, 2)
})

test('the CLI entry: a stray errno error naming a path is exit 2/3 naming it; without a path it stays a bug', async () => {
  const run = async (thrown: unknown) => {
    let stderr = ''
    let stdout = ''
    const code = await main(['--json', 'policy', '-C', proj], {
      cwd: root,
      env: {},
      stdout: (t) => {
        stdout += t
      },
      stderr: (t) => {
        stderr += t
      },
      color: false,
      now: () => {
        throw thrown
      },
    })
    return { code, stderr, error: JSON.parse(stdout).error as { code: string; file?: string } }
  }
  const where = path.join(proj, 'deep', 'x.json')
  const full = await run(
    Object.assign(new Error('ENOSPC: no space'), { code: 'ENOSPC', path: where, syscall: 'write' }),
  )
  assert.equal(full.code, 3)
  assert.equal(full.error.code, 'IO_NO_SPACE')
  assert.equal(full.error.file, 'deep/x.json')
  const refused = await run(
    Object.assign(new Error('EROFS: read-only'), { code: 'EROFS', path: '/elsewhere/x', syscall: 'open' }),
  )
  assert.equal(refused.code, 2)
  assert.equal(refused.error.code, 'INPUT_PATH_UNUSABLE')
  assert.equal(refused.error.file, '/elsewhere/x')
  assert.doesNotMatch(refused.stderr, /this is a bug/)
  const bug = await run(Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' }))
  assert.equal(bug.code, 70)
  assert.equal(bug.error.code, 'INTERNAL_ERROR')
  assert.match(bug.stderr, /this is a bug/)
  const typeError = await run(new TypeError('x is undefined'))
  assert.equal(typeError.code, 70)
})

test('-C to a missing folder says the folder is missing', async () => {
  const r = await cli(['-C', bad.missing, '--json', 'sbom'])
  assert.equal(r.code, 2)
  const error = JSON.parse(r.stdout).error
  assert.equal(error.code, 'USAGE_CWD_INVALID')
  assert.match(error.message, /does not exist/)
  assert.equal(error.file, bad.missing)
})

test('keygen creates no folders outside the project', async () => {
  const r = await cli(['-C', proj, '--json', 'keygen', '--output-prefix', '../elsewhere/dir/key'])
  assert.equal(r.code, 2)
  const error = JSON.parse(r.stdout).error
  assert.equal(error.code, 'KEYGEN_USAGE')
  assert.equal(error.file, '../elsewhere/dir')
  assert.equal(existsSync(path.join(root, 'elsewhere')), false)
  // inside the project a new folder is fine
  const inside = await cli(['-C', proj, '-q', 'keygen', '--output-prefix', 'keys/new/release'])
  assert.equal(inside.code, 0, inside.stderr)
  assert.equal(existsSync(path.join(proj, 'keys', 'new', 'release.key')), true)
})
