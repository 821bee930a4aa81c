/**
 * verify --evidence --rescan on a prepared workspace: the scan at build time knew no vulnerabilities
 * (an OSV export holding one npm record that affects none of the packages: an empty export is no clean
 * scan); the rescan finds those published since, offline or through a loopback OSV API,
 * a policy gates on them, and an unreachable OSV is exit 3.
 */
import assert from 'node:assert/strict'
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { verifyEvidence } from '../../src/evidence/index.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { digestBytes } from '../../src/util/digest.ts'
import { silentLogger } from '../../src/util/log.ts'
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
let osv: OsvFake
/** what a scan of the bundled SBOM against today's records finds */
let today: Array<{ id: string; purl: string }>

before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-evidence-'))
  const out = path.join(dir, '.detbuild')
  await mkdir(path.join(out, 'artifacts'), { recursive: true })
  await mkdir(path.join(dir, 'old-export'))
  await copyFile(
    path.join(RECORDS, 'GHSA-p6mc-m468-83gw.json'),
    path.join(dir, 'old-export', 'GHSA-p6mc-m468-83gw.json'),
  )
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
      outputs: [
        {
          path: 'artifacts/app-1.0.0.tgz',
          size: d.size,
          sha256: d.sha256,
          sha512: d.sha512,
          integrity: d.integrity,
        },
      ],
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
  const steps = [
    ['scan', '--offline-db', 'old-export'],
    ['policy', '--warn-only'],
    ['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'],
    ['bundle', '--key', 'k.key', '--no-tlog'],
    ['scan', '--offline-db', RECORDS, '--out', 'today'],
  ]
  await copyFile(SBOM, path.join(dir, 'sbom-copy.cdx.json'))
  steps[4]!.push('--sbom', 'sbom-copy.cdx.json')
  for (const s of steps) {
    const run = await runCli(s, dir, ENV)
    assert.equal(run.code, 0, `${s[0]}: ${run.stderr}`)
  }
  const bundledVulns = JSON.parse(await readFile(path.join(out, 'vulns.json'), 'utf8'))
  assert.equal(bundledVulns.findings.length, 0, 'the build-time scan knew nothing')
  today = JSON.parse(await readFile(path.join(dir, 'today/vulns.json'), 'utf8')).findings
  assert.ok(today.length > 0)
  osv = await startOsvFake(loadRecords(RECORDS))
})
after(async () => {
  await osv.close()
  await rm(dir, { recursive: true, force: true })
})

interface Report {
  verified: boolean
  checks: Record<string, string>
  rescan: { complete: boolean; newFindings: Array<{ id: string; purl: string }> } | null
  policy: { verdict: string; failing: string[]; vulnsFrom: string } | null
  failures: Array<{ code: string }>
}

async function verify(extra: string[]): Promise<{ code: number; report: Report }> {
  const run = await runCli(
    ['--json', 'verify', ARTIFACT, '--evidence', '.detbuild/evidence.tar.gz', ...TRUST, ...extra],
    dir,
    ENV,
  )
  return { code: run.code, report: run.json() as Report }
}

const ids = (fs: Array<{ id: string; purl: string }>) => fs.map((f) => `${f.id} ${f.purl}`).sort()

test('--rescan (offline export) reports the findings published since the build; alone it does not fail', async () => {
  const { code, report } = await verify(['--rescan', '--offline-db', RECORDS])
  assert.equal(code, 0)
  assert.equal(report.checks.rescan, 'pass')
  assert.deepEqual(ids(report.rescan!.newFindings), ids(today))
  const text = await runCli(
    [
      'verify',
      ARTIFACT,
      '--evidence',
      '.detbuild/evidence.tar.gz',
      ...TRUST,
      '--rescan',
      '--offline-db',
      RECORDS,
    ],
    dir,
    ENV,
  )
  assert.match(text.stdout, new RegExp(`${today.length} new finding`))
})

test('--rescan through the OSV API (loopback fake) finds the same', async () => {
  const { code, report } = await verify(['--rescan', '--osv-url', osv.url])
  assert.equal(code, 0, JSON.stringify(report.failures))
  assert.deepEqual(ids(report.rescan!.newFindings), ids(today))
  assert.ok(osv.requests.querybatch > 0)
})

test("--policy with --rescan gates on today's vulnerabilities; without --rescan on the bundled scan", async () => {
  const before = await verify(['--policy', 'default'])
  assert.equal(before.report.policy!.vulnsFrom, 'bundle')
  assert.ok(!before.report.policy!.failing.includes('vulnerabilities.severity'))
  const now = await verify(['--policy', 'default', '--rescan', '--offline-db', RECORDS])
  assert.equal(now.code, 1)
  assert.equal(now.report.policy!.vulnsFrom, 'bundle+rescan')
  assert.ok(now.report.policy!.failing.includes('vulnerabilities.severity'))
  assert.deepEqual(
    now.report.failures.map((f) => f.code),
    ['EVIDENCE_POLICY_FAILED'],
  )
})

test('--rescan when OSV cannot be reached: exit 3, never a pass', async () => {
  osv.always.querybatch = { kind: '500' }
  try {
    const result = await verifyEvidence({
      cwd: dir,
      evidence: '.detbuild/evidence.tar.gz',
      artifact: ARTIFACT,
      key: 'k.pub',
      trustedRoot: 'root.json',
      insecureIgnoreTlog: true,
      rescan: true,
      osvUrl: osv.url,
      env: {},
      now: new Date(),
      log: silentLogger,
      client: { retries: 0 },
    })
    assert.equal(result.exitCode, 3)
    assert.equal(result.report.verified, false)
    assert.equal(result.report.checks.rescan, 'incomplete')
    assert.deepEqual(result.report.failures, [])
  } finally {
    osv.always.querybatch = null
  }
})

test('the verdict is deterministic: two verifications print the same JSON', async () => {
  const a = await runCli(
    [
      '--json',
      'verify',
      ARTIFACT,
      '--evidence',
      '.detbuild/evidence.tar.gz',
      ...TRUST,
      '--rescan',
      '--offline-db',
      RECORDS,
    ],
    dir,
    ENV,
  )
  const b = await runCli(
    [
      '--json',
      'verify',
      ARTIFACT,
      '--evidence',
      '.detbuild/evidence.tar.gz',
      ...TRUST,
      '--rescan',
      '--offline-db',
      RECORDS,
    ],
    dir,
    ENV,
  )
  assert.equal(a.stdout, b.stdout)
})
