/**
 * A workspace file made from other inputs than the ones present is never signed, and a signed one is
 * rejected: the reproduction (build 1.0.0 with --check and sign, bump the version, build again
 * without --check, bundle), garbage files, a missing artifact, and evidence signed over such files
 * (re-signed here with the real key, as an attacker with the key or a buggy bundler would).
 */
import assert from 'node:assert/strict'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { packEvidence, readEvidenceArchive, toManifest } from '../../src/evidence/index.ts'
import { DEFAULT_LIMITS } from '../../src/evidence/types.ts'
import { resolveSigningConfig } from '../../src/sign/config.ts'
import { signFile } from '../../src/sign/index.ts'
import { stableJson } from '../../src/util/canonical-json.ts'
import { makeProject, removeProject, TSC_ENV } from '../builder/helpers.ts'
import { runCli } from './helpers.ts'

const RECORDS = path.resolve(import.meta.dirname, '../../fixtures/osv/records')
const ENV = { ...TSC_ENV, SOURCE_DATE_EPOCH: '1700000000' }
const TRUST = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
const ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})

let project: string
let out: string
/** the evidence of the good 1.0.0 workspace, as members */
let good: Map<string, Buffer>
let artifact: string

async function step(args: string[]): Promise<void> {
  const run = await runCli(args, project, ENV)
  assert.equal(run.code, 0, `${args[0]}: ${run.stderr}`)
}

interface ErrorJson {
  error: { code: string; file?: string; details?: { problems: Array<{ code: string; file: string }> } }
}

async function bundle(extra: string[] = []): Promise<{ code: number; error: ErrorJson['error'] }> {
  const run = await runCli(['--json', 'bundle', '--key', 'k.key', '--no-tlog', ...extra], project, ENV)
  return {
    code: run.code,
    error: run.code === 0 ? ({} as ErrorJson['error']) : (run.json() as ErrorJson).error,
  }
}

before(async () => {
  project = makeProject('ts-lib')
  out = path.join(project, '.detbuild')
  await step(['build', '--config', 'detbuild.offline.json', '--check'])
  await step(['sbom'])
  await step(['scan', '--offline-db', RECORDS])
  await step(['policy'])
  await step(['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'])
  await step(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'])
  await step(['bundle', '--key', 'k.key', '--no-tlog'])
  await writeFile(path.join(project, 'root.json'), ROOT)
  good = await readEvidenceArchive(await readFile(path.join(out, 'evidence.tar.gz')), DEFAULT_LIMITS)
  const build = JSON.parse(good.get('build.json')!.toString('utf8'))
  artifact = `.detbuild/${build.outputs[0].path}`
})
after(() => removeProject(project))

/** Signs `members` (without the manifest) as `detbuild bundle` would, with the project's key. */
async function signed(members: Map<string, Buffer>): Promise<string> {
  const files = new Map([...members].filter(([n]) => n !== 'manifest.json' && n !== 'manifest.sigstore.json'))
  const manifestJson = JSON.parse(good.get('manifest.json')!.toString('utf8'))
  const artifacts = manifestJson.artifacts.map((a: { path: string }) => ({
    path: a.path,
    data: Buffer.alloc(0),
    included: false,
  }))
  const manifest = toManifest(files, artifacts, 1700000000)
  // the artifacts' digests are the real ones (toManifest hashed empty placeholders)
  manifest.artifacts = manifestJson.artifacts
  const bytes = Buffer.from(stableJson(manifest))
  const signing = await resolveSigningConfig({ key: 'k.key', tlog: false }, { cwd: project, env: {} })
  const all = new Map<string, Uint8Array>(files)
    .set('manifest.json', bytes)
    .set('manifest.sigstore.json', Buffer.from(stableJson(await signFile(bytes, signing))))
  await writeFile(path.join(project, 'forged.tar.gz'), packEvidence(all, 1700000000))
  return 'forged.tar.gz'
}

async function verify(archive: string): Promise<{ code: number; failures: Array<[string, string]> }> {
  const run = await runCli(['--json', 'verify', artifact, '--evidence', archive, ...TRUST], project, ENV)
  const report = run.json() as { failures: Array<{ code: string; file: string }> }
  return { code: run.code, failures: report.failures.map((f) => [f.code, f.file]) }
}

test('the genuine evidence passes the consistency check', async () => {
  const run = await runCli(
    ['--json', 'verify', artifact, '--evidence', '.detbuild/evidence.tar.gz', ...TRUST],
    project,
    ENV,
  )
  assert.equal(run.code, 0, run.stdout)
  assert.equal((run.json() as { checks: { consistency: string } }).checks.consistency, 'pass')
})

test('verify: signed files whose input links do not hold are rejected, each with its code', async () => {
  // a scan of another SBOM
  const vulns = JSON.parse(good.get('vulns.json')!.toString('utf8'))
  vulns.sbom.sha256 = 'a'.repeat(64)
  const staleVulns = new Map(good).set('vulns.json', Buffer.from(stableJson(vulns)))
  const v = await verify(await signed(staleVulns))
  assert.equal(v.code, 1)
  assert.ok(
    v.failures.some(([c, f]) => c === 'EVIDENCE_STALE_INPUT' && f === 'vulns.json'),
    JSON.stringify(v.failures),
  )

  // provenance subjects that are not the manifest's artifacts
  const prov = JSON.parse(good.get('provenance.intoto.json')!.toString('utf8'))
  prov.subject[0].digest.sha256 = 'b'.repeat(64)
  const other = new Map(good).set('provenance.intoto.json', Buffer.from(stableJson(prov)))
  const s = await verify(await signed(other))
  assert.equal(s.code, 1)
  const codes = s.failures.map(([c, f]) => `${c} ${f}`)
  assert.ok(codes.includes('EVIDENCE_SUBJECTS_MISMATCH provenance.intoto.json'), codes.join('; '))
  assert.ok(codes.includes('EVIDENCE_ARTIFACT_NOT_IN_PROVENANCE provenance.intoto.json'), codes.join('; '))
  // the signature and signatures.json were made over the old statement
  assert.ok(codes.includes('EVIDENCE_STALE_INPUT provenance.sigstore.json'), codes.join('; '))
  assert.ok(codes.includes('EVIDENCE_STALE_INPUT signatures.json'), codes.join('; '))

  // garbage signed as vulns.json
  const garbage = new Map(good).set('vulns.json', Buffer.from('{"schemaVersion":1,"findings":"none"}'))
  const g = await verify(await signed(garbage))
  assert.equal(g.code, 1)
  assert.ok(g.failures.some(([c, f]) => c === 'EVIDENCE_FILE_INVALID' && f === 'vulns.json'))

  // a signature signatures.json lists, left out of the evidence
  const dropped = new Map(good)
  dropped.delete('provenance.sigstore.json')
  const m = await verify(await signed(dropped))
  assert.equal(m.code, 1)
  assert.deepEqual(m.failures, [['EVIDENCE_INPUT_MISSING', 'signatures.json']])

  // a sourceDateEpoch the manifest claims against build.json
  const build = JSON.parse(good.get('build.json')!.toString('utf8'))
  build.sourceDateEpoch = 1600000000
  const epoch = new Map(good).set('build.json', Buffer.from(stableJson(build)))
  const e = await verify(await signed(epoch))
  assert.ok(
    e.failures.some(([c]) => c === 'EVIDENCE_MANIFEST_CONTRADICTED'),
    JSON.stringify(e.failures),
  )
})

test('bundle refuses garbage: exit 2 naming the file, nothing signed', async () => {
  const file = path.join(out, 'repro-report.json')
  const saved = await readFile(file)
  await rm(path.join(out, 'evidence.tar.gz'))
  try {
    await writeFile(file, '{"schemaVersion": 1, "reproducible": "yes"}')
    const r = await bundle()
    assert.equal(r.code, 2)
    assert.equal(r.error.code, 'BUNDLE_FILE_INVALID')
    assert.equal(r.error.file, '.detbuild/repro-report.json')
    await writeFile(file, 'not json at all')
    const n = await bundle()
    assert.equal(n.code, 2)
    assert.equal(n.error.code, 'BUNDLE_FILE_INVALID')
    await assert.rejects(readFile(path.join(out, 'evidence.tar.gz')), { code: 'ENOENT' })
  } finally {
    await writeFile(file, saved)
  }
  const sig = path.join(out, 'provenance.sigstore.json')
  const savedSig = await readFile(sig)
  try {
    await writeFile(sig, '{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}')
    const b = await bundle()
    assert.equal(b.code, 2)
    assert.equal(b.error.code, 'BUNDLE_FILE_INVALID')
    assert.equal(b.error.file, '.detbuild/provenance.sigstore.json')
  } finally {
    await writeFile(sig, savedSig)
  }
  assert.equal((await bundle()).code, 0)
})

test('bundle --include-artifacts with an artifact missing: exit 2', async () => {
  const file = path.join(project, artifact)
  const saved = await readFile(file)
  try {
    await rm(file)
    for (const extra of [['--include-artifacts'], []]) {
      const r = await bundle(extra)
      assert.equal(r.code, 2)
      assert.equal(r.error.code, 'BUNDLE_ARTIFACT_MISSING')
    }
  } finally {
    await writeFile(file, saved)
  }
})

// last: it changes the workspace for good
test('the issue: repro-report and provenance signature of 1.0.0 are not signed into the evidence of 1.0.1', async () => {
  const pkg = path.join(project, 'package.json')
  await writeFile(pkg, (await readFile(pkg, 'utf8')).replace('"version": "1.0.0"', '"version": "1.0.1"'))
  await step(['build', '--config', 'detbuild.offline.json'])
  const r = await bundle()
  assert.equal(r.code, 2)
  assert.equal(r.error.code, 'BUNDLE_STALE_INPUT')
  const stale = r.error.details!.problems.map((p) => `${p.code} ${p.file}`)
  for (const f of ['repro-report.json', 'provenance.sigstore.json', 'signatures.json', 'policy.json'])
    assert.ok(stale.includes(`BUNDLE_STALE_INPUT .detbuild/${f}`), `${f}: ${stale.join('; ')}`)
  // once the steps run again, the workspace is consistent and is signed
  await rm(path.join(out, 'repro-report.json'))
  await rm(path.join(out, 'repro-report.md'))
  await step(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'])
  // after sign: a policy run before would have judged the previous signatures.json
  await step(['policy'])
  const ok = await bundle()
  assert.equal(ok.code, 0, JSON.stringify(ok.error))
})
