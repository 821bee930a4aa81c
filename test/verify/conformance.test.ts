/**
 * sigstore-conformance offline bundle-verify cases (70, each with the artifact path and as
 * sha256:<hex>) and genuine npm bundles, read from fixtures/sigstore (vendored, with source and licence notes).
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { isDetbuildError } from '../../src/errors.ts'
import { verifyArtifact } from '../../src/verify/index.ts'
import { FIXTURES, runCli } from '../helpers/sigstore-mock-server.ts'

interface Case {
  id: string
  artifact: string
  bundle: string
  identity: string | null
  issuer: string | null
  key?: string
  trusted_root: string
  expect: 'pass' | 'fail'
}

const present = existsSync(path.join(FIXTURES, 'cases.json'))
const missing = `sigstore fixtures missing: expected ${FIXTURES} (fixtures/sigstore in the repository)`

function loadCases(file: string): { base: string; cases: Case[] } {
  if (!present) return { base: '', cases: [] }
  return {
    base: path.dirname(file),
    cases: (JSON.parse(readFileSync(file, 'utf8')) as { cases: Case[] }).cases,
  }
}

/** 'pass', or 'fail' with the reason (a verify failure, or a bad-input error with exit 2). */
async function outcome(
  base: string,
  c: Case,
  artifact: string,
): Promise<{ result: 'pass' | 'fail'; code: string }> {
  try {
    const r = await verifyArtifact({
      cwd: base,
      artifact,
      bundle: c.bundle,
      trustedRoot: c.trusted_root,
      ...(c.key ? { key: c.key } : { certificateIdentity: c.identity!, certificateOidcIssuer: c.issuer! }),
    })
    return r.verified ? { result: 'pass', code: 'OK' } : { result: 'fail', code: r.failure!.code }
  } catch (e) {
    // only deliberate bad-input errors count as a rejection; a crash is a test failure
    assert.ok(isDetbuildError(e), `unexpected error: ${String(e)}`)
    assert.equal(e.exitCode, 2, `${e.code}: ${e.message}`)
    return { result: 'fail', code: e.code }
  }
}

test('the vendored sigstore fixtures are present', () => {
  assert.ok(present, missing)
})

const conformance = loadCases(path.join(FIXTURES, 'conformance', 'cases.json'))
const npm = loadCases(path.join(FIXTURES, 'cases.json'))

test('conformance: 70 cases', () => {
  assert.equal(conformance.cases.length, 70)
})

for (const c of conformance.cases) {
  test(`conformance ${c.id} (path) → ${c.expect}`, async () => {
    const got = await outcome(conformance.base, c, c.artifact)
    assert.equal(got.result, c.expect, `got ${got.result} (${got.code})`)
  })
  test(`conformance ${c.id} (sha256:<hex>) → ${c.expect}`, async () => {
    const hex = createHash('sha256')
      .update(readFileSync(path.join(conformance.base, c.artifact)))
      .digest('hex')
    const got = await outcome(conformance.base, c, `sha256:${hex}`)
    assert.equal(got.result, c.expect, `got ${got.result} (${got.code})`)
  })
}

for (const c of npm.cases) {
  test(`npm ${c.id} → ${c.expect}`, async () => {
    const got = await outcome(npm.base, c, c.artifact)
    assert.equal(got.result, c.expect, `got ${got.result} (${got.code})`)
  })
}

test('specific conformance failures carry the expected codes', async () => {
  const byId = new Map(conformance.cases.map((c) => [c.id, c]))
  const expectations: Array<[string, string]> = [
    ['trust-root-tlog-missing-validity-start_fail', 'VERIFY_TRUSTED_ROOT_INVALID'],
    ['bundle-malformed-json_fail', 'VERIFY_BUNDLE_NOT_JSON'],
    ['wrong-material_fail', 'VERIFY_DIGEST_MISMATCH'],
    ['message-digest-mismatch_fail', 'VERIFY_DIGEST_MISMATCH'],
    ['bundle-from-wrong-instance_fail', 'VERIFY_CHAIN_UNTRUSTED'],
    ['bundle-with-root-cert_fail', 'VERIFY_CHAIN_UNTRUSTED'],
    ['signature-mismatch_fail', 'VERIFY_SIGNATURE_INVALID'],
    ['managed-key-no-key_fail', 'VERIFY_KEY_MISMATCH'],
    ['rekor2-no-timestamp_fail', 'VERIFY_TIMESTAMP_INVALID'],
    ['inclusion-proof-corrupted-hash_fail', 'VERIFY_TLOG_INVALID'],
  ]
  for (const [id, code] of expectations) {
    const c = byId.get(id)
    assert.ok(c, id)
    assert.equal((await outcome(conformance.base, c, c.artifact)).code, code, id)
  }
})

test('npm provenance: a sha256 form cannot match sha512-only subjects, sha512:<hex> can', async () => {
  const c = npm.cases.find((x) => x.id === 'npm-sigstore-2.0.0-provenance')!
  const data = readFileSync(path.join(npm.base, c.artifact))
  const sha512 = await outcome(npm.base, c, `sha512:${createHash('sha512').update(data).digest('hex')}`)
  assert.equal(sha512.result, 'pass')
  const sha256 = await outcome(npm.base, c, `sha256:${createHash('sha256').update(data).digest('hex')}`)
  assert.deepEqual(sha256, { result: 'fail', code: 'VERIFY_DIGEST_MISMATCH' })
})

test('CLI: exit 0 verified, 1 failed check, 2 malformed bundle; --json carries the code', async () => {
  const base = conformance.base
  const flags = (c: Case) => [
    '--bundle',
    c.bundle,
    '--trusted-root',
    c.trusted_root,
    '--certificate-identity',
    c.identity!,
    '--certificate-oidc-issuer',
    c.issuer!,
  ]
  const byId = new Map(conformance.cases.map((c) => [c.id, c]))
  const ok = byId.get('happy-path-v0.3')!
  assert.equal((await runCli(['verify', ok.artifact, ...flags(ok)], base)).code, 0)
  const bad = byId.get('signature-mismatch_fail')!
  const run = await runCli(['--json', 'verify', bad.artifact, ...flags(bad)], base)
  assert.equal(run.code, 1)
  const data = run.json() as { verified: boolean; failure: { code: string } }
  assert.equal(data.verified, false)
  assert.equal(data.failure.code, 'VERIFY_SIGNATURE_INVALID')
  const malformed = byId.get('bundle-malformed-json_fail')!
  const m = await runCli(['--json', 'verify', malformed.artifact, ...flags(malformed)], base)
  assert.equal(m.code, 2)
  assert.equal((m.json() as { error: { code: string } }).error.code, 'VERIFY_BUNDLE_NOT_JSON')
  // the identity regexp is anchored: a prefix alone does not match
  const prefix = await runCli(
    [
      'verify',
      ok.artifact,
      '--bundle',
      ok.bundle,
      '--trusted-root',
      ok.trusted_root,
      '--certificate-identity-regexp',
      'https://github\\.com/sigstore-conformance/',
      '--certificate-oidc-issuer',
      ok.issuer!,
    ],
    base,
  )
  assert.equal(prefix.code, 1)
  const whole = await runCli(
    [
      'verify',
      ok.artifact,
      '--bundle',
      ok.bundle,
      '--trusted-root',
      ok.trusted_root,
      '--certificate-identity-regexp',
      'https://github\\.com/sigstore-conformance/.*',
      '--certificate-oidc-issuer',
      ok.issuer!,
    ],
    base,
  )
  assert.equal(whole.code, 0)
})
