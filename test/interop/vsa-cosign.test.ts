/**
 * The real cosign (the pinned Debian package scripts/interop-tools.sh unpacks into .tools/interop/) accepts
 * the verification summary `verify --write-vsa` signs, as an in-toto attestation of predicate type
 * https://slsa.dev/verification_summary/v1 over the artifact: key-signed (no log, the key is the trust) and
 * keyless through the loopback sigstore mock. It refuses another artifact, another predicate type, a
 * tampered summary, another key and another identity. Offline: own HOME, a dead proxy, a trusted root
 * given on the command line. (No slsa-verifier or other VSA consumer is installed; cosign checks the
 * signature, the subject and the predicate type; the VSA fields are checked by `detbuild verify --vsa`.)
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { stableJson } from '../../src/util/canonical-json.ts'
import { runCli } from '../evidence/helpers.ts'
import {
  ARTIFACT,
  ENV,
  EVIDENCE,
  EVIDENCE_TRUST,
  makeVsaProject,
  VSA_SIGNING,
} from '../evidence/vsa-helpers.ts'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  REPO_ROOT,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'

const COSIGN = path.join(REPO_ROOT, '.tools/interop/cosign/usr/bin/cosign')
const VSA_TYPE = 'https://slsa.dev/verification_summary/v1'

let dir: string
let home: string
let mock: SigstoreMock

before(async () => {
  await access(COSIGN).catch(() => {
    throw new Error(`${COSIGN} is missing: run ./scripts/interop-tools.sh (the interop tests never skip)`)
  })
  mock = await startSigstoreMock()
  home = await mkdtemp(path.join(os.tmpdir(), 'detbuild-interop-home-'))
  dir = await makeVsaProject()
  await writeFile(path.join(dir, 'mock-root.json'), JSON.stringify(mock.trustedRoot))
  await writeFile(path.join(dir, 'other.tgz'), 'other bytes\n')
  const verify = (out: string, signing: string[], env: Record<string, string> = {}) =>
    runCli(
      [
        'verify',
        ARTIFACT,
        '--evidence',
        EVIDENCE,
        ...EVIDENCE_TRUST,
        '--policy',
        'pass.yaml',
        '--write-vsa',
        out,
        ...signing,
      ],
      dir,
      { ...ENV, ...env },
    )
  const keyed = await verify('vsa.intoto.json', VSA_SIGNING)
  assert.equal(keyed.code, 0, keyed.stderr)
  const keyless = await verify(
    'keyless.intoto.json',
    ['--vsa-fulcio-url', mock.url, '--vsa-rekor-url', mock.url, '--vsa-tsa-url', mock.url],
    { SIGSTORE_ID_TOKEN: fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER }) },
  )
  assert.equal(keyless.code, 0, keyless.stderr)
})
after(async () => {
  await mock.close()
  await rm(dir, { recursive: true, force: true })
  await rm(home, { recursive: true, force: true })
})

/** cosign, offline: its own HOME, and a dead proxy for anything it might try to fetch. */
function cosign(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      COSIGN,
      args,
      {
        cwd: dir,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          HTTP_PROXY: 'http://127.0.0.1:9',
          HTTPS_PROXY: 'http://127.0.0.1:9',
          NO_PROXY: '',
          TUF_ROOT: path.join(home, 'tuf'),
        },
      },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          output: `${stdout}${stderr}`,
        }),
    )
  })
}

const KEY = ['--key', 'v.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
const attestation = (trust: string[], bundle: string, subject: string, type = VSA_TYPE) =>
  cosign(['verify-blob-attestation', ...trust, '--type', type, '--bundle', bundle, subject])

test('cosign verify-blob-attestation accepts the key-signed summary, and only for its artifact and type', async () => {
  const ok = await attestation(KEY, 'vsa.sigstore.json', ARTIFACT)
  assert.equal(ok.code, 0, ok.output)
  assert.match(ok.output, /Verified OK/)
  const other = await attestation(KEY, 'vsa.sigstore.json', 'other.tgz')
  assert.notEqual(other.code, 0, other.output)
  const type = await attestation(KEY, 'vsa.sigstore.json', ARTIFACT, 'slsaprovenance1')
  assert.notEqual(type.code, 0, type.output)
  assert.match(type.output, /predicate type|type/i)
  const stranger = await attestation(
    ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog'],
    'vsa.sigstore.json',
    ARTIFACT,
  )
  assert.notEqual(stranger.code, 0, stranger.output)
  // a summary whose verdict was edited after signing
  const bundle = JSON.parse(await readFile(path.join(dir, 'vsa.sigstore.json'), 'utf8'))
  const doc = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'))
  doc.predicate.verifiedLevels = ['SLSA_BUILD_LEVEL_3']
  bundle.dsseEnvelope.payload = Buffer.from(stableJson(doc)).toString('base64')
  await writeFile(path.join(dir, 'tampered.sigstore.json'), JSON.stringify(bundle))
  const tampered = await attestation(KEY, 'tampered.sigstore.json', ARTIFACT)
  assert.notEqual(tampered.code, 0, tampered.output)
})

test('cosign accepts the keyless summary for the workflow identity only', async () => {
  const who = (identity: string) => [
    '--trusted-root',
    'mock-root.json',
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    GITHUB_ISSUER,
  ]
  const ok = await attestation(who(WORKFLOW_IDENTITY), 'keyless.sigstore.json', ARTIFACT)
  assert.equal(ok.code, 0, ok.output)
  assert.match(ok.output, /Verified OK/)
  const evil = await attestation(
    who('https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main'),
    'keyless.sigstore.json',
    ARTIFACT,
  )
  assert.notEqual(evil.code, 0, evil.output)
})
