/** `detbuild run`: the embedded default end to end, determinism, and stopping at the first failure. */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, test } from 'node:test'
import { generateKeyPairPem } from '../../src/sign/keys.ts'
import { copyFixture, OSV_RECORDS, removeAll, runCli, tempDir } from './helpers.ts'

const dirs: string[] = []
after(() => removeAll(dirs))

interface Report {
  exitCode: number
  failedStep: string | null
  steps: Array<{ name: string; status: string; exitCode: number; error?: { code: string } }>
  facts: Record<string, unknown>
}

const statuses = (r: Report) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]))

const COMPARED = [
  'build.json',
  'provenance.intoto.json',
  'artifacts/ts-lib-fixture-1.0.0.tgz',
  'sbom.cdx.json',
  'vulns.json',
  'vulns.intoto.json',
  'policy.json',
  'signatures.json',
  'provenance.sigstore.json',
  'artifacts/ts-lib-fixture-1.0.0.tgz.sigstore.json',
  'evidence.tar.gz',
]

test('run --demo: the whole pipeline on the embedded default, twice, byte-identical', async () => {
  const base = tempDir()
  dirs.push(base)
  // a fixed Ed25519 key makes the signatures deterministic too (the demo's own key is random)
  const pair = generateKeyPairPem('ed25519', undefined)
  await writeFile(path.join(base, 'fixed.key'), pair.privateKeyPem)
  await writeFile(path.join(base, 'fixed.pub'), pair.publicKeyPem)
  // both runs write the same workspace (policy.json records input paths relative to the project)
  const out = path.join(base, 'ws')
  const runs: Array<{ files: Buffer[]; stdout: string }> = []
  for (let i = 0; i < 2; i++) {
    const argv = ['--json', '--out', out, 'run', '--demo', '--key', path.join(base, 'fixed.key')]
    argv.push('--verify-key', path.join(base, 'fixed.pub'))
    const run = await runCli(argv)
    assert.equal(run.code, 0, run.stderr + run.stdout)
    const report = run.json() as Report
    assert.equal(report.failedStep, null)
    for (const [step, status] of Object.entries(statuses(report))) assert.equal(status, 'ok', step)
    assert.deepEqual(
      report.steps.map((s) => s.name),
      ['build', 'sbom', 'scan', 'policy', 'sign', 'bundle', 'verify'],
    )
    runs.push({
      files: await Promise.all(COMPARED.map((f) => readFile(path.join(out, f)))),
      stdout: run.stdout,
    })
  }
  COMPARED.forEach((f, i) => {
    const [a, b] = runs.map((r) => r.files[i]!)
    assert.ok(a!.length > 0, f)
    assert.ok(a!.equals(b!), `${f} differs between two runs`)
  })
  assert.equal(runs[0]!.stdout, runs[1]!.stdout, 'the --json report')
  const facts = (JSON.parse(runs[0]!.stdout) as Report).facts as {
    build: { artifacts: Array<{ path: string; sha256: string }> }
    sbom: { components: number; validated: boolean }
    scan: { complete: boolean; source: string }
    sign: { mode: string; signatures: unknown[] }
    evidence: { file: string; sha256: string }
    verify: { verified: boolean; artifacts: number }
  }
  assert.equal(facts.build.artifacts[0]!.path, 'artifacts/ts-lib-fixture-1.0.0.tgz')
  assert.equal(facts.sbom.validated, true)
  assert.equal(facts.scan.complete, true)
  assert.match(facts.scan.source, /^offline export/)
  assert.equal(facts.sign.mode, 'key')
  // the provenance, the scan's attestation and the artifact
  assert.equal(facts.sign.signatures.length, 3)
  assert.equal(facts.evidence.file, 'evidence.tar.gz')
  assert.deepEqual(facts.verify, { verified: true, artifacts: 1 })

  // verify alone, on what the run made: passes; after one changed byte in the artifact: exit 1
  const verifyOnly = ['--json', '--out', out, 'run', '--demo', '--steps', 'verify']
  verifyOnly.push('--verify-key', path.join(base, 'fixed.pub'))
  const ok = await runCli(verifyOnly)
  assert.equal(ok.code, 0, ok.stdout)
  const artifact = path.join(out, 'artifacts', 'ts-lib-fixture-1.0.0.tgz')
  const bytes = await readFile(artifact)
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1
  await writeFile(artifact, bytes)
  const tampered = await runCli(verifyOnly)
  assert.equal(tampered.code, 1, tampered.stdout)
  const report = tampered.json() as Report
  assert.equal(report.failedStep, 'verify')
  assert.match(report.steps[0]!.error!.code, /^(VERIFY|EVIDENCE)_/)
})

test('run --demo with its own throwaway key ends with verify --evidence passing; the CLI agrees', async () => {
  const base = tempDir()
  dirs.push(base)
  const out = path.join(base, 'ws')
  const run = await runCli(['--out', out, 'run', '--demo'])
  assert.equal(run.code, 0, run.stderr + run.stdout)
  assert.match(run.stdout, /^detbuild run: 7 steps done, exit 0$/m)
  assert.match(run.stdout, /^ {2}ok {3}verify {2}evidence verified for 1 artifact$/m)
  // CI-style progress on stderr: plain lines, no timestamps, no escape codes
  assert.match(run.stderr, /^\[7\/7\] verify: ok: /m)
  assert.doesNotMatch(run.stderr, /\u001b\[|\d\d:\d\d:\d\d/)
  assert.match(run.stdout, /^demo: throwaway public key kept at .*throwaway\.pub$/m)
})

test('stops at the first failing step with its exit code: scan at --fail-on (1)', async () => {
  const project = copyFixture('vulnerable-app')
  dirs.push(path.dirname(project))
  const argv = [
    '--json',
    'run',
    '--steps',
    'sbom,scan,policy',
    '--offline-db',
    OSV_RECORDS,
    '--fail-on',
    'high',
  ]
  const run = await runCli(argv, project)
  assert.equal(run.code, 1)
  const report = run.json() as Report
  assert.equal(report.failedStep, 'scan')
  assert.deepEqual(statuses(report), { sbom: 'ok', scan: 'failed', policy: 'not-run' })
  assert.equal(report.steps[1]!.error?.code, 'SCAN_FINDINGS_AT_FAIL_ON')
  // the text summary names the failing step
  const text = await runCli(argv.slice(1), project)
  assert.equal(text.code, 1)
  assert.match(text.stdout, /FAILED at scan \(exit 1\)/)
  assert.match(text.stdout, /findings: 3 open/)
})

test('stops at the first failing step with its exit code: build without a config (2)', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const run = await runCli(['--json', 'run', '--sign', 'none', '--offline-db', OSV_RECORDS], project)
  assert.equal(run.code, 2)
  const report = run.json() as Report
  assert.equal(report.failedStep, 'build')
  assert.equal(report.steps[0]!.error?.code, 'CONFIG_MISSING')
  assert.ok(report.steps.slice(1).every((s) => s.status === 'not-run'))
  assert.equal(statuses(report).sign, undefined, '--sign none drops the sign step')
})

test('a policy failure is the run exit code 1; --warn-only lets it pass', async () => {
  const project = copyFixture('vulnerable-app')
  dirs.push(path.dirname(project))
  const argv = ['--json', 'run', '--steps', 'sbom,scan,policy', '--offline-db', OSV_RECORDS]
  const fail = await runCli(argv, project)
  assert.equal(fail.code, 1)
  const report = fail.json() as Report & { facts: { policy: { verdict: string } } }
  assert.equal(report.failedStep, 'policy')
  assert.equal(report.facts.policy.verdict, 'fail')
  const warn = await runCli([...argv, '--warn-only'], project)
  assert.equal(warn.code, 0)
})

test('--sign auto without an identity skips signing and says so', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const run = await runCli(['--json', 'run', '--steps', 'sbom,sign'], project)
  assert.equal(run.code, 0, run.stdout)
  const report = run.json() as Report
  assert.deepEqual(statuses(report), { sbom: 'ok', sign: 'skipped' })
})

test('bad usage is exit 2: unknown step, key mode without a key, offline db with an OSV URL', async () => {
  const project = copyFixture('small-app')
  dirs.push(path.dirname(project))
  const cases = [
    ['run', '--steps', 'sbom,deploy'],
    ['run', '--skip', 'nope'],
    ['run', '--sign', 'key'],
    ['run', '--offline-db', OSV_RECORDS, '--osv-url', 'http://127.0.0.1:9'],
  ]
  for (const argv of cases) {
    const run = await runCli(['--json', ...argv], project)
    assert.equal(run.code, 2, argv.join(' '))
    assert.equal((run.json() as { error: { code: string } }).error.code, 'RUN_USAGE', argv.join(' '))
  }
})

test('the config file run section chooses steps, policy and fail-on; flags win', async () => {
  const project = copyFixture('vulnerable-app')
  dirs.push(path.dirname(project))
  const config = {
    toolchain: { node: 'system' },
    build: 'true',
    outputs: ['*.tgz'],
    run: { steps: ['sbom', 'scan'], failOn: 'critical', policy: 'strict' },
  }
  await writeFile(path.join(project, 'detbuild.config.json'), JSON.stringify(config))
  const run = await runCli(['--json', 'run', '--offline-db', OSV_RECORDS], project)
  assert.equal(run.code, 1)
  const report = run.json() as Report
  assert.deepEqual(statuses(report), { sbom: 'ok', scan: 'failed' })
  const flags = await runCli(['--json', 'run', '--offline-db', OSV_RECORDS, '--steps', 'sbom'], project)
  assert.equal(flags.code, 0)
  assert.deepEqual(statuses(flags.json() as Report), { sbom: 'ok' })

  await writeFile(
    path.join(project, 'detbuild.config.json'),
    JSON.stringify({ ...config, run: { steps: ['sbom', 'deploy'] } }),
  )
  const bad = await runCli(['--json', 'run'], project)
  assert.equal(bad.code, 2)
  const err = (bad.json() as { error: { code: string; details: { key: string } } }).error
  assert.deepEqual([err.code, err.details.key], ['CONFIG_INVALID', 'run.steps[1]'])
  await writeFile(
    path.join(project, 'detbuild.config.json'),
    JSON.stringify({ ...config, run: { stepz: ['sbom'] } }),
  )
  const unknown = await runCli(['--json', 'run'], project)
  assert.equal(unknown.code, 2)
  assert.equal((unknown.json() as { error: { details: { key: string } } }).error.details.key, 'run.stepz')
})
