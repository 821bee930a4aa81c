/**
 * A run that signs nothing, and steps left out: never a failure, and each says why — in the summary,
 * in the --json report (`steps[].detail` of a skipped step, `notSelected` for a step the run left out).
 */
import assert from 'node:assert/strict'
import path from 'node:path'
import { after, test } from 'node:test'
import { leftOutSteps, resolveSteps, type StepSelection } from '../../src/run/steps.ts'
import { copyFixture, OSV_RECORDS, removeAll, runCli } from './helpers.ts'

const dirs: string[] = []
after(() => removeAll(dirs))

interface Report {
  exitCode: number
  failedStep: string | null
  steps: Array<{ name: string; status: string; detail: string }>
  notSelected: Array<{ name: string; reason: string }>
}

const explain = (s: StepSelection) => leftOutSteps(s, resolveSteps(s))

test('leftOutSteps: the reason of every step a selection leaves out, in pipeline order', () => {
  assert.deepEqual(explain({}), [])
  assert.deepEqual(explain({ skip: ['build'], signMode: 'none' }), [
    { name: 'build', reason: '--skip build' },
    { name: 'sign', reason: '--sign none' },
  ])
  assert.deepEqual(explain({ steps: ['sbom,scan'], verify: false }), [
    { name: 'build', reason: 'not in --steps' },
    { name: 'policy', reason: 'not in --steps' },
    { name: 'sign', reason: 'not in --steps' },
    { name: 'bundle', reason: 'not in --steps' },
    { name: 'verify', reason: 'not in --steps' },
  ])
  assert.deepEqual(
    explain({ configSteps: ['build', 'sbom', 'scan', 'policy', 'sign', 'bundle', 'verify'], verify: false }),
    [{ name: 'verify', reason: '--no-verify' }],
  )
  assert.deepEqual(
    explain({ configSteps: ['sbom'] }).map((s) => s.reason)[0],
    'not in run.steps of the config file',
  )
})

test('run --skip build --sign none (the README example): exit 0, every left-out or skipped step says why', async () => {
  const project = copyFixture('ts-lib')
  dirs.push(path.dirname(project))
  const argv = ['--cwd', project, 'run', '--skip', 'build', '--sign', 'none', '--offline-db', OSV_RECORDS]
  const text = await runCli(argv)
  assert.equal(text.code, 0, text.stdout + text.stderr)
  assert.match(text.stdout, /^ {2}skip build {3}not selected: --skip build$/m)
  assert.match(text.stdout, /^ {2}skip sign {4}not selected: --sign none$/m)
  assert.match(text.stdout, /^ {2}skip bundle {2}skipped: --sign none$/m)
  assert.match(
    text.stdout,
    /^ {2}skip verify {2}skipped: this run made no evidence to verify \(--sign none\)$/m,
  )
  const json = await runCli(['--json', ...argv])
  assert.equal(json.code, 0, json.stdout)
  const report = json.json() as Report
  assert.equal(report.failedStep, null)
  assert.deepEqual(report.notSelected, [
    { name: 'build', reason: '--skip build' },
    { name: 'sign', reason: '--sign none' },
  ])
  assert.deepEqual(
    report.steps.filter((s) => s.status === 'skipped').map((s) => [s.name, s.detail]),
    [
      ['bundle', 'skipped: --sign none'],
      ['verify', 'skipped: this run made no evidence to verify (--sign none)'],
    ],
  )
})

test('run without a signing identity and without a bundle step: verify is skipped with its reason (was exit 2)', async () => {
  const project = copyFixture('ts-lib')
  dirs.push(path.dirname(project))
  const argv = [
    '--json',
    '--cwd',
    project,
    'run',
    '--steps',
    'sbom,scan,sign,verify',
    '--offline-db',
    OSV_RECORDS,
  ]
  const run = await runCli(argv)
  assert.equal(run.code, 0, run.stdout + run.stderr)
  const report = run.json() as Report
  assert.deepEqual(
    report.steps.map((s) => [s.name, s.status]),
    [
      ['sbom', 'ok'],
      ['scan', 'ok'],
      ['sign', 'skipped'],
      ['verify', 'skipped'],
    ],
  )
  assert.match(
    report.steps[3]!.detail,
    /^skipped: this run signed nothing, and no --verify-key or --certificate-identity/,
  )
  // the one warning (also with --json) names every step it skips
  assert.match(run.stderr, /^warning: no signing identity: sign, verify skipped, nothing is signed/m)
  assert.deepEqual(
    report.notSelected.map((s) => s.name),
    ['build', 'policy', 'bundle'],
  )
})
