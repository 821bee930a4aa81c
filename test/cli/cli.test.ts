import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { cpSync, existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { main } from '../../src/cli/main.ts'
import { VERSION } from '../../src/version.ts'
import { COMMANDS, cli } from '../helpers/cli.ts'
import { fixture, repoRoot, tempDir } from '../helpers/paths.ts'

test('--version prints the package version (kept equal to package.json)', async () => {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'))
  assert.equal(VERSION, pkg.version)
  const r = await cli(['--version'])
  assert.equal(r.code, 0)
  assert.equal(r.stdout.trim(), pkg.version)
})

test('--help lists every command, and every command has its own --help', async () => {
  const top = await cli(['--help'])
  assert.equal(top.code, 0)
  for (const c of COMMANDS) {
    assert.match(top.stdout, new RegExp(`^\\s+${c}\\b`, 'm'), `${c} missing from --help`)
    const r = await cli([c, '--help'])
    assert.equal(r.code, 0, `${c} --help`)
    assert.match(r.stdout, new RegExp(`^Usage: detbuild ${c}`, 'm'))
  }
})

test('bad usage exits 2: unknown command, unknown option, bad choice', async () => {
  for (const [args, code] of [
    [['frobnicate'], 'USAGE_UNKNOWN_COMMAND'],
    [['sbom', '--frobnicate'], 'USAGE_UNKNOWN_OPTION'],
    [['sbom', '--spec', '9.9'], 'USAGE_INVALID_ARGUMENT'],
  ] as const) {
    const r = await cli([...args])
    assert.equal(r.code, 2, args.join(' '))
    assert.match(r.stderr, new RegExp(`^detbuild: error \\[${code}\\]: `))
  }
  const json = await cli(['--json', 'sbom', '--spec', '9.9'])
  assert.equal(JSON.parse(json.stdout).error.code, 'USAGE_INVALID_ARGUMENT')
})

test('an unexpected error is exit 70 with one line and a hint; --debug adds the stack trace', async () => {
  const out = tempDir()
  assert.equal((await cli(['sbom', '-C', fixture('small-app'), '--out', out, '-q'])).code, 0)
  // policy reads the clock after its inputs: a clock that throws stands in for any bug
  const run = async (debug: boolean) => {
    let stderr = ''
    const code = await main(
      ['policy', '-C', fixture('small-app'), '--out', out, ...(debug ? ['--debug'] : [])],
      {
        cwd: repoRoot,
        env: {},
        stdout: () => {},
        stderr: (t) => {
          stderr += t
        },
        color: false,
        now: () => {
          throw new Error('the clock broke')
        },
      },
    )
    return { code, stderr }
  }
  const bug = await run(false)
  assert.equal(bug.code, 70)
  assert.match(
    bug.stderr,
    /^detbuild: error \[INTERNAL_ERROR\]: the clock broke \(this is a bug in detbuild; run with --debug/,
  )
  assert.equal(bug.stderr.trim().split('\n').length, 1)
  const debug = await run(true)
  assert.equal(debug.code, 70)
  assert.match(debug.stderr, /\n\s+at /, 'a stack trace with --debug')
})

test('--json puts the result or the error on stdout; --quiet prints nothing on success', async () => {
  const ok = await cli(['--json', 'sbom', '-C', fixture('small-app'), '--out', tempDir()])
  assert.equal(ok.code, 0)
  assert.equal(JSON.parse(ok.stdout).components, 8)
  const quiet = await cli(['-q', 'sbom', '-C', fixture('small-app'), '--out', tempDir()])
  assert.equal(quiet.code, 0)
  assert.equal(quiet.stdout, '')
  const bad = await cli(['--json', 'sbom', '-C', tempDir(), '--out', tempDir()])
  assert.equal(bad.code, 2)
  const error = JSON.parse(bad.stdout).error
  assert.deepEqual(Object.keys(error).sort(), ['code', 'details', 'file', 'message'])
  assert.equal(error.details.errno, 'ENOENT')
})

test('-C makes a relative --out relative to the project', async () => {
  const dir = tempDir()
  cpSync(fixture('small-app'), dir, { recursive: true })
  const r = await cli(['sbom', '-C', dir, '--out', 'ws', '-q'], { cwd: repoRoot })
  assert.equal(r.code, 0, r.stderr)
  assert.ok(existsSync(path.join(dir, 'ws', 'sbom.cdx.json')))
})

test('the shipped entry bin/detbuild.js runs the compiled CLI and exits with its code', async () => {
  const bin = path.join(repoRoot, 'bin', 'detbuild.js')
  const { stdout } = await promisify(execFile)(process.execPath, [bin, '--version'])
  assert.equal(stdout.trim(), VERSION)
  await assert.rejects(
    promisify(execFile)(process.execPath, [bin, 'sbom', '-C', tempDir()]),
    (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2)
      assert.match(e.stderr, /SBOM_/)
      assert.doesNotMatch(e.stderr, /\n\s+at /)
      return true
    },
  )
})
