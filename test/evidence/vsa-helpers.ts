/**
 * A project with signed evidence for the verification-summary tests: a workspace with an artifact, its
 * provenance and build record, the vulnerable-app SBOM scanned against the OSV fixture records, a policy
 * run, and an evidence archive key-signed without a transparency log (Ed25519: deterministic signatures).
 * Two policies: `pass.yaml` (every severity allowed) passes, `fail.yaml` (none allowed) fails.
 */
import assert from 'node:assert/strict'
import { copyFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { makeBundlableWorkspace, REPO_ROOT } from '../helpers/sigstore-mock-server.ts'
import { runCli } from './helpers.ts'

export const ENV = { SOURCE_DATE_EPOCH: '1700000000' }
export const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'
export const EVIDENCE = '.detbuild/evidence.tar.gz'
/** who signed the evidence (k) and a trusted root that trusts nothing: key signatures without a log */
export const EVIDENCE_TRUST = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
/** who signs the summary (v, the verifier) */
export const VSA_SIGNING = ['--vsa-key', 'v.key', '--vsa-no-tlog']
export const VSA_TRUST = ['--key', 'v.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
const ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})

export async function makeVsaProject(): Promise<string> {
  const ws = await makeBundlableWorkspace()
  await copyFile(
    path.join(REPO_ROOT, 'test/scan/fixtures/vulnerable-app.cdx.json'),
    path.join(ws.out, 'sbom.cdx.json'),
  )
  await writeFile(path.join(ws.dir, 'root.json'), ROOT)
  await writeFile(
    path.join(ws.dir, 'pass.yaml'),
    'version: 1\nname: pass\nvulnerabilities:\n  maxSeverity: critical\n',
  )
  await writeFile(
    path.join(ws.dir, 'fail.yaml'),
    'version: 1\nname: fail\nvulnerabilities:\n  maxSeverity: none\n',
  )
  for (const s of [
    ['scan', '--offline-db', path.join(REPO_ROOT, 'fixtures/osv/records')],
    ['policy', '--warn-only'],
    ['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'],
    ['keygen', '--algorithm', 'ed25519', '--output-prefix', 'v'],
    ['bundle', '--key', 'k.key', '--no-tlog'],
  ]) {
    const run = await runCli(s, ws.dir, ENV)
    assert.equal(run.code, 0, `${s[0]}: ${run.stderr}`)
  }
  return ws.dir
}
