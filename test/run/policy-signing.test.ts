/**
 * `detbuild run` and the Action evaluate a policy's signing rules once this run's signatures exist: the
 * other rules gate signing (nothing failing them is signed), the whole policy is evaluated after the sign
 * step (a failing verdict stops the run before the evidence is bundled), and `verify --evidence --policy`
 * evaluates the signing rules again on the bundled signatures.
 */
import assert from 'node:assert/strict'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { inputVariable } from '../../src/action/inputs.ts'
import { runAction } from '../../src/action/run-action.ts'
import { generateKeyPairPem } from '../../src/sign/keys.ts'
import { startOidcEndpoint } from '../action/helpers.ts'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'
import { copyFixture, OSV_RECORDS, ROOT, removeAll, runCli, tempDir } from './helpers.ts'

const dirs: string[] = []
let mock: SigstoreMock
before(async () => {
  mock = await startSigstoreMock()
})
after(async () => {
  await mock.close()
  removeAll(dirs)
})

interface Report {
  exitCode: number
  failedStep: string | null
  steps: Array<{ name: string; status: string; detail: string; error?: { code: string } }>
  facts: { policy?: { verdict: string; rules: Array<{ id: string; status: string }>; deferred?: string[] } }
}
interface PolicyJson {
  verdict: string
  rules: Array<{
    id: string
    status: string
    summary: string
    evidence: { violations?: Array<{ code: string }> }
  }>
}

const statuses = (r: Report) => Object.fromEntries(r.steps.map((s) => [s.name, s.status]))
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
const TSC_ENV = { DETBUILD_TSC: TSC, DETBUILD_ROOM_MOUNTS: path.dirname(path.dirname(TSC)) }

/** A policy of signing rules only (required: no signature is a fail), plus `extra` YAML. */
function signingPolicy(dir: string, extra = ''): string {
  const file = path.join(dir, 'signed.yaml')
  writeFileSync(
    file,
    `version: 1\nname: signed\nsigning:\n  required: true\n  provenance: true\n  artifacts: true\n${extra}`,
  )
  return file
}

function fixedKey(dir: string): { key: string; pub: string } {
  const pair = generateKeyPairPem('ed25519', undefined)
  const key = path.join(dir, 'fixed.key')
  const pub = path.join(dir, 'fixed.pub')
  writeFileSync(key, pair.privateKeyPem)
  writeFileSync(pub, pair.publicKeyPem)
  return { key, pub }
}

const readPolicy = (out: string) =>
  JSON.parse(readFileSync(path.join(out, 'policy.json'), 'utf8')) as PolicyJson

test('a policy that requires signatures passes run: its signing rules are evaluated after sign, then again by verify --evidence', async () => {
  const base = tempDir()
  dirs.push(base)
  const out = path.join(base, 'ws')
  const policy = signingPolicy(base)
  const { key, pub } = fixedKey(base)
  const run = await runCli([
    '--out',
    out,
    'run',
    '--demo',
    '--key',
    key,
    '--verify-key',
    pub,
    '--policy',
    policy,
  ])
  assert.equal(run.code, 0, run.stderr + run.stdout)
  assert.match(run.stdout, /^detbuild run: 7 steps done, exit 0$/m)
  assert.match(
    run.stdout,
    /^ {2}ok {3}policy {2}signed: PASS \(2 passed, 0 warned, 0 failed\); signing rules evaluated after sign$/m,
  )
  assert.match(run.stdout, /^policy: signed: PASS \(2 passed, 0 warned, 0 failed\)$/m)
  // the gate first (signing rules left for later), then the whole policy after sign
  const lines = run.stderr.split('\n')
  const gate = lines.findIndex((l) =>
    /^\[4\/7\] policy: ok: .*signing\.provenance, signing\.artifacts after sign$/.test(l),
  )
  const sign = lines.findIndex((l) => /^\[5\/7\] sign: ok: /.test(l))
  const whole = lines.findIndex((l) => /^\[4\/7\] policy: ok: signed: PASS \(2 passed/.test(l))
  const bundle = lines.findIndex((l) => /^\[6\/7\] bundle: ok/.test(l))
  assert.ok(gate >= 0 && gate < sign && sign < whole && whole < bundle, run.stderr)
  assert.match(run.stdout, /^ {2}ok {3}verify {2}evidence verified for 1 artifact$/m)
  // policy.json (bundled in the evidence) holds the signing rules, verified with this run's key
  const result = readPolicy(out)
  assert.deepEqual(
    result.rules.map((r) => [r.id, r.status]),
    [
      ['signing.provenance', 'pass'],
      ['signing.artifacts', 'pass'],
    ],
  )
  assert.match(result.rules[0]!.summary, /^provenance\.sigstore\.json by key [0-9a-f]{64}$/)

  // at deploy time: the same policy on the bundled signatures, with the public key
  const artifact = path.join(out, 'artifacts', 'ts-lib-fixture-1.0.0.tgz')
  const evidence = path.join(out, 'evidence.tar.gz')
  const verifyArgs = [
    'verify',
    artifact,
    '--evidence',
    evidence,
    '--insecure-ignore-tlog',
    '--policy',
    policy,
  ]
  const ok = await runCli(['--json', ...verifyArgs, '--key', pub])
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
  const verified = ok.json() as { checks: { policy: string }; policy: { verdict: string } }
  assert.equal(verified.checks.policy, 'pass')
  assert.equal(verified.policy.verdict, 'pass')
  // another key: neither the manifest nor the signing rules verify
  const other = fixedKey(tempDir())
  dirs.push(path.dirname(other.key))
  const wrong = await runCli(['--json', ...verifyArgs, '--key', other.pub])
  assert.equal(wrong.code, 1, wrong.stdout)
  assert.equal((wrong.json() as { checks: { policy: string } }).checks.policy, 'fail')
})

test('signing rules that fail after sign stop the run before the evidence is bundled (exit 1 at policy)', async () => {
  const base = tempDir()
  dirs.push(base)
  const out = path.join(base, 'ws')
  // only a key nobody has may sign
  const policy = signingPolicy(base, `  signers:\n    - keyId: "${'0'.repeat(64)}"\n`)
  const run = await runCli(['--json', '--out', out, 'run', '--demo', '--policy', policy])
  assert.equal(run.code, 1, run.stdout)
  const report = run.json() as Report
  assert.equal(report.failedStep, 'policy')
  assert.deepEqual(statuses(report), {
    build: 'ok',
    sbom: 'ok',
    scan: 'ok',
    policy: 'failed',
    sign: 'ok',
    bundle: 'not-run',
    verify: 'not-run',
  })
  assert.equal(report.steps.find((s) => s.name === 'policy')!.error?.code, 'POLICY_FAILED')
  assert.equal(report.steps.find((s) => s.name === 'bundle')!.detail, 'not run: policy failed')
  assert.equal(existsSync(path.join(out, 'evidence.tar.gz')), false, 'no evidence that looks OK')
  const result = readPolicy(out)
  assert.equal(result.verdict, 'fail')
  assert.deepEqual(
    result.rules.find((r) => r.id === 'signing.provenance')!.evidence.violations!.map((v) => v.code),
    // the provenance's bundle and the scan attestation's (vulns.sigstore.json)
    ['POLICY_SIGNER_NOT_ALLOWED', 'POLICY_SIGNER_NOT_ALLOWED'],
  )
})

test('a policy failing on other rules stops the run before anything is signed', async () => {
  const base = tempDir()
  dirs.push(base)
  const out = path.join(base, 'ws')
  // the demo does not build twice: reproducibility was not checked
  const policy = signingPolicy(base, 'build:\n  required: true\n  reproducible: true\n')
  const run = await runCli(['--json', '--out', out, 'run', '--demo', '--policy', policy])
  assert.equal(run.code, 1, run.stdout)
  const report = run.json() as Report
  assert.equal(report.failedStep, 'policy')
  assert.equal(statuses(report).sign, 'not-run')
  assert.equal(existsSync(path.join(out, 'signatures.json')), false, 'nothing signed')
  assert.deepEqual(report.facts.policy?.deferred, ['signing.provenance', 'signing.artifacts'])
  // policy.json says which rule failed; the signing rules were not evaluated
  const result = readPolicy(out)
  assert.equal(result.verdict, 'fail')
  assert.deepEqual(
    result.rules.map((r) => r.id),
    ['build.reproducible'],
  )
})

test('a run that signs nothing cannot pass a policy that requires signatures', async () => {
  const project = copyFixture('ts-lib')
  dirs.push(path.dirname(project))
  const policy = signingPolicy(path.dirname(project))
  const argv = ['--json', '--cwd', project, 'run', '--config', 'detbuild.offline.json']
  argv.push('--offline-db', OSV_RECORDS, '--policy', policy)
  const run = await runCli(argv, ROOT, TSC_ENV)
  assert.equal(run.code, 1, run.stdout + run.stderr)
  const report = run.json() as Report
  assert.equal(report.failedStep, 'policy')
  assert.equal(statuses(report).sign, 'skipped')
  const rules = readPolicy(path.join(project, '.detbuild')).rules
  assert.match(
    rules.find((r) => r.id === 'signing.provenance')!.summary,
    /not evaluated: no signatures\.json/,
  )
})

test('the Action, keyless: a policy that requires signatures passes with this run’s signatures', async () => {
  const project = copyFixture('ts-lib')
  const base = path.dirname(project)
  dirs.push(base)
  const trustedRoot = path.join(base, 'trusted_root.json')
  writeFileSync(trustedRoot, JSON.stringify(mock.trustedRoot))
  const oidc = await startOidcEndpoint(fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER }))
  try {
    const inputs: Record<string, string> = {
      config: 'detbuild.offline.json',
      'offline-db': OSV_RECORDS,
      policy: signingPolicy(
        base,
        `  signers:\n    - issuer: ${GITHUB_ISSUER}\n      identity: https://github.com/acme/*\n`,
      ),
      sign: 'keyless',
      'fulcio-url': mock.url,
      'rekor-url': mock.url,
      'tsa-url': mock.url,
      'trusted-root': trustedRoot,
      'release-assets': 'false',
    }
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...TSC_ENV,
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
    }
    for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value
    let stdout = ''
    const result = await runAction({
      env,
      cwd: project,
      stdout: (t) => {
        stdout += t
      },
      now: new Date('2026-01-02T03:04:05Z'),
    })
    assert.equal(result.exitCode, 0, stdout)
    assert.equal(result.outputs.verdict, 'pass')
    assert.match(
      stdout,
      /policy: ok: signed: PASS \(2 passed, 0 warned, 0 failed\); signing rules evaluated after sign/,
    )
    const rules = readPolicy(path.join(project, '.detbuild')).rules
    assert.match(
      rules.find((r) => r.id === 'signing.provenance')!.summary,
      new RegExp(`by ${WORKFLOW_IDENTITY}`),
    )
  } finally {
    await oidc.close()
  }
})

test('the Action step by step (the README release workflow): policy and sign in one call, then bundle and verify', async () => {
  const project = copyFixture('ts-lib')
  const base = path.dirname(project)
  dirs.push(base)
  const trustedRoot = path.join(base, 'trusted_root.json')
  writeFileSync(trustedRoot, JSON.stringify(mock.trustedRoot))
  const pem = generateKeyPairPem('ecdsa-p256', undefined).privateKeyPem
  const common = { config: 'detbuild.offline.json', 'offline-db': OSV_RECORDS, 'release-assets': 'false' }
  const signing = { sign: 'key', key: pem, 'rekor-url': mock.url, 'trusted-root': trustedRoot }
  const policy = signingPolicy(base)
  const calls: Array<Record<string, string>> = [
    { command: 'build' },
    { command: 'sbom' },
    { command: 'scan', 'fail-on': 'high' },
    { command: 'run', steps: 'policy,sign', policy, ...signing },
    { command: 'run', steps: 'bundle,verify', ...signing },
  ]
  const outputs: Array<Record<string, string>> = []
  for (const call of calls) {
    const env: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...TSC_ENV,
    }
    for (const [name, value] of Object.entries({ ...common, ...call })) env[inputVariable(name)] = value
    let stdout = ''
    const result = await runAction({
      env,
      cwd: project,
      stdout: (t) => {
        stdout += t
      },
      now: new Date('2026-01-02T03:04:05Z'),
    })
    assert.equal(result.exitCode, 0, `${call.command} ${call.steps ?? ''}: ${stdout}`)
    outputs.push(result.outputs)
  }
  assert.equal(outputs[3]!.verdict, 'pass')
  assert.equal(outputs[4]!.evidence, '.detbuild/evidence.tar.gz')
  // the bundled policy.json is the whole policy, judged on the signatures
  assert.deepEqual(
    readPolicy(path.join(project, '.detbuild')).rules.map((r) => [r.id, r.status]),
    [
      ['signing.provenance', 'pass'],
      ['signing.artifacts', 'pass'],
    ],
  )
})

test('run --sign key --no-tlog without --verify-key: the signing rules verify with this run’s own key, offline', async () => {
  const project = copyFixture('ts-lib')
  const base = path.dirname(project)
  dirs.push(base)
  const { key } = fixedKey(base)
  const policy = signingPolicy(base)
  const argv = [
    '--json',
    '--cwd',
    project,
    'run',
    '--config',
    'detbuild.offline.json',
    '--offline-db',
    OSV_RECORDS,
  ]
  argv.push('--sign', 'key', '--key', key, '--no-tlog', '--policy', policy)
  const run = await runCli(argv, ROOT, TSC_ENV)
  assert.equal(run.code, 0, run.stdout + run.stderr)
  const report = run.json() as Report
  assert.equal(report.facts.policy?.verdict, 'pass')
  assert.deepEqual(Object.values(statuses(report)), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok'])
})
