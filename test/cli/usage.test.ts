/**
 * One command line, the same everywhere: every command's --help lists the global options, commander's
 * usage errors print detbuild's one-line form (exit 2), the same idea has the same flag (durations with
 * a unit, --no-osv-cache) with the old spellings still accepted and a warning, colour follows the
 * stream it is written to, and counts have their noun in the right number.
 */
import assert from 'node:assert/strict'
import { rm } from 'node:fs/promises'
import { after, test } from 'node:test'
import { main } from '../../src/cli/main.ts'
import { parseDuration } from '../../src/util/duration.ts'
import { wantsColor } from '../../src/util/log.ts'
import { plural } from '../../src/util/plural.ts'
import { COMMANDS, cli } from '../helpers/cli.ts'
import { fixture, repoRoot, tempDir } from '../helpers/paths.ts'

const work = tempDir('detbuild-usage-')
after(() => rm(work, { recursive: true, force: true }))

test("every command's --help lists the global options", async () => {
  for (const c of COMMANDS) {
    const r = await cli([c, '--help'])
    assert.equal(r.code, 0, c)
    const global = r.stdout.slice(r.stdout.indexOf('Global Options:'))
    assert.ok(r.stdout.includes('Global Options:'), `${c} --help has a Global Options section`)
    for (const flag of ['-C, --cwd <dir>', '--out <dir>', '--json', '-q, --quiet', '--debug', '--no-color'])
      assert.ok(global.includes(flag), `${c} --help lists ${flag}`)
  }
})

test('usage errors: one line `detbuild: error [CODE]: …` naming the help to read, exit 2, the code in --json', async () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['frobnicate'], 'USAGE_UNKNOWN_COMMAND', /unknown command 'frobnicate' \(see detbuild --help\)$/],
    [['scann'], 'USAGE_UNKNOWN_COMMAND', /Did you mean scan\?/],
    [
      ['scan', '--fail-om', 'high'],
      'USAGE_UNKNOWN_OPTION',
      /'--fail-om' \(Did you mean --fail-on\?\) \(see detbuild scan --help\)$/,
    ],
    [
      ['scan', '--timeout'],
      'USAGE_MISSING_ARGUMENT',
      /--timeout <duration>' argument missing \(see detbuild scan --help\)$/,
    ],
    [
      ['scan', '--fail-on', 'severe'],
      'USAGE_INVALID_ARGUMENT',
      /Allowed choices are any, low, medium, high, critical/,
    ],
    [['sbom', 'extra'], 'USAGE_TOO_MANY_ARGUMENTS', /too many arguments for 'sbom'/],
    [['-C', work, 'verify', '--out'], 'USAGE_MISSING_ARGUMENT', /see detbuild verify --help/],
  ]
  for (const [args, code, message] of cases) {
    const r = await cli(args)
    assert.equal(r.code, 2, args.join(' '))
    const lines = r.stderr.split('\n').filter(Boolean)
    assert.equal(lines.length, 1, `one line: ${r.stderr}`)
    assert.ok(lines[0]!.startsWith(`detbuild: error [${code}]: `), r.stderr)
    assert.match(lines[0]!, message)
    assert.equal(r.stdout, '', 'nothing on stdout (no usage dump)')
    const json = await cli(['--json', ...args])
    assert.equal(json.code, 2)
    assert.equal(JSON.parse(json.stdout).error.code, code)
  }
  // what the user typed is quoted back as it is printed everywhere: credentials redacted, controls shown
  const secret = await cli(['scan', '--osv-ur=https://bot:s3cretTOKEN@osv.example'])
  assert.equal(secret.code, 2)
  assert.ok(!secret.stderr.includes('s3cretTOKEN'), secret.stderr)
  const controls = await cli(['scan', '--bad\u001b[31mred'])
  assert.equal(controls.code, 2)
  assert.ok(!controls.stderr.includes('\u001b'), 'no raw escape sequence')
  assert.match(controls.stderr, /--bad\\u001b\[31mred/)
  // help and version are not errors
  assert.equal((await cli(['--version'])).code, 0)
})

test('durations: a unit everywhere (30s, 500ms, 1m30s); a bare number keeps its old unit with a warning', () => {
  assert.deepEqual(parseDuration('30s', 'ms'), { ms: 30_000, bare: false })
  assert.deepEqual(parseDuration('500ms', 's'), { ms: 500, bare: false })
  assert.deepEqual(parseDuration('1m30s', 's'), { ms: 90_000, bare: false })
  assert.deepEqual(parseDuration('1.5s', 's'), { ms: 1500, bare: false })
  assert.deepEqual(parseDuration('2h', 's'), { ms: 7_200_000, bare: false })
  assert.deepEqual(parseDuration('30000', 'ms'), { ms: 30_000, bare: true })
  assert.deepEqual(parseDuration('10', 's'), { ms: 10_000, bare: true })
  // not durations: nothing, zero, negative, unknown units, spaces inside, beyond what a timer can wait
  for (const bad of ['', '0', '0s', '-5s', '5x', '5 s', 's', '1e3', 'Infinity', '10d', '600h', '3000000000'])
    assert.equal(parseDuration(bad, 'ms'), undefined, bad)
})

test('scan --timeout and sign --timeout take the same durations; a bare number warns, a bad one is exit 2', async () => {
  const scanBad = await cli(['--json', '-C', work, 'scan', '--timeout', '5x'])
  assert.equal(scanBad.code, 2)
  assert.equal(JSON.parse(scanBad.stdout).error.code, 'SCAN_USAGE')
  assert.match(JSON.parse(scanBad.stdout).error.message, /--timeout must be a duration such as 30s or 500ms/)
  const signBad = await cli(['--json', '-C', work, 'sign', '--timeout', '0'])
  assert.equal(signBad.code, 2)
  assert.equal(JSON.parse(signBad.stdout).error.code, 'SIGN_USAGE')
  // the deprecated forms still run (here into the missing SBOM / provenance), after a warning
  const scanBare = await cli(['-C', work, 'scan', '--timeout', '30000'])
  assert.match(
    scanBare.stderr,
    /warning: --timeout 30000 without a unit is deprecated: it is read as milliseconds; write --timeout 30000ms/,
  )
  assert.doesNotMatch(scanBare.stderr, /SCAN_USAGE/)
  const signBare = await cli(['-C', work, 'sign', '--key', 'missing.pem', '--timeout', '5'])
  assert.match(
    signBare.stderr,
    /warning: --timeout 5 without a unit is deprecated: it is read as seconds; write --timeout 5s/,
  )
  assert.doesNotMatch(signBare.stderr, /SIGN_USAGE/)
  const unit = await cli(['-C', work, 'scan', '--timeout', '30s'])
  assert.doesNotMatch(unit.stderr, /deprecated/)
  // the help says so
  assert.match(
    (await cli(['scan', '--help'])).stdout,
    /--timeout <duration>\s+per-request timeout for the OSV API, e\.g\.\s+30s\s+or\s+500ms\s+\(default:\s+"30s"\)/,
  )
  assert.match(
    (await cli(['sign', '--help'])).stdout,
    /--timeout <duration>\s+per-request timeout for Fulcio, Rekor and the TSA,\s+e\.g\.\s+10s\s+or\s+500ms\s+\(default:\s+"10s"\)/,
  )
})

test('the OSV record cache is --no-osv-cache for scan and run; scan --no-cache still works, hidden, with a warning', async () => {
  for (const c of ['scan', 'run']) assert.match((await cli([c, '--help'])).stdout, /--no-osv-cache/, c)
  assert.doesNotMatch((await cli(['scan', '--help'])).stdout, /--no-cache\b/)
  const sbom = await cli(['sbom', '-C', fixture('vulnerable-app'), '--out', `${work}/ws`, '-q'])
  assert.equal(sbom.code, 0, sbom.stderr)
  const records = fixture('osv', 'records')
  const args = [
    '--json',
    'scan',
    '-C',
    fixture('vulnerable-app'),
    '--out',
    `${work}/ws`,
    '--offline-db',
    records,
  ]
  const withCache = { XDG_CACHE_HOME: `${work}/cache` }
  const osv = await cli([...args, '--no-osv-cache'], { env: withCache })
  const old = await cli([...args, '--no-cache'], { env: withCache })
  assert.equal(osv.code, old.code)
  assert.deepEqual(JSON.parse(osv.stdout).findings, JSON.parse(old.stdout).findings)
  assert.doesNotMatch(osv.stderr, /deprecated/)
  assert.match(old.stderr, /warning: --no-cache is deprecated: use --no-osv-cache/)
})

test('colour follows the stream it is written to; FORCE_COLOR and NO_COLOR decide first', async () => {
  const out = `${work}/policy-ws`
  assert.equal((await cli(['sbom', '-C', fixture('small-app'), '--out', out, '-q'])).code, 0)
  const policy = async (color: { stdout: boolean; stderr: boolean }, extra: string[] = []) => {
    let stdout = ''
    let stderr = ''
    await main(['policy', '-C', fixture('small-app'), '--out', out, ...extra], {
      cwd: work,
      env: { SOURCE_DATE_EPOCH: '1700000000' },
      stdout: (t) => {
        stdout += t
      },
      stderr: (t) => {
        stderr += t
      },
      color: color.stderr,
      stdoutColor: color.stdout,
    })
    return { stdout, stderr }
  }
  const ansi = '\u001b['
  // a terminal on stdout, a pipe for stderr (`2>log`): the verdict is coloured, the log lines are not
  const toTerminal = await policy({ stdout: true, stderr: false })
  assert.ok(toTerminal.stdout.includes(ansi), 'coloured verdict on a terminal stdout')
  assert.ok(!toTerminal.stderr.includes(ansi), 'plain stderr')
  // stdout piped (`| less`), stderr a terminal: the result is plain
  const piped = await policy({ stdout: false, stderr: true })
  assert.ok(!piped.stdout.includes(ansi), 'plain result in a pipe')
  assert.match(piped.stdout, /verdict: /)
  // --no-color turns both off
  const off = await policy({ stdout: true, stderr: true }, ['--no-color'])
  assert.ok(!off.stdout.includes(ansi) && !off.stderr.includes(ansi))
  assert.equal(wantsColor({ isTTY: false }, { FORCE_COLOR: '1' }), true)
  assert.equal(wantsColor({ isTTY: true }, { FORCE_COLOR: '0' }), false)
  assert.equal(wantsColor({ isTTY: true }, { FORCE_COLOR: 'false' }), false)
  assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: '1' }), false)
  assert.equal(wantsColor({ isTTY: true }, { NO_COLOR: '' }), true)
})

test('counts have their noun in the right number: 1 component, 2 components', async () => {
  assert.equal(plural(1, 'component'), '1 component')
  assert.equal(plural(0, 'component'), '0 components')
  assert.equal(plural(2, 'dependency edge'), '2 dependency edges')
  assert.equal(plural(1, 'child', 'children'), '1 child')
  // a one-package project through the CLI: "1 component, 1 dependency edge" (the README's old "1 components")
  const one = `${work}/one`
  const { mkdirSync, writeFileSync } = await import('node:fs')
  mkdirSync(one)
  writeFileSync(
    `${one}/package.json`,
    JSON.stringify({ name: 'one', version: '1.0.0', dependencies: { a: '1.0.0' } }),
  )
  writeFileSync(
    `${one}/package-lock.json`,
    JSON.stringify({
      name: 'one',
      version: '1.0.0',
      lockfileVersion: 3,
      packages: {
        '': { name: 'one', version: '1.0.0', dependencies: { a: '1.0.0' } },
        'node_modules/a': {
          version: '1.0.0',
          resolved: 'https://registry.npmjs.org/a/-/a-1.0.0.tgz',
          integrity: 'sha512-AAAA',
        },
      },
    }),
  )
  const r = await cli(['sbom', '-C', one])
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /: 1 component, 1 dependency edge\n/)
})

test('a copy of the package that was never built says so (exit 2), not a stack trace', async () => {
  const { cpSync, mkdirSync, writeFileSync } = await import('node:fs')
  const { execFile } = await import('node:child_process')
  const copy = `${work}/not built`
  mkdirSync(`${copy}/bin`, { recursive: true })
  cpSync(`${repoRoot}/bin/detbuild.js`, `${copy}/bin/detbuild.js`)
  writeFileSync(`${copy}/package.json`, '{"type":"module"}\n')
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) =>
    execFile(process.execPath, [`${copy}/bin/detbuild.js`, '--version'], (e, _out, stderr) =>
      resolve({ code: e ? (e.code as number) : 0, stderr }),
    ),
  )
  assert.equal(r.code, 2)
  assert.equal(
    r.stderr,
    'detbuild: error [INSTALL_NOT_BUILT]: dist/cli-bundle/detbuild.js is missing: this copy of detbuild was not built (run npm run build in it, or install a release tarball)\n',
  )
})
