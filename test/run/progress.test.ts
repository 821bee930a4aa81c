/** Progress display and step selection: pure parts, no pipeline. */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CheckFailedError } from '../../src/errors.ts'
import { type PipelineHooks, runPipeline, type StepRunner } from '../../src/run/pipeline.ts'
import { resolveSteps, STEP_NAMES, type StepName } from '../../src/run/steps.ts'
import { createLogger } from '../../src/util/log.ts'
import { createLiveProgress, createPlainProgress } from '../../src/util/progress.ts'

const ok: StepRunner = async () => ({ exitCode: 0, detail: 'fine' })
function runners(overrides: Partial<Record<StepName, StepRunner>>): Record<StepName, StepRunner> {
  return Object.fromEntries(STEP_NAMES.map((n) => [n, overrides[n] ?? ok])) as Record<StepName, StepRunner>
}

test('resolveSteps: pipeline order, --steps over config, --skip, --sign none, --no-verify', () => {
  assert.deepEqual(resolveSteps({}), [...STEP_NAMES])
  assert.deepEqual(resolveSteps({ steps: ['scan,sbom'] }), ['sbom', 'scan'])
  assert.deepEqual(resolveSteps({ configSteps: ['policy', 'build'], steps: ['sbom'] }), ['sbom'])
  assert.deepEqual(resolveSteps({ configSteps: ['policy', 'build'] }), ['build', 'policy'])
  assert.deepEqual(resolveSteps({ skip: ['build', 'bundle'], signMode: 'none', verify: false }), [
    'sbom',
    'scan',
    'policy',
  ])
  assert.throws(() => resolveSteps({ steps: ['sbom', 'deploy'] }), { code: 'RUN_USAGE' })
  assert.throws(() => resolveSteps({ steps: ['sign'], signMode: 'none' }), { code: 'RUN_USAGE' })
})

test('the pipeline stops at the first failure, keeps its exit code and marks the rest not-run', async () => {
  const seen: string[] = []
  const hooks: PipelineHooks = { onStart: (s) => seen.push(s) }
  const result = await runPipeline(
    ['sbom', 'scan', 'policy'],
    runners({
      scan: async () => {
        throw new CheckFailedError('SCAN_FINDINGS_AT_FAIL_ON', 'no', { file: 'x.json' })
      },
    }),
    hooks,
  )
  assert.deepEqual(seen, ['sbom', 'scan'])
  assert.equal(result.exitCode, 1)
  assert.equal(result.failedStep, 'scan')
  assert.deepEqual(
    result.steps.map((s) => [s.name, s.status]),
    [
      ['sbom', 'ok'],
      ['scan', 'failed'],
      ['policy', 'not-run'],
    ],
  )
  assert.deepEqual(result.steps[1]!.error, {
    code: 'SCAN_FINDINGS_AT_FAIL_ON',
    message: 'no',
    file: 'x.json',
  })
  // an unexpected error is an internal error (70), reported to onBug
  const bugs: unknown[] = []
  const bug = await runPipeline(
    ['sbom'],
    runners({
      sbom: async () => {
        throw new TypeError('oops')
      },
    }),
    { onBug: (_s, e) => bugs.push(e) },
  )
  assert.equal(bug.exitCode, 70)
  assert.equal(bugs.length, 1)
})

test('plain progress: one line per start and end, no timestamps; live progress redraws in place', async () => {
  const lines: string[] = []
  const plain = createPlainProgress((l) => lines.push(l))
  await runPipeline(['sbom', 'scan'], runners({}), plain)
  assert.deepEqual(lines, ['[1/2] sbom', '[1/2] sbom: ok: fine', '[2/2] scan', '[2/2] scan: ok: fine'])

  let screen = ''
  let t = 0
  const live = createLiveProgress(
    ['sbom', 'scan'],
    { write: (s) => (screen += s) },
    {
      color: false,
      clock: () => (t += 500),
      tick: false,
    },
  )
  const log = live.wrapLogger(createLogger({ write: () => {} }))
  await runPipeline(
    ['sbom', 'scan'],
    runners({
      sbom: async () => {
        log.warn('careful')
        return { exitCode: 0, detail: 'fine' }
      },
    }),
    live,
  )
  live.finish()
  assert.ok(screen.includes('\u001b[2F\u001b[J'), 'moves up and clears the previous list')
  assert.ok(screen.includes('warning: careful'))
  const last = screen.split('\u001b[J').pop()!
  assert.match(last, /✓ sbom .*fine/)
  assert.match(last, /✓ scan .*fine/)
})
