/**
 * `verify ARTIFACT --vsa FILE`: a deploy stage's check of a signed verification summary refuses, each with
 * its VSA_* code: a tampered summary, another artifact, another policy, another signer (key and keyless),
 * another predicate type or verifier, a malformed predicate, a level or resource it does not state.
 */
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { resolveSigningConfig, signDsse, signFile } from '../../src/sign/index.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'
import { runCli } from './helpers.ts'
import {
  ARTIFACT,
  ENV,
  EVIDENCE,
  EVIDENCE_TRUST,
  makeVsaProject,
  VSA_SIGNING,
  VSA_TRUST,
} from './vsa-helpers.ts'

let dir: string
let statement: Record<string, unknown> & { predicate: Record<string, unknown> }

before(async () => {
  dir = await makeVsaProject()
  const run = await runCli(
    [
      'verify',
      ARTIFACT,
      '--evidence',
      EVIDENCE,
      ...EVIDENCE_TRUST,
      '--policy',
      'pass.yaml',
      '--write-vsa',
      'vsa.intoto.json',
      ...VSA_SIGNING,
    ],
    dir,
    ENV,
  )
  assert.equal(run.code, 0, run.stderr)
  statement = JSON.parse(await readFile(path.join(dir, 'vsa.intoto.json'), 'utf8'))
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function check(
  vsa: string,
  extra: string[] = [],
  trust: string[] = VSA_TRUST,
  artifact = ARTIFACT,
): Promise<{ code: number; failure: string | undefined; cause: string | undefined }> {
  const run = await runCli(['--json', 'verify', artifact, '--vsa', vsa, ...trust, ...extra], dir, ENV)
  const data = run.json() as {
    failure?: { code: string; cause?: string } | null
    error?: { code: string }
  }
  return { code: run.code, failure: data.failure?.code ?? data.error?.code, cause: data.failure?.cause }
}

/** A statement signed by the verifier's key v, as a bundle file. */
async function signed(name: string, doc: unknown): Promise<string> {
  const signing = await resolveSigningConfig({ key: 'v.key', tlog: false }, { cwd: dir, env: {} })
  const bundle = await signDsse(Buffer.from(stableJson(doc)), 'application/vnd.in-toto+json', signing)
  await writeFile(path.join(dir, name), stableJson(bundle))
  return name
}

const variant = (change: (p: Record<string, unknown>) => void) => {
  const copy = structuredClone(statement)
  change(copy.predicate)
  return copy
}

test('the genuine summary passes (the baseline every refusal below differs from by one thing)', async () => {
  assert.deepEqual(await check('vsa.sigstore.json', ['--policy', 'pass.yaml']), {
    code: 0,
    failure: undefined,
    cause: undefined,
  })
  // re-signed unchanged by the same key: still accepted (the helper signs what the CLI signs)
  assert.equal((await check(await signed('same.sigstore.json', statement))).code, 0)
})

test('a tampered summary: the signature no longer verifies', async () => {
  const bundle = JSON.parse(await readFile(path.join(dir, 'vsa.sigstore.json'), 'utf8'))
  const doc = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'))
  doc.predicate.verifiedLevels = ['SLSA_BUILD_LEVEL_3']
  bundle.dsseEnvelope.payload = Buffer.from(stableJson(doc)).toString('base64')
  await writeFile(path.join(dir, 'tampered.sigstore.json'), JSON.stringify(bundle))
  assert.deepEqual(await check('tampered.sigstore.json'), {
    code: 1,
    failure: 'VSA_SIGNATURE_INVALID',
    cause: 'VERIFY_SIGNATURE_INVALID',
  })
  // the statement file beside the bundle is not what is checked: editing it changes nothing
  await writeFile(
    path.join(dir, 'vsa.intoto.json'),
    stableJson(variant((p) => Object.assign(p, { verificationResult: 'FAILED' }))),
  )
  assert.equal((await check('vsa.sigstore.json')).code, 0)
})

test('another artifact: the subject does not match', async () => {
  await writeFile(path.join(dir, 'other.tgz'), 'other bytes\n')
  const r = await check('vsa.sigstore.json', [], VSA_TRUST, 'other.tgz')
  assert.equal(r.failure, 'VSA_SUBJECT_MISMATCH')
  assert.equal(r.code, 1)
  const byDigest = await check('vsa.sigstore.json', [], VSA_TRUST, `sha256:${'0'.repeat(64)}`)
  assert.equal(byDigest.failure, 'VSA_SUBJECT_MISMATCH')
})

test('another policy: the digest the summary names is not the expected policy file', async () => {
  const r = await check('vsa.sigstore.json', ['--policy', 'fail.yaml'])
  assert.deepEqual([r.code, r.failure], [1, 'VSA_POLICY_MISMATCH'])
  const shipped = await check('vsa.sigstore.json', ['--policy', 'strict'])
  assert.equal(shipped.failure, 'VSA_POLICY_MISMATCH')
  const noDigest = await check(
    await signed(
      'nodigest.sigstore.json',
      variant((p) => Object.assign(p, { policy: { uri: 'pass.yaml' } })),
    ),
    ['--policy', 'pass.yaml'],
  )
  assert.equal(noDigest.failure, 'VSA_POLICY_MISMATCH')
})

test('another signer: the evidence key is not the verifier key', async () => {
  const r = await check('vsa.sigstore.json', [], EVIDENCE_TRUST)
  assert.equal(r.code, 1)
  // a key signature names no signer to compare: another key's signature just does not verify with this one
  assert.deepEqual([r.failure, r.cause], ['VSA_SIGNATURE_INVALID', 'VERIFY_SIGNATURE_INVALID'])
  // a key-signed summary checked with an identity: the signer kind differs
  const keyless = await check(
    'vsa.sigstore.json',
    [],
    [
      '--certificate-identity',
      WORKFLOW_IDENTITY,
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
      '--trusted-root',
      'root.json',
    ],
  )
  assert.deepEqual([keyless.code, keyless.failure], [1, 'VSA_SIGNER_MISMATCH'])
})

test('keyless: a summary signed through Fulcio/Rekor fakes; only the workflow identity is accepted', async () => {
  const mock: SigstoreMock = await startSigstoreMock()
  try {
    await writeFile(path.join(dir, 'mock-root.json'), JSON.stringify(mock.trustedRoot))
    const urls = ['--vsa-fulcio-url', mock.url, '--vsa-rekor-url', mock.url, '--vsa-tsa-url', mock.url]
    const run = await runCli(
      [
        'verify',
        ARTIFACT,
        '--evidence',
        EVIDENCE,
        ...EVIDENCE_TRUST,
        '--policy',
        'pass.yaml',
        '--write-vsa',
        'keyless.intoto.json',
        ...urls,
      ],
      dir,
      { ...ENV, SIGSTORE_ID_TOKEN: fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER }) },
    )
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const who = (identity: string) => [
      '--certificate-identity',
      identity,
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
      '--trusted-root',
      'mock-root.json',
    ]
    assert.equal((await check('keyless.sigstore.json', [], who(WORKFLOW_IDENTITY))).code, 0)
    const other = await check(
      'keyless.sigstore.json',
      [],
      who('https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main'),
    )
    assert.deepEqual(
      [other.code, other.failure, other.cause],
      [1, 'VSA_SIGNER_MISMATCH', 'VERIFY_IDENTITY_MISMATCH'],
    )
  } finally {
    await mock.close()
  }
})

test('another predicate type, verifier, result or a malformed predicate is refused', async () => {
  const provenanceLike = { ...structuredClone(statement), predicateType: 'https://slsa.dev/provenance/v1' }
  assert.equal(
    (await check(await signed('prov.sigstore.json', provenanceLike))).failure,
    'VSA_PREDICATE_TYPE_MISMATCH',
  )
  const notStatement = { ...structuredClone(statement), _type: 'https://in-toto.io/Statement/v0.1' }
  assert.equal(
    (await check(await signed('v01.sigstore.json', notStatement))).failure,
    'VSA_STATEMENT_INVALID',
  )

  const otherVerifier = await signed(
    'verifier.sigstore.json',
    variant((p) => Object.assign(p, { verifier: { id: 'https://example.com/verifier' } })),
  )
  assert.equal((await check(otherVerifier)).failure, 'VSA_VERIFIER_MISMATCH')
  // a consumer that trusts that verifier says so
  assert.equal((await check(otherVerifier, ['--vsa-verifier-id', 'https://example.com/verifier'])).code, 0)

  const passedButFailedLevel = await signed(
    'level-failed.sigstore.json',
    variant((p) => Object.assign(p, { verifiedLevels: ['FAILED'] })),
  )
  assert.equal((await check(passedButFailedLevel)).failure, 'VSA_RESULT_FAILED')
  const lowercase = await signed(
    'lower.sigstore.json',
    variant((p) => Object.assign(p, { verificationResult: 'passed' })),
  )
  assert.equal((await check(lowercase)).failure, 'VSA_RESULT_FAILED')

  for (const [name, change] of [
    ['no-time', (p: Record<string, unknown>) => delete p.timeVerified],
    ['bad-time', (p: Record<string, unknown>) => Object.assign(p, { timeVerified: 'yesterday' })],
    ['no-resource', (p: Record<string, unknown>) => delete p.resourceUri],
    ['no-policy', (p: Record<string, unknown>) => delete p.policy],
    ['no-levels', (p: Record<string, unknown>) => Object.assign(p, { verifiedLevels: 'SLSA_BUILD_LEVEL_1' })],
    ['no-verifier', (p: Record<string, unknown>) => Object.assign(p, { verifier: 'detbuild' })],
  ] as const) {
    const r = await check(await signed(`${name}.sigstore.json`, variant(change)))
    assert.deepEqual([r.code, r.failure], [1, 'VSA_PREDICATE_INVALID'], name)
  }
})

test('a level or a resource the summary does not state is refused', async () => {
  const level = await check('vsa.sigstore.json', ['--vsa-level', 'SLSA_BUILD_LEVEL_2'])
  assert.deepEqual([level.code, level.failure], [1, 'VSA_LEVEL_MISSING'])
  assert.equal((await check('vsa.sigstore.json', ['--vsa-level', 'SLSA_BUILD_LEVEL_0'])).code, 0)
  const resource = await check('vsa.sigstore.json', ['--vsa-resource-uri', 'pkg:npm/other@1.0.0'])
  assert.deepEqual([resource.code, resource.failure], [1, 'VSA_RESOURCE_MISMATCH'])
})

test('bad input: the statement instead of its bundle, not JSON, a bad level', async () => {
  await writeFile(path.join(dir, 'statement.intoto.json'), stableJson(statement))
  assert.deepEqual(await check('statement.intoto.json'), { code: 2, failure: 'VSA_USAGE', cause: undefined })
  await writeFile(path.join(dir, 'garbage.json'), 'not json')
  assert.equal((await check('garbage.json')).failure, 'VSA_NOT_JSON')
  assert.equal((await check('vsa.sigstore.json', ['--vsa-level', 'LEVEL_9'])).failure, 'VSA_USAGE')
})

test('a message signature over the artifact itself signs no statement: refused', async () => {
  const signing = await resolveSigningConfig({ key: 'v.key', tlog: false }, { cwd: dir, env: {} })
  const bundle = await signFile(await readFile(path.join(dir, ARTIFACT)), signing)
  await writeFile(path.join(dir, 'message.sigstore.json'), stableJson(bundle))
  // it is a valid signature of the artifact by the verifier's key…
  const plain = await runCli(
    ['verify', ARTIFACT, '--bundle', 'message.sigstore.json', ...VSA_TRUST],
    dir,
    ENV,
  )
  assert.equal(plain.code, 0, plain.stdout)
  // …but not a summary (whatever the library says about it first)
  const r = await check('message.sigstore.json')
  assert.deepEqual([r.code, r.failure], [1, 'VSA_BUNDLE_INVALID'])
})
