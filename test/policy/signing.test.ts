/**
 * `detbuild policy` signing rules verify every bundle cryptographically (the verifier and trust flags of
 * `detbuild verify`): key-signed fixtures offline, keyless bundles against the loopback sigstore mock.
 */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  makeWorkspace,
  runCli,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'
import { ESCAPES } from '../verify/identity-regexp.test.ts'
import { cli, KEY_FLAGS, KEYS, project } from './helpers.ts'

type Rule = {
  id: string
  status: string
  evidence: { violations?: Array<{ code?: string; message: string }> }
}
type Result = { verdict: string; rules: Rule[]; error?: { code: string; message: string } }

const signing = (r: Result) =>
  r.rules
    .filter((x) => x.id.startsWith('signing.'))
    .map((x) => [x.id, x.status, x.evidence.violations?.[0]?.code ?? null])

async function policy(dir: string, flags: string[]): Promise<{ code: number; result: Result }> {
  const r = await cli(['--json', 'policy', '-C', dir, '--policy', 'strict', ...flags], dir)
  return { code: r.code, result: JSON.parse(r.stdout) as Result }
}

describe('signing rules with key-signed bundles (offline)', () => {
  it('the right key passes; no trust material fails closed with POLICY_SIGNING_NO_TRUST', async () => {
    const p = await project('good')
    try {
      const ok = await policy(p.dir, KEY_FLAGS)
      assert.equal(ok.code, 0)
      assert.deepEqual(signing(ok.result), [
        ['signing.provenance', 'pass', null],
        ['signing.artifacts', 'pass', null],
      ])
      const none = await policy(p.dir, [])
      assert.equal(none.code, 1)
      assert.deepEqual(signing(none.result), [
        ['signing.provenance', 'fail', 'POLICY_SIGNING_NO_TRUST'],
        ['signing.artifacts', 'fail', 'POLICY_SIGNING_NO_TRUST'],
      ])
    } finally {
      await p.cleanup()
    }
  })

  it('a garbage bundle with a claimed signer fails (exit 1, VERIFY_BUNDLE_INVALID)', async () => {
    const p = await project('good')
    try {
      await writeFile(
        path.join(p.out, 'provenance.sigstore.json'),
        JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }),
      )
      await writeFile(path.join(p.out, 'artifacts/demo-app-1.0.0.tgz.sigstore.json'), 'not json')
      // signatures.json claims a signer the policy would accept
      const sig = JSON.parse(await readFile(path.join(p.out, 'signatures.json'), 'utf8'))
      for (const b of sig.bundles) b.signer = { type: 'key', keyId: 'release-key' }
      await writeFile(path.join(p.out, 'signatures.json'), JSON.stringify(sig))
      const r = await policy(p.dir, KEY_FLAGS)
      assert.equal(r.code, 1)
      assert.deepEqual(signing(r.result), [
        ['signing.provenance', 'fail', 'VERIFY_BUNDLE_INVALID'],
        ['signing.artifacts', 'fail', 'VERIFY_BUNDLE_INVALID'],
      ])
    } finally {
      await p.cleanup()
    }
  })

  it('a bundle signed by another key fails (VERIFY_SIGNATURE_INVALID)', async () => {
    const p = await project('good')
    try {
      const flags = KEY_FLAGS.map((f) => (f.endsWith('signing.pub') ? path.join(KEYS, 'other.pub') : f))
      const r = await policy(p.dir, flags)
      assert.equal(r.code, 1)
      assert.deepEqual(signing(r.result), [
        ['signing.provenance', 'fail', 'VERIFY_SIGNATURE_INVALID'],
        ['signing.artifacts', 'fail', 'VERIFY_SIGNATURE_INVALID'],
      ])
    } finally {
      await p.cleanup()
    }
  })

  it('a tampered artifact or provenance fails', async () => {
    const p = await project('good')
    try {
      await writeFile(path.join(p.out, 'artifacts/demo-app-1.0.0.tgz'), 'tampered\n')
      const art = await policy(p.dir, KEY_FLAGS)
      assert.equal(art.code, 1)
      const arts = art.result.rules.find((x) => x.id === 'signing.artifacts')!
      assert.equal(arts.status, 'fail')
      assert.deepEqual(arts.evidence.violations?.map((v) => v.code).sort(), [
        'POLICY_SIGNED_FILE_CHANGED',
        'VERIFY_DIGEST_MISMATCH',
      ])
      const prov = path.join(p.out, 'provenance.intoto.json')
      await writeFile(prov, (await readFile(prov, 'utf8')).replace('slsa.dev', 'evil.example'))
      const r = await policy(p.dir, KEY_FLAGS)
      assert.deepEqual(signing(r.result)[0], [
        'signing.provenance',
        'fail',
        'POLICY_SIGNATURE_SUBJECT_MISMATCH',
      ])
    } finally {
      await p.cleanup()
    }
  })

  it("the scan's attestation (vulns.sigstore.json), when listed, must verify too", async () => {
    const p = await project('good')
    try {
      const sbom = await readFile(path.join(p.out, 'sbom.cdx.json'))
      const statement = {
        _type: 'https://in-toto.io/Statement/v1',
        subject: [
          { name: 'sbom.cdx.json', digest: { sha256: createHash('sha256').update(sbom).digest('hex') } },
        ],
        predicateType: 'https://in-toto.io/attestation/vulns/v0.1',
        predicate: { scanner: { uri: 'pkg:npm/detbuild', result: [] } },
      }
      await writeFile(path.join(p.out, 'vulns.intoto.json'), `${JSON.stringify(statement, null, 2)}\n`)
      const signed = await runCli(
        ['sign', '--key', path.join(KEYS, 'signing.key'), '--no-tlog', '--artifacts'],
        p.dir,
      )
      assert.equal(signed.code, 0, signed.stderr)
      const listed = JSON.parse(await readFile(path.join(p.out, 'signatures.json'), 'utf8')).bundles
      assert.ok(
        listed.some(
          (b: { file: string; subject: string; kind: string }) =>
            b.file === 'vulns.sigstore.json' && b.subject === 'vulns.intoto.json' && b.kind === 'dsse',
        ),
      )
      const ok = await policy(p.dir, KEY_FLAGS)
      assert.deepEqual(signing(ok.result)[0], ['signing.provenance', 'pass', null])
      // the attestation signed by another key: the provenance rule fails on it
      const other = await project('good')
      try {
        const stranger = await runCli(['keygen', '--output-prefix', 'stranger'], other.dir)
        assert.equal(stranger.code, 0, stranger.stderr)
        await writeFile(
          path.join(other.out, 'vulns.intoto.json'),
          await readFile(path.join(p.out, 'vulns.intoto.json')),
        )
        const resigned = await runCli(['sign', '--key', 'stranger.key', '--no-tlog'], other.dir)
        assert.equal(resigned.code, 0, resigned.stderr)
        await writeFile(
          path.join(p.out, 'vulns.sigstore.json'),
          await readFile(path.join(other.out, 'vulns.sigstore.json')),
        )
      } finally {
        await other.cleanup()
      }
      const bad = await policy(p.dir, KEY_FLAGS)
      assert.equal(bad.code, 1)
      assert.deepEqual(signing(bad.result)[0], ['signing.provenance', 'fail', 'VERIFY_SIGNATURE_INVALID'])
      // and a bundle over other bytes than vulns.intoto.json
      await writeFile(
        path.join(p.out, 'vulns.intoto.json'),
        `${JSON.stringify({ ...statement, predicate: {} })}\n`,
      )
      const changed = await policy(p.dir, KEY_FLAGS)
      assert.deepEqual(signing(changed.result)[0], [
        'signing.provenance',
        'fail',
        'POLICY_SIGNATURE_SUBJECT_MISMATCH',
      ])
    } finally {
      await p.cleanup()
    }
  })

  it('bad trust flags are exit 2 before anything is evaluated, escaping regexps included', async () => {
    const p = await project('good')
    try {
      const cases: Array<[string[], string]> = [
        [['--trusted-root', path.join(KEYS, 'empty-trusted-root.json')], 'VERIFY_USAGE'],
        [['--key', path.join(KEYS, 'signing.pub'), '--certificate-oidc-issuer', 'x'], 'VERIFY_USAGE'],
        ...ESCAPES.filter((e) => e !== '').map((re): [string[], string] => [
          ['--certificate-identity-regexp', re, '--certificate-oidc-issuer', GITHUB_ISSUER],
          'VERIFY_IDENTITY_REGEXP_INVALID',
        ]),
      ]
      for (const [flags, code] of cases) {
        const r = await cli(['--json', 'policy', '-C', p.dir, ...flags], p.dir)
        assert.equal(r.code, 2, flags.join(' '))
        assert.equal(JSON.parse(r.stdout).error.code, code, flags.join(' '))
      }
    } finally {
      await p.cleanup()
    }
  })
})

describe('signing rules with keyless bundles (loopback sigstore mock)', () => {
  let mock: SigstoreMock
  let ws: Awaited<ReturnType<typeof makeWorkspace>>
  before(async () => {
    mock = await startSigstoreMock()
    ws = await makeWorkspace()
    await writeFile(path.join(ws.dir, 'root.json'), JSON.stringify(mock.trustedRoot))
    const token = fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER })
    const sign = await runCli(
      ['sign', '--artifacts', '--fulcio-url', mock.url, '--rekor-url', mock.url, '--tsa-url', mock.url],
      ws.dir,
      { SIGSTORE_ID_TOKEN: token },
    )
    assert.equal(sign.code, 0, sign.stderr)
    // the inputs the policy reads beside the signatures: an SBOM and a build manifest listing the artifact
    await writeFile(
      path.join(ws.out, 'sbom.cdx.json'),
      JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', version: 1, components: [] }),
    )
    const bytes = await readFile(ws.artifactPath)
    await writeFile(
      path.join(ws.out, 'build.json'),
      JSON.stringify({
        schemaVersion: 1,
        outputs: [
          { path: 'artifacts/app-1.0.0.tgz', sha256: createHash('sha256').update(bytes).digest('hex') },
        ],
      }),
    )
    await writeFile(
      path.join(ws.dir, 'signing.yaml'),
      'version: 1\nsigning:\n  provenance: true\n  artifacts: true\n  signers:\n    - issuer: https://token.actions.githubusercontent.com\n      identity: https://github.com/acme/*\n',
    )
  })
  after(async () => {
    await mock.close()
    await rm(ws.dir, { recursive: true, force: true })
  })

  const run = async (flags: string[]) => {
    const r = await runCli(
      ['--json', 'policy', '--policy', 'signing.yaml', '--trusted-root', 'root.json', ...flags],
      ws.dir,
    )
    return { code: r.code, result: r.json() as Result }
  }

  it('the right identity passes, judged from the verified certificate', async () => {
    const r = await run([
      '--certificate-identity',
      WORKFLOW_IDENTITY,
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
    ])
    assert.equal(r.code, 0, JSON.stringify(r.result))
    assert.deepEqual(signing(r.result), [
      ['signing.provenance', 'pass', null],
      ['signing.artifacts', 'pass', null],
    ])
    const anchored = await run([
      '--certificate-identity-regexp',
      'https://github\\.com/acme/.+',
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
    ])
    assert.equal(anchored.code, 0)
  })

  it('another identity or issuer fails (VERIFY_IDENTITY_MISMATCH)', async () => {
    for (const flags of [
      ['--certificate-identity', 'https://github.com/evil/x', '--certificate-oidc-issuer', GITHUB_ISSUER],
      [
        '--certificate-identity',
        WORKFLOW_IDENTITY,
        '--certificate-oidc-issuer',
        'https://accounts.example.com',
      ],
      // a prefix of the identity does not match: the regexp is anchored
      ['--certificate-identity-regexp', 'https://github\\.com/', '--certificate-oidc-issuer', GITHUB_ISSUER],
    ]) {
      const r = await run(flags)
      assert.equal(r.code, 1, flags.join(' '))
      assert.deepEqual(signing(r.result), [
        ['signing.provenance', 'fail', 'VERIFY_IDENTITY_MISMATCH'],
        ['signing.artifacts', 'fail', 'VERIFY_IDENTITY_MISMATCH'],
      ])
    }
  })

  it('a verified signer outside signing.signers fails (POLICY_SIGNER_NOT_ALLOWED)', async () => {
    const file = path.join(ws.dir, 'other-signers.yaml')
    await writeFile(file, 'version: 1\nsigning:\n  provenance: true\n  signers:\n    - identity: "a)|(.*"\n')
    const r = await runCli(
      [
        '--json',
        'policy',
        '--policy',
        'other-signers.yaml',
        '--trusted-root',
        'root.json',
        '--certificate-identity',
        WORKFLOW_IDENTITY,
        '--certificate-oidc-issuer',
        GITHUB_ISSUER,
      ],
      ws.dir,
    )
    assert.equal(r.code, 1)
    assert.deepEqual(signing(r.json() as Result), [
      ['signing.provenance', 'fail', 'POLICY_SIGNER_NOT_ALLOWED'],
    ])
  })
})

describe('detbuild run: the policy step verifies with the run verify options', () => {
  it('--verify-key passes the signing rules; without trust options they fail closed', async () => {
    const p = await project('good')
    try {
      const base = ['--json', 'run', '-C', p.dir, '--steps', 'policy', '--policy', 'strict']
      const trusted = await cli(
        [
          ...base,
          '--verify-key',
          path.join(KEYS, 'signing.pub'),
          '--insecure-ignore-tlog',
          '--trusted-root',
          path.join(KEYS, 'empty-trusted-root.json'),
        ],
        p.dir,
      )
      assert.equal(trusted.code, 0, trusted.stdout)
      const none = await cli(base, p.dir)
      assert.equal(none.code, 1)
      const report = JSON.parse(none.stdout) as {
        failedStep: string
        facts: { policy: { rules: Array<{ id: string; summary: string }> } }
      }
      assert.equal(report.failedStep, 'policy')
      assert.deepEqual(
        report.facts.policy.rules.map((r) => r.id),
        ['signing.provenance', 'signing.artifacts'],
      )
      assert.match(report.facts.policy.rules[0]!.summary, /no trust material/)
    } finally {
      await p.cleanup()
    }
  })
})
