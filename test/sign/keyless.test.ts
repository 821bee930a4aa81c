/** Keyless sign → verify round trips against loopback fake Fulcio/Rekor/TSA (@sigstore/mock). */
import assert from 'node:assert/strict'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { after, before, test } from 'node:test'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  makeWorkspace,
  runCli,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'

let mock: SigstoreMock
let ws: Awaited<ReturnType<typeof makeWorkspace>>
const token = fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER })

before(async () => {
  mock = await startSigstoreMock()
  ws = await makeWorkspace()
  await writeFile(path.join(ws.dir, 'root.json'), JSON.stringify(mock.trustedRoot))
  const run = await runCli(
    ['sign', '--artifacts', '--fulcio-url', mock.url, '--rekor-url', mock.url, '--tsa-url', mock.url],
    ws.dir,
    { SIGSTORE_ID_TOKEN: token },
  )
  assert.equal(run.code, 0, run.stderr)
})
after(async () => {
  await mock.close()
  await rm(ws.dir, { recursive: true, force: true })
})

const verifyFlags = (bundle: string, identity = WORKFLOW_IDENTITY, issuer = GITHUB_ISSUER) => [
  '--bundle',
  bundle,
  '--trusted-root',
  'root.json',
  '--certificate-identity',
  identity,
  '--certificate-oidc-issuer',
  issuer,
]
const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'
const PROV = '.detbuild/provenance.sigstore.json'
const MSG = '.detbuild/artifacts/app-1.0.0.tgz.sigstore.json'

async function verifyCode(args: string[], cwd = ws.dir): Promise<{ code: number; failure?: string }> {
  const run = await runCli(['--json', 'verify', ...args], cwd)
  const data = run.json() as { failure?: { code: string } | null; error?: { code: string } }
  return { code: run.code, failure: data.failure?.code ?? data.error?.code }
}

test('keyless sign writes the provenance bundle, the artifact bundle and signatures.json', async () => {
  const manifest = JSON.parse(await readFile(path.join(ws.out, 'signatures.json'), 'utf8'))
  assert.equal(manifest.schemaVersion, 1)
  assert.deepEqual(
    manifest.bundles.map((b: { file: string; kind: string; subject: string }) => [b.file, b.kind, b.subject]),
    [
      ['artifacts/app-1.0.0.tgz.sigstore.json', 'message', 'artifacts/app-1.0.0.tgz'],
      ['provenance.sigstore.json', 'dsse', 'provenance.intoto.json'],
    ],
  )
  for (const b of manifest.bundles) {
    assert.deepEqual(b.signer, { type: 'keyless', identity: WORKFLOW_IDENTITY, issuer: GITHUB_ISSUER })
    assert.equal(b.tlog, true)
  }
  const bundle = JSON.parse(await readFile(path.join(ws.out, 'provenance.sigstore.json'), 'utf8'))
  assert.match(bundle.mediaType, /^application\/vnd\.dev\.sigstore\.bundle/)
  assert.equal(bundle.dsseEnvelope.payloadType, 'application/vnd.in-toto+json')
  assert.equal(bundle.verificationMaterial.timestampVerificationData.rfc3161Timestamps.length, 1)
  // both kinds are bundle v0.3, with the leaf certificate alone
  for (const file of ['provenance.sigstore.json', 'artifacts/app-1.0.0.tgz.sigstore.json']) {
    const b = JSON.parse(await readFile(path.join(ws.out, file), 'utf8'))
    assert.equal(b.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json', file)
    assert.ok(b.verificationMaterial.certificate?.rawBytes, file)
    assert.equal(b.verificationMaterial.x509CertificateChain, undefined, file)
  }
  // no temporary files left behind
  assert.deepEqual(
    (await readdir(ws.out)).filter((f) => f.endsWith('.tmp')),
    [],
  )
})

test('keyless round trip: DSSE and message bundles verify, also as sha256:<hex>', async () => {
  assert.deepEqual(await verifyCode([ARTIFACT, ...verifyFlags(PROV)]), { code: 0, failure: undefined })
  assert.deepEqual(await verifyCode([ARTIFACT, ...verifyFlags(MSG)]), { code: 0, failure: undefined })
  const manifest = JSON.parse(await readFile(path.join(ws.out, 'signatures.json'), 'utf8'))
  const sha = manifest.bundles[0].sha256
  assert.deepEqual(await verifyCode([`sha256:${sha}`, ...verifyFlags(MSG)]), { code: 0, failure: undefined })
  assert.deepEqual(await verifyCode([`sha256:${sha}`, ...verifyFlags(PROV)]), { code: 0, failure: undefined })
})

test('tamper: one changed byte in the artifact → VERIFY_DIGEST_MISMATCH', async () => {
  const data = await readFile(ws.artifactPath)
  data[0] = data[0]! ^ 1
  await writeFile(path.join(ws.dir, 'tampered.tgz'), data)
  assert.deepEqual(await verifyCode(['tampered.tgz', ...verifyFlags(PROV)]), {
    code: 1,
    failure: 'VERIFY_DIGEST_MISMATCH',
  })
  assert.deepEqual(await verifyCode(['tampered.tgz', ...verifyFlags(MSG)]), {
    code: 1,
    failure: 'VERIFY_DIGEST_MISMATCH',
  })
})

test('tamper: one changed byte in the signature → VERIFY_SIGNATURE_INVALID', async () => {
  for (const [src, dest] of [
    [PROV, 'bad-prov.json'],
    [MSG, 'bad-msg.json'],
  ] as const) {
    const bundle = JSON.parse(await readFile(path.join(ws.dir, src), 'utf8'))
    const holder = bundle.dsseEnvelope ? bundle.dsseEnvelope.signatures[0] : bundle.messageSignature
    const field = bundle.dsseEnvelope ? 'sig' : 'signature'
    const sig = Buffer.from(holder[field], 'base64')
    sig[sig.length - 5] = sig[sig.length - 5]! ^ 1
    holder[field] = sig.toString('base64')
    await writeFile(path.join(ws.dir, dest), JSON.stringify(bundle))
    assert.deepEqual(
      await verifyCode([ARTIFACT, ...verifyFlags(dest)]),
      { code: 1, failure: 'VERIFY_SIGNATURE_INVALID' },
      src,
    )
  }
})

test('wrong identity or issuer → VERIFY_IDENTITY_MISMATCH; exact match, anchored regexp', async () => {
  const id = (identity: string, issuer = GITHUB_ISSUER) =>
    verifyCode([ARTIFACT, ...verifyFlags(PROV, identity, issuer)])
  assert.deepEqual(await id('https://github.com/acme/other/.github/workflows/release.yml@refs/heads/main'), {
    code: 1,
    failure: 'VERIFY_IDENTITY_MISMATCH',
  })
  // a string identity is not a pattern: '.' does not match any character
  assert.equal(
    (await id(WORKFLOW_IDENTITY.replace('release.yml', 'release.ym.'))).failure,
    'VERIFY_IDENTITY_MISMATCH',
  )
  assert.equal((await id(WORKFLOW_IDENTITY.slice(0, -5))).failure, 'VERIFY_IDENTITY_MISMATCH')
  assert.equal(
    (await id(WORKFLOW_IDENTITY, 'https://accounts.google.com')).failure,
    'VERIFY_IDENTITY_MISMATCH',
  )
  const re = (pattern: string) =>
    verifyCode([
      ARTIFACT,
      '--bundle',
      PROV,
      '--trusted-root',
      'root.json',
      '--certificate-identity-regexp',
      pattern,
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
    ])
  assert.equal((await re('https://github\\.com/acme/app/.*')).code, 0)
  assert.equal((await re('acme/app')).failure, 'VERIFY_IDENTITY_MISMATCH')
})

test('--certificate-oidc-issuer-regexp: the issuer matched whole, as cosign has it', async () => {
  const issuerRe = (pattern: string, identity = ['--certificate-identity', WORKFLOW_IDENTITY]) =>
    verifyCode([
      ARTIFACT,
      '--bundle',
      PROV,
      '--trusted-root',
      'root.json',
      ...identity,
      '--certificate-oidc-issuer-regexp',
      pattern,
    ])
  assert.deepEqual(await issuerRe('https://token\\.actions\\.githubusercontent\\.com'), {
    code: 0,
    failure: undefined,
  })
  assert.deepEqual(await issuerRe('https://token\\.actions\\.githubusercontent\\.com|https://gitlab\\.com'), {
    code: 0,
    failure: undefined,
  })
  assert.equal(
    (await issuerRe('https://.*', ['--certificate-identity-regexp', 'https://github\\.com/acme/.*'])).code,
    0,
  )
  // anchored: a prefix or a part of the issuer is not a match
  assert.deepEqual(await issuerRe('https://token'), { code: 1, failure: 'VERIFY_IDENTITY_MISMATCH' })
  assert.deepEqual(await issuerRe('actions'), { code: 1, failure: 'VERIFY_IDENTITY_MISMATCH' })
  assert.deepEqual(await issuerRe('https://accounts\\.google\\.com'), {
    code: 1,
    failure: 'VERIFY_IDENTITY_MISMATCH',
  })
  // a pattern that would escape the anchoring, or both issuer flags: exit 2 before anything is checked
  assert.deepEqual(await issuerRe('a)|(.*'), { code: 2, failure: 'VERIFY_IDENTITY_REGEXP_INVALID' })
  assert.deepEqual(
    await verifyCode([ARTIFACT, ...verifyFlags(PROV), '--certificate-oidc-issuer-regexp', '.*']),
    { code: 2, failure: 'VERIFY_USAGE' },
  )
  assert.deepEqual(
    await verifyCode([
      ARTIFACT,
      '--bundle',
      PROV,
      '--key',
      'root.json',
      '--certificate-oidc-issuer-regexp',
      '.*',
    ]),
    { code: 2, failure: 'VERIFY_USAGE' },
  )
})

test('a bundle from another trust root → VERIFY_CHAIN_UNTRUSTED', async () => {
  const other = await startSigstoreMock()
  try {
    await writeFile(path.join(ws.dir, 'other-root.json'), JSON.stringify(other.trustedRoot))
    const r = await verifyCode([
      ARTIFACT,
      ...verifyFlags(PROV).slice(0, 2),
      '--trusted-root',
      'other-root.json',
      ...verifyFlags(PROV).slice(4),
    ])
    assert.equal(r.code, 1)
    assert.ok(
      ['VERIFY_CHAIN_UNTRUSTED', 'VERIFY_TLOG_INVALID', 'VERIFY_TIMESTAMP_INVALID'].includes(r.failure!),
      r.failure,
    )
  } finally {
    await other.close()
  }
})

test('verify writes nothing', async () => {
  const before = (await readdir(ws.out)).sort()
  await verifyCode([ARTIFACT, ...verifyFlags(PROV)])
  assert.deepEqual((await readdir(ws.out)).sort(), before)
})

test('usage errors exit 2: no identity policy, both identity flags, missing issuer, bad regexp, bad digest', async () => {
  const cases: string[][] = [
    [ARTIFACT, '--bundle', PROV, '--trusted-root', 'root.json'],
    [ARTIFACT, ...verifyFlags(PROV), '--certificate-identity-regexp', '.*'],
    [ARTIFACT, '--bundle', PROV, '--trusted-root', 'root.json', '--certificate-identity', WORKFLOW_IDENTITY],
    [
      ARTIFACT,
      '--bundle',
      PROV,
      '--trusted-root',
      'root.json',
      '--certificate-identity-regexp',
      '(',
      '--certificate-oidc-issuer',
      GITHUB_ISSUER,
    ],
    ['sha256:abc', ...verifyFlags(PROV)],
    ['missing.tgz', ...verifyFlags(PROV)],
    [ARTIFACT, ...verifyFlags('missing.json')],
  ]
  for (const args of cases) assert.equal((await verifyCode(args)).code, 2, args.join(' '))
})

test('no identity token anywhere → exit 2 SIGN_IDENTITY_TOKEN_MISSING', async () => {
  const w = await makeWorkspace()
  try {
    const run = await runCli(['--json', 'sign', '--fulcio-url', mock.url, '--rekor-url', mock.url], w.dir, {})
    assert.equal(run.code, 2)
    assert.equal((run.json() as { error: { code: string } }).error.code, 'SIGN_IDENTITY_TOKEN_MISSING')
  } finally {
    await rm(w.dir, { recursive: true, force: true })
  }
})

test('services down → exit 3, and no bundle or signatures.json written', async () => {
  const w = await makeWorkspace()
  mock.fail = true
  try {
    const run = await runCli(
      [
        '--json',
        'sign',
        '--identity-token',
        token,
        '--fulcio-url',
        mock.url,
        '--rekor-url',
        mock.url,
        '--timeout',
        '5',
      ],
      w.dir,
    )
    assert.equal(run.code, 3)
    assert.equal((run.json() as { error: { code: string } }).error.code, 'SIGN_FULCIO_FAILED')
    assert.deepEqual((await readdir(w.out)).sort(), ['artifacts', 'provenance.intoto.json'])
  } finally {
    mock.fail = false
    await rm(w.dir, { recursive: true, force: true })
  }
})

test('GitHub Actions ambient credentials: the token is requested with audience sigstore', async () => {
  const seen: Array<{ url: string; auth: string | undefined }> = []
  const gha = createServer((req, res) => {
    seen.push({ url: req.url ?? '', auth: req.headers.authorization })
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ value: token }))
  })
  await new Promise<void>((resolve) => gha.listen(0, '127.0.0.1', resolve))
  const w = await makeWorkspace()
  try {
    const port = (gha.address() as AddressInfo).port
    const run = await runCli(['sign', '--fulcio-url', mock.url, '--rekor-url', mock.url], w.dir, {
      ACTIONS_ID_TOKEN_REQUEST_URL: `http://127.0.0.1:${port}/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'request-secret',
    })
    assert.equal(run.code, 0, run.stderr)
    assert.equal(seen.length, 1)
    assert.equal(new URL(seen[0]!.url, 'http://x').searchParams.get('audience'), 'sigstore')
    assert.equal(seen[0]!.auth, 'Bearer request-secret')
  } finally {
    gha.closeAllConnections()
    await new Promise<void>((resolve) => gha.close(() => resolve()))
    await rm(w.dir, { recursive: true, force: true })
  }
})
