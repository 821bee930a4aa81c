/**
 * The deploy gate: evidence whose signed scan holds findings; a rescan against an empty export, or an
 * OSV API that answers nothing, must not make them disappear. A rescan only adds; each finding of the
 * verdict names where it came from.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { sameFinding, unionFindings } from '../../src/evidence/rescan.ts'
import type { Finding } from '../../src/scan/types.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { digestBytes, sha256Hex } from '../../src/util/digest.ts'
import { loadRecords, type OsvFake, startOsvFake } from '../helpers/osv-server.ts'
import { runCli } from './helpers.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const RECORDS = path.join(REPO, 'fixtures/osv/records')
const SBOM = path.join(REPO, 'test/scan/fixtures/vulnerable-app.cdx.json')
const ENV = { SOURCE_DATE_EPOCH: '1700000000' }
const ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})
const TRUST = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'

let dir: string
let empty: OsvFake
let full: OsvFake
let signed: { sha256: string; findings: Array<{ id: string; purl: string }> }

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-gate-'))
  const out = path.join(dir, '.detbuild')
  await mkdir(path.join(out, 'artifacts'), { recursive: true })
  await mkdir(path.join(dir, 'empty-export'))
  await copyFile(SBOM, path.join(out, 'sbom.cdx.json'))
  const bytes = Buffer.from('tarball bytes\n')
  await writeFile(path.join(dir, ARTIFACT), bytes)
  const d = digestBytes(bytes)
  await writeFile(
    path.join(out, 'build.json'),
    stableJson({
      schemaVersion: 1,
      sourceDateEpoch: 1700000000,
      reproducibility: { checked: false, reproducible: null, report: null },
      outputs: [{ path: 'artifacts/app-1.0.0.tgz', ...d }],
    }),
  )
  await writeFile(
    path.join(out, 'provenance.intoto.json'),
    stableJson({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'app-1.0.0.tgz', digest: { sha256: d.sha256, sha512: d.sha512 } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: { buildType: 'https://detbuild.dev/build-types/npm/v1', externalParameters: {} },
        runDetails: { builder: { id: 'https://detbuild.dev/builders/local/v1' } },
      },
    }),
  )
  await writeFile(path.join(dir, 'root.json'), ROOT)
  for (const s of [
    // at build time the scan knew the vulnerabilities: they are signed evidence
    ['scan', '--offline-db', RECORDS],
    ['policy', '--warn-only'],
    ['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'],
    ['bundle', '--key', 'k.key', '--no-tlog'],
  ]) {
    const run = await runCli(s, dir, ENV)
    assert.equal(run.code, 0, `${s[0]}: ${run.stderr}`)
  }
  const vulns = await readFile(path.join(out, 'vulns.json'))
  signed = { sha256: sha256Hex(vulns), findings: JSON.parse(vulns.toString('utf8')).findings }
  assert.ok(signed.findings.length > 0, 'the signed scan holds findings')
  empty = await startOsvFake([])
  full = await startOsvFake(loadRecords(RECORDS))
})
after(async () => {
  await empty.close()
  await full.close()
  await rm(dir, { recursive: true, force: true })
})

interface Report {
  verified: boolean
  checks: Record<string, string>
  rescan: {
    complete: boolean
    newFindings: unknown[]
    findings: Array<{ id: string; purl: string; from: string[] }>
    sources: {
      evidence: { file: string; sha256: string } | null
      rescan: { kind: string; url?: string; exportSha256?: string }
    }
  } | null
  policy: { verdict: string; failing: string[]; vulnsFrom: string } | null
  failures: Array<{ code: string }>
}

async function verify(
  extra: string[],
  json = true,
): Promise<{ code: number; report: Report; stdout: string }> {
  const run = await runCli(
    [
      ...(json ? ['--json'] : []),
      'verify',
      ARTIFACT,
      '--evidence',
      '.detbuild/evidence.tar.gz',
      ...TRUST,
      ...extra,
    ],
    dir,
    ENV,
  )
  return { code: run.code, report: json ? (run.json() as Report) : ({} as Report), stdout: run.stdout }
}

const keys = (fs: Array<{ id: string; purl: string }>) => fs.map((f) => `${f.id} ${f.purl}`).sort()

test('without a rescan the signed findings fail the default policy', async () => {
  const { code, report } = await verify(['--policy', 'default'])
  assert.equal(code, 1)
  assert.deepEqual(
    report.failures.map((f) => f.code),
    ['EVIDENCE_POLICY_FAILED'],
  )
})

test('a rescan against an empty export does not erase the signed findings', async () => {
  const { code, report } = await verify(['--policy', 'default', '--rescan', '--offline-db', 'empty-export'])
  // the signed findings still fail the policy (a definite no, exit 1); the empty export itself could not look
  assert.equal(code, 1)
  assert.equal(report.checks.rescan, 'incomplete')
  assert.equal(report.policy!.vulnsFrom, 'bundle')
  assert.ok(report.policy!.failing.includes('vulnerabilities.severity'))
  assert.deepEqual(
    report.failures.map((f) => f.code),
    ['EVIDENCE_POLICY_FAILED'],
  )
  assert.deepEqual(keys(report.rescan!.findings), keys(signed.findings))
  for (const f of report.rescan!.findings) assert.deepEqual(f.from, ['evidence'])
  assert.deepEqual(report.rescan!.sources.evidence, { file: 'vulns.json', sha256: signed.sha256 })
  assert.equal(report.rescan!.sources.rescan.kind, 'offline')
  assert.match(report.rescan!.sources.rescan.exportSha256 ?? '', /^[0-9a-f]{64}$/)
})

test('a rescan through an OSV API that answers nothing does not erase them either', async () => {
  const { code, report } = await verify(['--policy', 'default', '--rescan', '--osv-url', empty.url])
  assert.equal(code, 1)
  assert.equal(report.checks.policy, 'fail')
  assert.deepEqual(keys(report.rescan!.findings), keys(signed.findings))
  assert.equal(report.rescan!.sources.rescan.url, empty.url)
  assert.ok(empty.requests.querybatch > 0)
})

test('a rescan that sees the same findings marks them as seen by both; nothing is new', async () => {
  const { report } = await verify(['--rescan', '--osv-url', full.url])
  assert.deepEqual(report.rescan!.newFindings, [])
  assert.deepEqual(keys(report.rescan!.findings), keys(signed.findings))
  for (const f of report.rescan!.findings) assert.deepEqual(f.from, ['evidence', 'rescan'])
})

test('the human verdict names where each finding came from', async () => {
  const { code, stdout } = await verify(['--policy', 'default', '--rescan', '--osv-url', empty.url], false)
  assert.equal(code, 1)
  assert.match(stdout, new RegExp(`signed evidence \\(vulns\\.json sha256:${signed.sha256}\\)`))
  assert.ok(stdout.includes(`OSV API ${empty.url}`))
  const lines = stdout.split('\n').filter((l) => l.includes('from signed evidence'))
  assert.equal(lines.length, signed.findings.length)
})

const finding = (over: Partial<Finding>): Finding =>
  ({
    id: 'GHSA-aaaa-bbbb-cccc',
    aliases: ['CVE-2024-0001'],
    purl: 'pkg:npm/lodash@4.17.20',
    name: 'lodash',
    version: '4.17.20',
    records: [],
    severity: 'high',
    suppressed: null,
    bomRef: 'pkg:npm/lodash@4.17.20',
    ...over,
  }) as Finding

test('same finding: same package and version, and id/alias sets that intersect', () => {
  const signedOne = finding({})
  assert.ok(sameFinding(signedOne, finding({ id: 'CVE-2024-0001', aliases: [] })))
  assert.ok(sameFinding(signedOne, finding({ id: 'OSV-1', aliases: ['GHSA-aaaa-bbbb-cccc'] })))
  assert.ok(!sameFinding(signedOne, finding({ id: 'GHSA-other', aliases: ['CVE-2024-0002'] })))
  assert.ok(
    !sameFinding(signedOne, finding({ purl: 'pkg:npm/lodash@4.17.21', version: '4.17.21' })),
    'another version is another finding',
  )
  const fresh = [finding({ id: 'CVE-2024-0001', aliases: [] }), finding({ id: 'GHSA-new', aliases: [] })]
  const u = unionFindings([signedOne], fresh)
  assert.deepEqual(
    u.findings.map((f) => [f.id, u.origins.get(f)]),
    [
      ['GHSA-aaaa-bbbb-cccc', ['evidence', 'rescan']],
      ['GHSA-new', ['rescan']],
    ],
  )
  assert.deepEqual(
    u.added.map((f) => f.id),
    ['GHSA-new'],
  )
  // an empty rescan keeps every signed finding
  assert.deepEqual(
    unionFindings([signedOne], []).findings.map((f) => f.id),
    ['GHSA-aaaa-bbbb-cccc'],
  )
})
