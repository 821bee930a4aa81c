/**
 * `verify --evidence --write-vsa`: a passed verification writes a signed SLSA VSA v1 whose digests are the
 * artifact's, the archive's, its members' and the policy's; a failed one writes a FAILED summary (never a
 * PASSED one); one without a verdict leaves none behind; fixed SOURCE_DATE_EPOCH → the same bytes.
 */
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { readEvidenceArchive } from '../../src/evidence/archive.ts'
import { DEFAULT_LIMITS } from '../../src/evidence/types.ts'
import { digestBytes, sha256Hex } from '../../src/util/digest.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { REPO_ROOT } from '../helpers/sigstore-mock-server.ts'
import { craftTarGz, runCli, toEntries } from './helpers.ts'
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

before(async () => {
  dir = await makeVsaProject()
})
after(async () => {
  await rm(dir, { recursive: true, force: true })
})

interface Statement {
  _type: string
  subject: Array<{ name: string; digest: Record<string, string> }>
  predicateType: string
  predicate: {
    verifier: { id: string; version: Record<string, string> }
    timeVerified: string
    resourceUri: string
    policy: { uri: string; digest: { sha256: string } }
    inputAttestations: Array<{ name?: string; uri: string; digest: { sha256: string } }>
    verificationResult: string
    verifiedLevels: string[]
    slsaVersion: string
    [extension: string]: unknown
  }
}

const write = (policy: string, out: string, env: Record<string, string> = ENV) =>
  runCli(
    [
      '--json',
      'verify',
      ARTIFACT,
      '--evidence',
      EVIDENCE,
      ...EVIDENCE_TRUST,
      '--policy',
      policy,
      '--write-vsa',
      out,
      ...VSA_SIGNING,
    ],
    dir,
    env,
  )

const check = (vsa: string, ...extra: string[]) =>
  runCli(['--json', 'verify', ARTIFACT, '--vsa', vsa, ...VSA_TRUST, ...extra], dir, ENV)

async function readStatement(
  file: string,
): Promise<{ statement: Statement; bytes: Buffer; payload: Buffer }> {
  const bytes = await readFile(path.join(dir, file))
  const bundleFile = file.replace(/\.intoto\.json$/, '.sigstore.json')
  const bundle = JSON.parse(await readFile(path.join(dir, bundleFile), 'utf8'))
  const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64')
  assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json')
  return { statement: JSON.parse(bytes.toString('utf8')), bytes, payload }
}

test('a passed verification writes a signed PASSED summary with the digests detbuild computed', async () => {
  const run = await write('pass.yaml', 'pass.intoto.json')
  assert.equal(run.code, 0, run.stderr)
  const data = run.json() as { verified: boolean; vsa: { bundle: string; verificationResult: string } }
  assert.equal(data.verified, true)
  assert.deepEqual(data.vsa.bundle, 'pass.sigstore.json')
  const { statement, bytes, payload } = await readStatement('pass.intoto.json')
  // the statement file is exactly what was signed
  assert.deepEqual(payload, bytes)
  assert.equal(statement._type, 'https://in-toto.io/Statement/v1')
  assert.equal(statement.predicateType, 'https://slsa.dev/verification_summary/v1')
  const artifact = digestBytes(await readFile(path.join(dir, ARTIFACT)))
  assert.deepEqual(statement.subject, [
    { name: 'app-1.0.0.tgz', digest: { sha256: artifact.sha256, sha512: artifact.sha512 } },
  ])
  const p = statement.predicate
  assert.equal(p.verificationResult, 'PASSED')
  assert.deepEqual(p.verifiedLevels, ['SLSA_BUILD_LEVEL_1'])
  assert.equal(p.slsaVersion, '1.0')
  assert.equal(p.verifier.id, 'https://detbuild.dev/verifiers/evidence/v1')
  assert.match(p.verifier.version.detbuild ?? '', /^\d+\.\d+\.\d+/)
  assert.equal(p.timeVerified, '2023-11-14T22:13:20Z')
  assert.equal(p.resourceUri, 'pkg:npm/vulnerable-app@1.0.0', 'the SBOM root component')
  assert.deepEqual(p.policy, {
    uri: 'pass.yaml',
    digest: { sha256: sha256Hex(await readFile(path.join(dir, 'pass.yaml'))) },
  })
  assert.equal(p['https://detbuild.dev/verification_summary/failures'], undefined)
  // inputs: the archive and its JSON members, by the digests of their bytes
  const archive = p.inputAttestations[0]!
  assert.deepEqual(archive, {
    uri: EVIDENCE,
    digest: { sha256: sha256Hex(await readFile(path.join(dir, EVIDENCE))) },
  })
  const names = p.inputAttestations.slice(1).map((a) => a.name)
  assert.deepEqual(names, [...names].sort())
  for (const name of ['manifest.json', 'manifest.sigstore.json', 'provenance.intoto.json', 'sbom.cdx.json'])
    assert.ok(names.includes(name), name)
  assert.ok(!names.some((n) => n?.endsWith('.md') || n?.startsWith('artifacts/')))
  const provenance = p.inputAttestations.find((a) => a.name === 'provenance.intoto.json')!
  assert.equal(provenance.uri, `${EVIDENCE}#provenance.intoto.json`)
  assert.equal(
    provenance.digest.sha256,
    sha256Hex(await readFile(path.join(dir, '.detbuild/provenance.intoto.json'))),
  )

  // a deploy stage accepts it: signer, subject, type, verifier, result, policy, level, resource
  const ok = await check(
    'pass.sigstore.json',
    '--policy',
    'pass.yaml',
    '--vsa-level',
    'SLSA_BUILD_LEVEL_1',
    '--vsa-resource-uri',
    'pkg:npm/vulnerable-app@1.0.0',
  )
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
  const report = ok.json() as { verified: boolean; summary: { verifiedLevels: string[] } }
  assert.equal(report.verified, true)
  assert.deepEqual(report.summary.verifiedLevels, ['SLSA_BUILD_LEVEL_1'])
  // … and it is an ordinary signed attestation for `verify --bundle` too
  const plain = await runCli(['verify', ARTIFACT, '--bundle', 'pass.sigstore.json', ...VSA_TRUST], dir, ENV)
  assert.equal(plain.code, 0, plain.stdout + plain.stderr)
})

test('a failed verification never writes a PASSED summary: FAILED, with the reason codes', async () => {
  // a PASSED summary of an earlier run sits at the path: it must not survive a failed verification
  const first = await write('pass.yaml', 'gate.intoto.json')
  assert.equal(first.code, 0, first.stderr)
  const run = await write('fail.yaml', 'gate.intoto.json')
  assert.equal(run.code, 1, run.stderr)
  const { statement } = await readStatement('gate.intoto.json')
  assert.equal(statement.predicate.verificationResult, 'FAILED')
  assert.deepEqual(statement.predicate.verifiedLevels, ['FAILED'])
  assert.deepEqual(statement.predicate['https://detbuild.dev/verification_summary/failures'], [
    'EVIDENCE_POLICY_FAILED',
  ])
  assert.equal(
    statement.predicate.policy.digest.sha256,
    sha256Hex(await readFile(path.join(dir, 'fail.yaml'))),
  )
  const refused = await check('gate.sigstore.json')
  assert.equal(refused.code, 1)
  assert.equal((refused.json() as { failure: { code: string } }).failure.code, 'VSA_RESULT_FAILED')
})

test('a tampered archive gives a FAILED summary, not a PASSED one', async () => {
  // the SBOM changed after signing: a readable archive whose member no longer matches the manifest
  const members = await readEvidenceArchive(await readFile(path.join(dir, EVIDENCE)), DEFAULT_LIMITS, 'x')
  const sbom = members.get('sbom.cdx.json')!
  members.set('sbom.cdx.json', Buffer.concat([sbom, Buffer.from(' ')]))
  const damaged = craftTarGz(toEntries(members))
  await writeFile(path.join(dir, 'damaged.tar.gz'), damaged)
  const run = await runCli(
    [
      'verify',
      ARTIFACT,
      '--evidence',
      'damaged.tar.gz',
      ...EVIDENCE_TRUST,
      '--policy',
      'pass.yaml',
      '--write-vsa',
      'damaged.intoto.json',
      ...VSA_SIGNING,
    ],
    dir,
    ENV,
  )
  assert.equal(run.code, 1, run.stdout + run.stderr)
  const { statement } = await readStatement('damaged.intoto.json')
  assert.equal(statement.predicate.verificationResult, 'FAILED')
  assert.ok(
    (statement.predicate['https://detbuild.dev/verification_summary/failures'] as string[]).includes(
      'EVIDENCE_FILE_MODIFIED',
    ),
  )
  assert.equal(statement.predicate.inputAttestations[0]!.digest.sha256, sha256Hex(damaged))
})

test('without a verdict no summary is written, and an earlier one at the path is removed', async () => {
  const first = await write('pass.yaml', 'stale.intoto.json')
  assert.equal(first.code, 0, first.stderr)
  // bad input (exit 2): a policy that does not exist
  const bad = await write('missing.yaml', 'stale.intoto.json')
  assert.equal(bad.code, 2)
  await assert.rejects(readFile(path.join(dir, 'stale.intoto.json')), { code: 'ENOENT' })
  await assert.rejects(readFile(path.join(dir, 'stale.sigstore.json')), { code: 'ENOENT' })

  // incomplete (exit 3): the rescan's OSV API answers garbage
  const again = await write('pass.yaml', 'stale.intoto.json')
  assert.equal(again.code, 0, again.stderr)
  const osv: OsvFake = await startOsvFake(loadRecords(path.join(REPO_ROOT, 'fixtures/osv/records')))
  osv.always.querybatch = { kind: 'malformed' }
  try {
    const run = await runCli(
      [
        'verify',
        ARTIFACT,
        '--evidence',
        EVIDENCE,
        ...EVIDENCE_TRUST,
        '--policy',
        'pass.yaml',
        '--rescan',
        '--osv-url',
        osv.url,
        '--write-vsa',
        'stale.intoto.json',
        ...VSA_SIGNING,
      ],
      dir,
      ENV,
    )
    assert.equal(run.code, 3, run.stdout + run.stderr)
  } finally {
    await osv.close()
  }
  await assert.rejects(readFile(path.join(dir, 'stale.intoto.json')), { code: 'ENOENT' })
  await assert.rejects(readFile(path.join(dir, 'stale.sigstore.json')), { code: 'ENOENT' })
})

test('the same SOURCE_DATE_EPOCH gives the same bytes; another gives another timeVerified', async () => {
  const a = await write('pass.yaml', 'a.intoto.json')
  const b = await write('pass.yaml', 'b.intoto.json')
  assert.equal(a.code, 0, a.stderr)
  assert.equal(b.code, 0, b.stderr)
  for (const [x, y] of [
    ['a.intoto.json', 'b.intoto.json'],
    ['a.sigstore.json', 'b.sigstore.json'],
  ] as const)
    assert.deepEqual(await readFile(path.join(dir, x)), await readFile(path.join(dir, y)), x)
  const c = await write('pass.yaml', 'c.intoto.json', { SOURCE_DATE_EPOCH: '1800000000' })
  assert.equal(c.code, 0, c.stderr)
  const { statement } = await readStatement('c.intoto.json')
  assert.equal(statement.predicate.timeVerified, '2027-01-15T08:00:00Z')
})

test('usage: --write-vsa needs --evidence and --policy, a new file, and the signing flags need it', async () => {
  const cases: string[][] = [
    ['--evidence', EVIDENCE, ...EVIDENCE_TRUST, '--write-vsa', 'x.intoto.json', ...VSA_SIGNING],
    ['--evidence', EVIDENCE, ...EVIDENCE_TRUST, '--policy', 'pass.yaml', '--write-vsa', EVIDENCE],
    ['--evidence', EVIDENCE, ...EVIDENCE_TRUST, '--policy', 'pass.yaml', '--write-vsa', 'x.sigstore.json'],
    ['--evidence', EVIDENCE, ...EVIDENCE_TRUST, '--policy', 'pass.yaml', ...VSA_SIGNING],
    ['--bundle', 'x.json', ...EVIDENCE_TRUST, '--write-vsa', 'x.intoto.json'],
    ['--evidence', EVIDENCE, '--vsa', 'x.sigstore.json', ...EVIDENCE_TRUST],
    ['--evidence', EVIDENCE, ...EVIDENCE_TRUST, '--vsa-level', 'SLSA_BUILD_LEVEL_1'],
    // --offline: a keyless summary, or one with a log entry, would need the network
    [
      '--evidence',
      EVIDENCE,
      ...EVIDENCE_TRUST,
      '--offline',
      '--policy',
      'pass.yaml',
      '--write-vsa',
      'x.intoto.json',
    ],
    [
      '--evidence',
      EVIDENCE,
      ...EVIDENCE_TRUST,
      '--offline',
      '--policy',
      'pass.yaml',
      '--write-vsa',
      'x.intoto.json',
      '--vsa-key',
      'v.key',
    ],
  ]
  for (const args of cases) {
    const run = await runCli(['--json', 'verify', ARTIFACT, ...args], dir, ENV)
    assert.equal(run.code, 2, args.join(' '))
    const code = (run.json() as { error: { code: string } }).error.code
    assert.ok(
      ['VSA_USAGE', 'VERIFY_USAGE', 'VERIFY_OFFLINE_NETWORK_NEEDED'].includes(code),
      `${args.join(' ')}: ${code}`,
    )
    assert.equal(code === 'VERIFY_OFFLINE_NETWORK_NEEDED', args.includes('--offline'), args.join(' '))
  }
  await assert.rejects(readFile(path.join(dir, 'x.intoto.json')), { code: 'ENOENT' })
  // offline with a key and no log: signed without the network
  const offline = await runCli(
    [
      'verify',
      ARTIFACT,
      '--evidence',
      EVIDENCE,
      ...EVIDENCE_TRUST,
      '--offline',
      '--policy',
      'pass.yaml',
    ].concat(['--write-vsa', 'offline.intoto.json', ...VSA_SIGNING]),
    dir,
    ENV,
  )
  assert.equal(offline.code, 0, offline.stdout + offline.stderr)
})
