// --check against builds that leak on purpose (fixtures/leaks): every leak two honest builds on two
// machines could show must make the check fail, an honest build must pass, and a variation that did not
// take effect must be said (and fail the check with --strict). faketime, taskset and disorderfs are
// installed where these tests run (scripts/system-tools.sh): a test that needs one fails without it.
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { Ajv } from 'ajv'
import { CHECK_CLOCK_SHIFT_S } from '../../src/builder/clock-shift.ts'
import { COMMIT_TIME, makeProject, ROOT, removeProject, runCli } from './helpers.ts'

const cleanup: string[] = []
after(() => {
  for (const p of cleanup) removeProject(p)
})

interface Row {
  name: string
  applied: boolean
  first: string
  second: string
  note?: string
}
interface Output {
  name: string
  status: string
  diff?: string
}

function project(config: Record<string, unknown>): string {
  const p = makeProject('leaks')
  cleanup.push(p)
  writeFileSync(
    path.join(p, 'detbuild.ci.json'),
    JSON.stringify({ toolchain: { node: 'system' }, install: [], outputs: ['out/*.txt'], ...config }),
  )
  return p
}

const report = (p: string) => JSON.parse(readFileSync(path.join(p, '.detbuild', 'repro-report.json'), 'utf8'))
const row = (r: { variations: Row[] }, name: string): Row => {
  const found = r.variations.find((v) => v.name === name)
  assert.ok(found, `no variation ${name}: ${r.variations.map((v) => v.name).join(', ')}`)
  return found
}
const output = (r: { outputs: Output[] }, name: string): Output => {
  const found = r.outputs.find((o) => o.name === name)
  assert.ok(found, `no output ${name}`)
  return found
}

/** A PATH with node (and npm) but none of faketime, taskset, disorderfs: a machine without the packages. */
function barePath(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'detbuild-bare-path-'))
  cleanup.push(path.join(dir, 'x'))
  symlinkSync(process.execPath, path.join(dir, 'node'))
  return dir
}

test('the current year leaks through node: --check fails with exit 1 even without faketime on PATH', async () => {
  const p = project({ build: ['node build.js year,mtime,honest'] })
  const bare = barePath()
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'], {
    PATH: bare,
  })
  assert.equal(run.code, 1, run.stderr)
  const out = JSON.parse(run.stdout)
  assert.equal(out.code, 'BUILD_NOT_REPRODUCIBLE')
  assert.ok(out.notVaried.includes('clock (other processes)'), out.notVaried.join(', '))
  assert.match(
    out.verdict,
    /^NOT reproducible under \d+ variations: mtime\.txt, year\.txt differ; not varied: /,
  )
  const r = report(p)
  assert.equal(r.reproducible, false)
  const year = new Date().getFullYear()
  assert.equal(output(r, 'year.txt').status, 'differs')
  assert.equal(
    output(r, 'year.txt').diff,
    [
      '--- first/year.txt',
      '+++ second/year.txt',
      '@@ -1 +1 @@',
      `-${year}`,
      // the second run's clock is CHECK_CLOCK_SHIFT_S ahead (TZ is UTC in both)
      `+${new Date(Date.now() + CHECK_CLOCK_SHIFT_S * 1000).getUTCFullYear()}`,
    ].join('\n'),
  )
  assert.equal(output(r, 'honest.txt').status, 'identical')
  // a source file's time leaks too: the second run's checkout is written "later"
  assert.equal(output(r, 'mtime.txt').status, 'differs')
  assert.equal(row(r, 'source file times').applied, true)
  assert.equal(row(r, 'clock (node processes)').applied, true)
  const other = row(r, 'clock (other processes)')
  assert.equal(other.applied, false)
  assert.match(other.note ?? '', /faketime is not on PATH/)
  // without disorderfs the file order variation says what reversing the creation order did here
  assert.match(row(r, 'file order').note ?? '', /disorderfs is not on PATH/)
  assert.match(row(r, 'CPU count (other processes)').note ?? '', /taskset is not on PATH/)
  const md = readFileSync(path.join(p, '.detbuild', 'repro-report.md'), 'utf8')
  assert.match(md, /\| clock \(other processes\) \| \*\*no\*\*: faketime is not on PATH/)
  assert.ok(md.includes(`Verdict: ${out.verdict}`))
})

test('leaks of the clock, the CPU count and the directory order are each caught, in node and in the shell', async () => {
  const p = project({
    build: [
      'node build.js year,cpus,order,tz,honest',
      'date +%Y > out/shell-year.txt',
      'nproc > out/nproc.txt',
      'find data -type f > out/find.txt',
    ],
  })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'])
  assert.equal(run.code, 1, run.stderr)
  assert.equal(JSON.parse(run.stdout).code, 'BUILD_NOT_REPRODUCIBLE')
  const r = report(p)
  const status = Object.fromEntries(r.outputs.map((o: Output) => [o.name, o.status]))
  assert.deepEqual(status, {
    'cpus.txt': 'differs',
    'find.txt': 'differs',
    'honest.txt': 'identical',
    'nproc.txt': 'differs',
    'order.txt': 'differs',
    'shell-year.txt': 'differs',
    // TZ is not in the env allowlist: fixed by detbuild, the same in both builds
    'tz.txt': 'identical',
    'year.txt': 'differs',
  })
  for (const name of [
    'clock (node processes)',
    'clock (other processes)',
    'CPU count (node processes)',
    'CPU count (other processes)',
    'file order',
    'umask',
    'source file times',
    'checkout path',
    'extra environment',
  ])
    assert.equal(row(r, name).applied, true, `${name}: ${row(r, name).note}`)
  assert.match(row(r, 'file order').second, /^disorderfs --shuffle-dirents=yes --reverse-dirents=yes$/)
  assert.equal(row(r, 'CPU count (other processes)').second, '1 (taskset -c 0)')
  assert.deepEqual(
    r.fixed.map((f: { name: string; value: string }) => [f.name, f.value]),
    [
      ['TZ', 'UTC'],
      ['locale (LC_ALL, LANG)', 'C.UTF-8'],
    ],
  )
  assert.ok(!r.variations.some((v: Row) => v.name === 'TZ'), 'TZ is not a variation unless allowed')
})

test('TZ let through by the config is varied: a build that embeds the local time zone fails --check', async () => {
  const p = project({ build: ['node build.js tz,honest'], env: ['TZ'] })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'], {
    TZ: 'Europe/Berlin',
  })
  assert.equal(run.code, 1, run.stderr)
  assert.equal(JSON.parse(run.stdout).code, 'BUILD_NOT_REPRODUCIBLE')
  const r = report(p)
  assert.equal(output(r, 'tz.txt').status, 'differs')
  assert.match(output(r, 'tz.txt').diff ?? '', /^-Europe\/Berlin\n\+Pacific\/Kiritimati$/m)
  const tz = row(r, 'TZ')
  assert.deepEqual([tz.applied, tz.first, tz.second], [true, 'Europe/Berlin', 'Pacific/Kiritimati'])
  assert.ok(!r.fixed.some((f: { name: string }) => f.name === 'TZ'))
  // the artifact is the first run's: the host's zone, as allowed
  assert.equal(readFileSync(path.join(p, '.detbuild', 'artifacts', 'tz.txt'), 'utf8'), 'Europe/Berlin\n')
})

test('an honest build passes --check and --strict in the room; unsealed, --strict fails it (exit 1)', async () => {
  const p = project({
    build: [
      'node build.js honest,tz',
      'ls data | sort > out/sorted.txt',
      'date -d @"$SOURCE_DATE_EPOCH" +%Y > out/sde.txt',
    ],
  })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'])
  assert.equal(run.code, 0, run.stderr)
  const out = JSON.parse(run.stdout)
  assert.equal(out.code, undefined)
  const r = report(p)
  assert.equal(r.reproducible, true)
  // in the sealed room every variation takes effect, the hostname and user included
  assert.deepEqual(
    r.variations.filter((v: Row) => !v.applied).map((v: Row) => v.name),
    [],
  )
  assert.deepEqual(row(r, 'hostname'), {
    name: 'hostname',
    applied: true,
    first: 'detbuild',
    second: 'detbuild-check',
  })
  assert.equal(row(r, 'user id and name').second, '2345 (checker)')
  assert.equal(r.verdict, `reproducible under ${r.variations.length} variations`)
  assert.equal(out.verdict, r.verdict)
  assert.deepEqual(out.notVaried, [])
  // the report is what its schema says (the evidence bundle validates it)
  const validate = new Ajv({ strict: false }).compile(
    JSON.parse(readFileSync(path.join(ROOT, 'schema', 'repro-report.schema.json'), 'utf8')),
  )
  assert.ok(validate(r), JSON.stringify(validate.errors))
  const sealedStrict = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--strict', '--json'])
  assert.equal(sealedStrict.code, 0, sealedStrict.stderr)

  // unsealed (no build room), the hostname and user are the host's in both runs: said, and --strict fails
  const unsealed = { DETBUILD_ROOM: 'none' }
  const strict = await runCli(
    ['build', '-C', p, '--config', 'detbuild.ci.json', '--strict', '--json'],
    unsealed,
  )
  assert.equal(strict.code, 1, strict.stderr)
  const so = JSON.parse(strict.stdout)
  assert.equal(so.code, 'BUILD_VARIATION_SKIPPED')
  const skipped = ['hostname', 'user id and name']
  assert.deepEqual(so.notVaried, skipped)
  for (const name of skipped) assert.match(row(report(p), name).note ?? '', /unsealed/)
  assert.equal(report(p).reproducible, true, '--strict implies --check')
  const text = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--strict'], {
    CI: 'true',
    ...unsealed,
  })
  assert.equal(text.code, 1)
  assert.match(text.stdout, /^reproducible under \d+ variations; not varied: hostname, user id and name$/m)
  assert.match(text.stdout, /^--strict: not every variation took effect \(hostname, user id and name\)$/m)
  assert.match(text.stderr, /check: FAIL: reproducible under \d+ variations; not varied: .* \(--strict\)/)
})

test('the hostname and the user leak: the room varies both, so --check fails', async () => {
  const p = project({
    build: ['mkdir -p out', 'hostname > out/host.txt', 'id -u > out/uid.txt', 'id -un > out/user.txt'],
  })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'])
  assert.equal(run.code, 1, run.stderr)
  assert.equal(JSON.parse(run.stdout).code, 'BUILD_NOT_REPRODUCIBLE')
  const r = report(p)
  for (const name of ['host.txt', 'uid.txt', 'user.txt'])
    assert.equal(output(r, name).status, 'differs', name)
  assert.match(output(r, 'host.txt').diff ?? '', /^-detbuild$/m)
  assert.match(output(r, 'host.txt').diff ?? '', /^\+detbuild-check$/m)
  assert.match(output(r, 'user.txt').diff ?? '', /^\+checker$/m)
})

test('clock "source-date": the build sees SOURCE_DATE_EPOCH; the check still moves the clock (by an hour)', async () => {
  const p = project({
    build: ['node build.js year,honest', 'date +%Y > out/shell-year.txt'],
    clock: 'source-date',
  })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'])
  assert.equal(run.code, 0, run.stderr)
  const sdeYear = String(new Date(COMMIT_TIME * 1000).getUTCFullYear())
  const artifact = (f: string) => readFileSync(path.join(p, '.detbuild', 'artifacts', f), 'utf8')
  assert.equal(artifact('year.txt'), `${sdeYear}\n`)
  assert.equal(artifact('shell-year.txt'), `${sdeYear}\n`)
  const r = report(p)
  const clock = row(r, 'clock (node processes)')
  assert.equal(clock.applied, true)
  assert.equal(clock.first, 'starts at SOURCE_DATE_EPOCH')
  assert.equal(clock.second, 'starts at SOURCE_DATE_EPOCH +1 h 1 min 1 s (a slower machine)')
  assert.equal(row(r, 'clock (other processes)').applied, true)
  // the provenance records the clock setting with the config
  const provenance = JSON.parse(readFileSync(path.join(p, '.detbuild', 'provenance.intoto.json'), 'utf8'))
  assert.equal(provenance.predicate.buildDefinition.externalParameters.config.clock, 'source-date')
})

test('disorderfs is unmounted when the second run fails', async () => {
  // the build fails only when its clock runs more than a year ahead: in the check's second run
  const p = project({
    build: [`node -e "process.exit(new Date().getFullYear() > ${new Date().getFullYear()} ? 3 : 0)"`],
    outputs: ['package.json'],
  })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--keep-staging'], {
    CI: 'true',
  })
  assert.equal(run.code, 1, run.stderr)
  assert.match(run.stderr, /error \[BUILD_COMMAND_FAILED\]: .* \(second run; see build\.log\)/)
  const kept = /staging kept in (\S+)/.exec(run.stderr)?.[1]
  assert.ok(kept, run.stderr)
  try {
    // the second run's source was mounted (its base folder is there) and is no longer
    const second = readdirSync(kept).find((n) => n.startsWith('second-'))
    assert.ok(second, readdirSync(kept).join(', '))
    const parent = path.join(kept, second, 'a-different-and-much-longer-staging-folder')
    assert.ok(readdirSync(parent).includes('.src-disorder-base'), readdirSync(parent).join(', '))
    assert.deepEqual(readdirSync(path.join(parent, 'src')), [], 'the mount point is empty again')
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    assert.ok(!mounts.includes(kept), `a mount under ${kept} is left`)
  } finally {
    rmSync(kept, { recursive: true, force: true })
  }
})

test('an unknown clock setting is refused before anything runs (exit 2, the key named)', async () => {
  const p = project({ build: ['node build.js honest'], clock: 'fake' })
  const run = await runCli(['build', '-C', p, '--config', 'detbuild.ci.json', '--check', '--json'])
  assert.equal(run.code, 2, run.stderr)
  const err = JSON.parse(run.stdout).error
  assert.equal(err.code, 'CONFIG_INVALID')
  assert.equal(err.details.key, 'clock')
  assert.match(err.message, /"clock" must be one of "real", "source-date"/)
})
