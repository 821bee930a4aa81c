/**
 * The Action entry (in-process) with the runner's credentials in its environment: no build command
 * inherits a token, an input or the signing key; the PEM key given as a secret is never on disk (the
 * build looks for it in RUNNER_TEMP while it runs, the test after); a keyless identity token is masked
 * before it is used.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { inputVariable } from '../../src/action/inputs.ts'
import { runAction } from '../../src/action/run-action.ts'
import { generateKeyPairPem } from '../../src/sign/keys.ts'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'
import { type OidcEndpoint, startOidcEndpoint } from './helpers.ts'

let mock: SigstoreMock
let oidc: OidcEndpoint
const ID_TOKEN = fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER })
const bases: string[] = []
before(async () => {
  mock = await startSigstoreMock()
  oidc = await startOidcEndpoint(ID_TOKEN)
})
after(async () => {
  await Promise.all([mock.close(), oidc.close()])
  for (const b of bases) rmSync(b, { recursive: true, force: true })
})

/** Host variables a build must never see, with values that are easy to find in a dump. */
const HOST_SECRETS: Record<string, string> = {
  ACTIONS_RUNTIME_TOKEN: 'runtime-token-value-1',
  GITHUB_TOKEN: 'ghs_githubtokenvalue2',
  NPM_TOKEN: 'npm_tokenvalue3',
  MY_SERVICE_SECRET: 'service-secret-value-4',
  DB_PASSWORD: 'db-password-value-5',
  NODE_ENV: 'production',
}

interface Project {
  repo: string
  runnerTemp: string
}

/**
 * A project whose build dumps its environment and looks for the signing key where the Action used to
 * write it (RUNNER_TEMP) — while the build runs, before anything is signed.
 */
function makeProject(): Project {
  const base = mkdtempSync(path.join(os.tmpdir(), 'detbuild-action-secrets-'))
  bases.push(base)
  const repo = path.join(base, 'repo')
  const runnerTemp = path.join(base, 'runner-temp')
  mkdirSync(repo)
  mkdirSync(runnerTemp)
  writeFileSync(
    path.join(repo, 'build.sh'),
    [
      'mkdir -p out',
      'env | sort > out/env.txt',
      // a sandboxed build cannot even see RUNNER_TEMP: that is a pass too
      `ls -aR '${runnerTemp}' > out/runner-temp.txt 2>&1 || true`,
      `grep -rl -e 'PRIVATE KEY' '${runnerTemp}' > out/keys.txt 2>/dev/null || true`,
      '',
    ].join('\n'),
  )
  writeFileSync(
    path.join(repo, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['sh build.sh'],
      outputs: ['out/*'],
      env: ['CI'],
    }),
  )
  return { repo, runnerTemp }
}

async function run(p: Project, inputs: Record<string, string>, extra: Record<string, string> = {}) {
  const files = { GITHUB_OUTPUT: 'output', GITHUB_STEP_SUMMARY: 'summary' }
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    CI: 'true',
    GITHUB_WORKSPACE: p.repo,
    RUNNER_TEMP: p.runnerTemp,
    ...HOST_SECRETS,
    ...extra,
  }
  for (const [name, file] of Object.entries(files)) {
    env[name] = path.join(p.runnerTemp, file)
    writeFileSync(env[name] as string, '')
  }
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value
  let stdout = ''
  const result = await runAction({
    env,
    cwd: p.repo,
    stdout: (t) => {
      stdout += t
    },
    now: new Date('2026-01-01T00:00:00Z'),
  })
  const artifact = (name: string) => readFileSync(path.join(p.repo, '.detbuild', 'artifacts', name), 'utf8')
  return { exitCode: result.exitCode, stdout, artifact }
}

/** The build's environment has none of the runner's or the job's credentials, names nor values. */
function assertNoCredentials(envDump: string, extraValues: readonly string[]): void {
  const names = envDump.split('\n').map((l) => l.slice(0, l.indexOf('=')))
  assert.ok(names.includes('CI'), 'the allowlisted variable is passed')
  for (const name of names) {
    assert.doesNotMatch(name, /^(ACTIONS_|INPUT_)/, name)
    assert.ok(!(name in HOST_SECRETS), `${name} reached the build`)
    assert.notEqual(name, 'DETBUILD_KEY_PASSWORD')
  }
  for (const value of [...Object.values(HOST_SECRETS), ...extraValues])
    assert.ok(!envDump.includes(value), `a credential value reached the build: ${value}`)
}

test('a PEM key input is never on disk; no build command inherits a token, an input or the passphrase', async () => {
  const p = makeProject()
  const pair = generateKeyPairPem('ecdsa-p256', 'secret passphrase')
  const r = await run(
    p,
    {
      steps: 'build,sign',
      sign: 'key',
      key: pair.privateKeyPem,
      'key-password': 'secret passphrase',
      'rekor-url': mock.url,
    },
    {
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
    },
  )
  assert.equal(r.exitCode, 0, r.stdout)
  assertNoCredentials(r.artifact('env.txt'), [oidc.requestToken, oidc.url, 'secret passphrase'])
  // while the build ran, no key was in RUNNER_TEMP (or the build could not look there at all)
  assert.equal(r.artifact('keys.txt'), '', 'a file holding a private key was readable by the build')
  assert.doesNotMatch(r.artifact('runner-temp.txt'), /detbuild-key/)
  // and after the run, nothing either: the key was only ever in memory
  assert.deepEqual(
    readdirSync(p.runnerTemp).filter((f) => f !== 'output' && f !== 'summary'),
    [],
    'the Action left files in RUNNER_TEMP',
  )
  // yet it signed with that key
  const signatures = JSON.parse(readFileSync(path.join(p.repo, '.detbuild', 'signatures.json'), 'utf8'))
  assert.equal(signatures.bundles[0].signer.type, 'key')
  // the key's lines are masked before anything else is printed
  const body = pair.privateKeyPem.split('\n')[1] as string
  assert.ok(r.stdout.split('\n').indexOf(`::add-mask::${body}`) >= 0, 'the PEM is masked')
})

test('keyless: the OIDC token the Action obtains is masked before it is used; the build never saw the endpoint', async () => {
  const p = makeProject()
  const before = oidc.requests.length
  const r = await run(
    p,
    { steps: 'build,sign', sign: 'keyless', 'fulcio-url': mock.url, 'rekor-url': mock.url },
    { ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken },
  )
  assert.equal(r.exitCode, 0, r.stdout)
  assert.ok(oidc.requests.length > before, 'the token came from the endpoint')
  const lines = r.stdout.split('\n')
  const mask = lines.indexOf(`::add-mask::${ID_TOKEN}`)
  assert.ok(mask >= 0, `the identity token is masked:\n${r.stdout}`)
  // masked before the sign step ends (its group closes after the signing)
  const signGroup = lines.findIndex((l) => /^::group::detbuild sign/.test(l))
  assert.ok(signGroup >= 0 && mask > signGroup, 'masked during the sign step')
  assert.ok(!lines.slice(0, mask).some((l) => l.includes(ID_TOKEN)), 'printed before it was masked')
  assertNoCredentials(r.artifact('env.txt'), [oidc.requestToken, oidc.url, ID_TOKEN])
})

test('a config that names a credential in env is refused before anything runs (exit 2)', async () => {
  const p = makeProject()
  writeFileSync(
    path.join(p.repo, 'detbuild.config.json'),
    JSON.stringify({
      toolchain: { node: 'system' },
      install: [],
      build: ['sh build.sh'],
      outputs: ['out/*'],
      env: ['CI', 'GITHUB_TOKEN'],
    }),
  )
  const r = await run(p, { command: 'build' })
  assert.equal(r.exitCode, 2, r.stdout)
  assert.match(r.stdout, /CONFIG_ENV_SECRET/)
  assert.match(r.stdout, /env\[1\]/)
})
