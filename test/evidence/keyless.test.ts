/** Keyless evidence: bundle signs the manifest through loopback Fulcio/Rekor/TSA fakes; verify checks who. */
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  makeBundlableWorkspace,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'
import { runCli } from './helpers.ts'

let mock: SigstoreMock
let ws: Awaited<ReturnType<typeof makeBundlableWorkspace>>
const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'

before(async () => {
  mock = await startSigstoreMock()
  ws = await makeBundlableWorkspace()
  await writeFile(path.join(ws.dir, 'root.json'), JSON.stringify(mock.trustedRoot))
  const env = { SIGSTORE_ID_TOKEN: fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER }) }
  const urls = ['--fulcio-url', mock.url, '--rekor-url', mock.url, '--tsa-url', mock.url]
  for (const args of [
    ['sign', ...urls],
    ['bundle', ...urls],
  ]) {
    const run = await runCli(args, ws.dir, env)
    assert.equal(run.code, 0, run.stderr)
  }
})
after(async () => {
  await mock.close()
  await rm(ws.dir, { recursive: true, force: true })
})

async function verify(identity: string, issuer = GITHUB_ISSUER): Promise<[number, string | undefined]> {
  const run = await runCli(
    [
      '--json',
      'verify',
      ARTIFACT,
      '--evidence',
      '.detbuild/evidence.tar.gz',
      '--trusted-root',
      'root.json',
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      issuer,
    ],
    ws.dir,
  )
  const data = run.json() as { failure?: { code: string } | null; error?: { code: string } }
  return [run.code, data.failure?.code ?? data.error?.code]
}

test('keyless: the signer identity and issuer must match; inspect shows who signed', async () => {
  assert.deepEqual(await verify(WORKFLOW_IDENTITY), [0, undefined])
  assert.deepEqual(await verify('https://github.com/evil/app/.github/workflows/x.yml@refs/heads/main'), [
    1,
    'EVIDENCE_SIGNATURE_IDENTITY_MISMATCH',
  ])
  assert.deepEqual(await verify(WORKFLOW_IDENTITY, 'https://accounts.example.com'), [
    1,
    'EVIDENCE_SIGNATURE_IDENTITY_MISMATCH',
  ])
  const run = await runCli(['--json', 'inspect', '.detbuild/evidence.tar.gz'], ws.dir)
  const s = run.json() as { signature: { claimedSigner: unknown; tlog: boolean } }
  assert.deepEqual(s.signature, {
    present: true,
    claimedSigner: { type: 'keyless', identity: WORKFLOW_IDENTITY, issuer: GITHUB_ISSUER },
    tlog: true,
  })
})

test('keyless: Fulcio down is exit 3 and writes no archive', async () => {
  await rm(path.join(ws.out, 'evidence.tar.gz'), { force: true })
  mock.fail = true
  try {
    const run = await runCli(
      ['--json', 'bundle', '--fulcio-url', mock.url, '--rekor-url', mock.url, '--timeout', '2'],
      ws.dir,
      {
        SIGSTORE_ID_TOKEN: fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER }),
      },
    )
    assert.equal(run.code, 3)
    await assert.rejects(readFile(path.join(ws.out, 'evidence.tar.gz')))
  } finally {
    mock.fail = false
  }
})
