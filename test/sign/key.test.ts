/** Key-based signing: keygen → sign --key → verify --key, tamper cases, determinism, key errors. */
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import {
  makeWorkspace,
  runCli,
  type SigstoreMock,
  startSigstoreMock,
} from '../helpers/sigstore-mock-server.ts'

const EMPTY_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})
const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'
const PROV = '.detbuild/provenance.sigstore.json'
const MSG = '.detbuild/artifacts/app-1.0.0.tgz.sigstore.json'
const PASSWORD = { DETBUILD_KEY_PASSWORD: 'correct horse battery staple' }

let mock: SigstoreMock
const dirs: string[] = []
before(async () => {
  mock = await startSigstoreMock()
})
after(async () => {
  await mock.close()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

async function workspace() {
  const ws = await makeWorkspace()
  dirs.push(ws.dir)
  await writeFile(path.join(ws.dir, 'root.json'), EMPTY_ROOT)
  return ws
}

async function verify(cwd: string, args: string[]): Promise<{ code: number; failure: string | undefined }> {
  const run = await runCli(['--json', 'verify', ...args], cwd)
  const data = run.json() as { failure?: { code: string } | null; error?: { code: string } }
  return { code: run.code, failure: data.failure?.code ?? data.error?.code }
}

for (const algorithm of ['ecdsa-p256', 'ecdsa-p384', 'ed25519']) {
  test(`${algorithm}: keygen (encrypted) → sign --key --no-tlog --artifacts → verify --key`, async () => {
    const ws = await workspace()
    const gen = await runCli(
      ['--json', 'keygen', '--algorithm', algorithm, '--output-prefix', 'keys/signing'],
      ws.dir,
      PASSWORD,
    )
    assert.equal(gen.code, 0, gen.stderr)
    assert.equal((gen.json() as { encrypted: boolean }).encrypted, true)
    assert.match(await readFile(path.join(ws.dir, 'keys/signing.key'), 'utf8'), /BEGIN ENCRYPTED PRIVATE KEY/)

    const sign = await runCli(
      ['sign', '--key', 'keys/signing.key', '--no-tlog', '--artifacts'],
      ws.dir,
      PASSWORD,
    )
    assert.equal(sign.code, 0, sign.stderr)
    const manifest = JSON.parse(await readFile(path.join(ws.out, 'signatures.json'), 'utf8'))
    const keyId = (gen.json() as { keyId: string }).keyId
    for (const b of manifest.bundles) assert.deepEqual([b.signer, b.tlog], [{ type: 'key', keyId }, false])

    const flags = ['--key', 'keys/signing.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
    assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', PROV, ...flags]), {
      code: 0,
      failure: undefined,
    })
    assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', MSG, ...flags]), {
      code: 0,
      failure: undefined,
    })
    // without --insecure-ignore-tlog a key-signed bundle still needs its log entry
    assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', PROV, ...flags.slice(0, -1)]), {
      code: 1,
      failure: 'VERIFY_TLOG_MISSING',
    })

    // wrong key
    const other = await runCli(['keygen', '--algorithm', algorithm, '--output-prefix', 'keys/other'], ws.dir)
    assert.equal(other.code, 0)
    const wrong = ['--key', 'keys/other.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
    assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', PROV, ...wrong]), {
      code: 1,
      failure: 'VERIFY_SIGNATURE_INVALID',
    })
    assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', MSG, ...wrong]), {
      code: 1,
      failure: 'VERIFY_SIGNATURE_INVALID',
    })

    // one changed byte in the artifact
    const data = await readFile(path.join(ws.dir, ARTIFACT))
    data[3] = data[3]! ^ 0x20
    await writeFile(path.join(ws.dir, 'tampered'), data)
    assert.deepEqual(await verify(ws.dir, ['tampered', '--bundle', PROV, ...flags]), {
      code: 1,
      failure: 'VERIFY_DIGEST_MISMATCH',
    })
    assert.deepEqual(await verify(ws.dir, ['tampered', '--bundle', MSG, ...flags]), {
      code: 1,
      failure: 'VERIFY_DIGEST_MISMATCH',
    })
  })
}

test('key + transparency log (fake Rekor): verify --key without --insecure-ignore-tlog', async () => {
  const ws = await workspace()
  await writeFile(path.join(ws.dir, 'mock-root.json'), JSON.stringify(mock.trustedRoot))
  assert.equal((await runCli(['keygen', '--output-prefix', 'k'], ws.dir)).code, 0)
  const sign = await runCli(['sign', '--key', 'k.key', '--rekor-url', mock.url, '--artifacts'], ws.dir)
  assert.equal(sign.code, 0, sign.stderr)
  const flags = ['--key', 'k.pub', '--trusted-root', 'mock-root.json']
  assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', PROV, ...flags]), {
    code: 0,
    failure: undefined,
  })
  assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', MSG, ...flags]), {
    code: 0,
    failure: undefined,
  })
  // a key bundle checked as keyless, and a keyless policy on it
  assert.deepEqual(
    await verify(ws.dir, [
      ARTIFACT,
      '--bundle',
      PROV,
      '--trusted-root',
      'mock-root.json',
      '--certificate-identity',
      'x',
      '--certificate-oidc-issuer',
      'y',
    ]),
    { code: 1, failure: 'VERIFY_KEY_MISMATCH' },
  )
})

test('Ed25519 without a log: sign twice gives byte-identical bundles and signatures.json', async () => {
  const ws = await workspace()
  assert.equal((await runCli(['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'], ws.dir)).code, 0)
  const files = ['provenance.sigstore.json', 'artifacts/app-1.0.0.tgz.sigstore.json', 'signatures.json']
  const snapshot = async () => Promise.all(files.map((f) => readFile(path.join(ws.out, f))))
  assert.equal((await runCli(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'], ws.dir)).code, 0)
  const first = await snapshot()
  assert.equal((await runCli(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'], ws.dir)).code, 0)
  const second = await snapshot()
  for (let i = 0; i < files.length; i++) assert.ok(first[i]!.equals(second[i]!), files[i])
})

test('key errors exit 2: encrypted without passphrase, wrong passphrase, not PKCS#8, unsupported curve', async () => {
  const ws = await workspace()
  assert.equal((await runCli(['keygen', '--output-prefix', 'enc'], ws.dir, PASSWORD)).code, 0)
  const code = async (args: string[], env: Record<string, string> = {}) => {
    const run = await runCli(['--json', 'sign', ...args], ws.dir, env)
    return [run.code, (run.json() as { error?: { code: string } }).error?.code]
  }
  assert.deepEqual(await code(['--key', 'enc.key', '--no-tlog']), [2, 'SIGN_KEY_PASSPHRASE_REQUIRED'])
  assert.deepEqual(await code(['--key', 'enc.key', '--no-tlog'], { DETBUILD_KEY_PASSWORD: 'nope' }), [
    2,
    'SIGN_KEY_PASSPHRASE_WRONG',
  ])
  assert.deepEqual(
    await code(['--key', 'enc.key', '--no-tlog', '--key-password-env', 'MY_PW'], {
      MY_PW: PASSWORD.DETBUILD_KEY_PASSWORD,
    }),
    [0, undefined],
  )
  await writeFile(
    path.join(ws.dir, 'sec1.key'),
    '-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n',
  )
  assert.deepEqual(await code(['--key', 'sec1.key', '--no-tlog']), [2, 'SIGN_KEY_INVALID'])
  const { generateKeyPairSync } = await import('node:crypto')
  const k = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  })
  await writeFile(path.join(ws.dir, 'k1.key'), k)
  assert.deepEqual(await code(['--key', 'k1.key', '--no-tlog']), [2, 'SIGN_KEY_UNSUPPORTED'])
  assert.deepEqual(await code(['--key', 'missing.key', '--no-tlog']), [2, 'SIGN_KEY_INVALID'])
  // keyless --no-tlog is refused
  assert.deepEqual(await code(['--no-tlog', '--identity-token', 'x']), [2, 'SIGN_USAGE'])
})

test('keygen refuses to overwrite without --force; sign needs provenance', async () => {
  const ws = await workspace()
  assert.equal((await runCli(['keygen'], ws.dir)).code, 0)
  assert.equal((await runCli(['keygen'], ws.dir)).code, 2)
  assert.equal((await runCli(['keygen', '--force'], ws.dir)).code, 0)
  await rm(path.join(ws.out, 'provenance.intoto.json'))
  const run = await runCli(['--json', 'sign', '--key', 'detbuild.key', '--no-tlog'], ws.dir)
  assert.equal(run.code, 2)
  assert.equal((run.json() as { error: { code: string } }).error.code, 'SIGN_PROVENANCE_MISSING')
})

test('vulns.intoto.json present: sign writes vulns.sigstore.json over it; gone: the bundle goes too', async () => {
  const ws = await workspace()
  const gen = await runCli(['keygen', '--output-prefix', 'k'], ws.dir)
  assert.equal(gen.code, 0, gen.stderr)
  const sbom = '{"bomFormat":"CycloneDX"}\n'
  await writeFile(path.join(ws.out, 'sbom.cdx.json'), sbom)
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'sbom.cdx.json', digest: { sha256: createHash('sha256').update(sbom).digest('hex') } }],
    predicateType: 'https://in-toto.io/attestation/vulns/v0.1',
    predicate: { scanner: { result: [] } },
  }
  await writeFile(path.join(ws.out, 'vulns.intoto.json'), JSON.stringify(statement))
  const sign = await runCli(['sign', '--key', 'k.key', '--no-tlog'], ws.dir)
  assert.equal(sign.code, 0, sign.stderr)
  const manifest = JSON.parse(await readFile(path.join(ws.out, 'signatures.json'), 'utf8'))
  assert.deepEqual(
    manifest.bundles.map((b: { file: string; kind: string; subject: string }) => [b.file, b.kind, b.subject]),
    [
      ['provenance.sigstore.json', 'dsse', 'provenance.intoto.json'],
      ['vulns.sigstore.json', 'dsse', 'vulns.intoto.json'],
    ],
  )
  const flags = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
  assert.deepEqual(
    await verify(ws.dir, ['.detbuild/sbom.cdx.json', '--bundle', '.detbuild/vulns.sigstore.json', ...flags]),
    {
      code: 0,
      failure: undefined,
    },
  )
  assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', '.detbuild/vulns.sigstore.json', ...flags]), {
    code: 1,
    failure: 'VERIFY_DIGEST_MISMATCH',
  })
  // not an in-toto statement: exit 2, nothing written
  await writeFile(path.join(ws.out, 'vulns.intoto.json'), '{"_type": 1}')
  const bad = await runCli(['--json', 'sign', '--key', 'k.key', '--no-tlog'], ws.dir)
  assert.equal(bad.code, 2)
  assert.equal((bad.json() as { error: { code: string } }).error.code, 'WORKSPACE_VULNS_STATEMENT_INVALID')
  await rm(path.join(ws.out, 'vulns.intoto.json'))
  const again = await runCli(['sign', '--key', 'k.key', '--no-tlog'], ws.dir)
  assert.equal(again.code, 0, again.stderr)
  await assert.rejects(readFile(path.join(ws.out, 'vulns.sigstore.json')), { code: 'ENOENT' })
})

test('DSSE envelopes carry no keyid (cosign skips a keyid it does not know); older bundles with one still verify', async () => {
  const ws = await workspace()
  const gen = await runCli(['--json', 'keygen', '--output-prefix', 'k'], ws.dir)
  assert.equal(gen.code, 0, gen.stderr)
  const keyId = (gen.json() as { keyId: string }).keyId
  assert.equal((await runCli(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'], ws.dir)).code, 0)
  const bundle = JSON.parse(await readFile(path.join(ws.dir, PROV), 'utf8'))
  assert.deepEqual(
    bundle.dsseEnvelope.signatures.map((s: object) => Object.keys(s)),
    [['sig']],
  )
  // the key id stays in the bundle's unauthenticated hint, as before (evidence inspect shows it)
  assert.equal(bundle.verificationMaterial.publicKey.hint, keyId)
  // a bundle as detbuild wrote it before (keyid = its key id; outside the signed bytes) still verifies
  bundle.dsseEnvelope.signatures[0].keyid = keyId
  await writeFile(path.join(ws.dir, 'old.sigstore.json'), JSON.stringify(bundle))
  const flags = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']
  assert.deepEqual(await verify(ws.dir, [ARTIFACT, '--bundle', 'old.sigstore.json', ...flags]), {
    code: 0,
    failure: undefined,
  })
})
