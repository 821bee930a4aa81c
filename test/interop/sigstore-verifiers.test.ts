/**
 * The ecosystem's own verifiers accept what detbuild signs: the real cosign and sigstore-go's verifier CLI
 * (pinned Debian packages that scripts/interop-tools.sh unpacks into .tools/interop/; `./scripts/setup.sh
 * test` runs it) check detbuild's message bundles and DSSE attestations (build provenance, vulnerability
 * scan), key-signed and keyless from the loopback sigstore mock, and the real npm bundles in
 * fixtures/sigstore/. Offline: every trust decision comes from a trusted_root.json given on the command
 * line (the mock's, or the vendored public-good one), and the tools run with a dead proxy, so any
 * network attempt fails instead of reaching out.
 * sigstore-go's CLI needs a verified time for every signature (a log entry or an RFC 3161 timestamp;
 * `-requireTimestamp=false` is refused by its verifier), so it is given key-signed bundles with a log entry;
 * cosign also checks the key-signed ones without any (`--insecure-ignore-tlog`).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import {
  FIXTURES,
  fakeIdentityToken,
  GITHUB_ISSUER,
  makeWorkspace,
  REPO_ROOT,
  runCli,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'

const TOOLS = path.join(REPO_ROOT, '.tools/interop')
const COSIGN = path.join(TOOLS, 'cosign/usr/bin/cosign')
const SIGSTORE_GO = path.join(TOOLS, 'sigstore-go/usr/bin/sigstore-go-verification')
const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'
const MSG = '.detbuild/artifacts/app-1.0.0.tgz.sigstore.json'
const PROV = '.detbuild/provenance.sigstore.json'
const VULNS = '.detbuild/vulns.sigstore.json'
const SBOM = '.detbuild/sbom.cdx.json'
/** the predicate type of the scan's vulns.intoto.json (src/scan/outputs.ts) */
const VULNS_PREDICATE = 'https://in-toto.io/attestation/vulns/v0.1'
/** bundle, cosign's --type, the file it attests */
const ATTESTATIONS = [
  [PROV, 'slsaprovenance1', ARTIFACT],
  [VULNS, VULNS_PREDICATE, SBOM],
] as const
/** every bundle sign writes here, with the file it is checked against */
const BUNDLES = [[MSG, ARTIFACT], ...ATTESTATIONS.map(([bundle, , subject]) => [bundle, subject] as const)]
const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
}

let mock: SigstoreMock
let home: string
const dirs: string[] = []

before(async () => {
  for (const tool of [COSIGN, SIGSTORE_GO])
    await access(tool).catch(() => {
      throw new Error(`${tool} is missing: run ./scripts/interop-tools.sh (the interop tests never skip)`)
    })
  mock = await startSigstoreMock()
  home = await mkdtemp(path.join(os.tmpdir(), 'detbuild-interop-home-'))
  dirs.push(home)
})
after(async () => {
  await mock.close()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

interface ToolRun {
  code: number
  output: string
}

/** Runs a verifier offline: its own HOME, and a dead proxy for anything it might try to fetch. */
function tool(file: string, args: string[], cwd: string): Promise<ToolRun> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      {
        cwd,
        timeout: 60_000,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: home,
          HTTP_PROXY: 'http://127.0.0.1:9',
          HTTPS_PROXY: 'http://127.0.0.1:9',
          NO_PROXY: '',
          TUF_ROOT: path.join(home, 'tuf'),
        },
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, output: `${stdout}${stderr}` })
      },
    )
  })
}

/** A workspace with provenance over one artifact and a vulnerability-scan statement over the SBOM, signed by detbuild. */
async function signedWorkspace(
  signArgs: string[],
  env: Record<string, string> = {},
): Promise<{ dir: string; out: string }> {
  const ws = await makeWorkspace()
  dirs.push(ws.dir)
  const sbom = '{"bomFormat":"CycloneDX","specVersion":"1.6","components":[]}\n'
  await writeFile(path.join(ws.dir, SBOM), sbom)
  const vulns = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'sbom.cdx.json', digest: { sha256: createHash('sha256').update(sbom).digest('hex') } }],
    predicateType: VULNS_PREDICATE,
    predicate: { scanner: { uri: 'pkg:npm/detbuild', result: [] } },
  }
  await writeFile(path.join(ws.out, 'vulns.intoto.json'), `${JSON.stringify(vulns, null, 2)}\n`)
  await writeFile(path.join(ws.dir, 'mock-root.json'), JSON.stringify(mock.trustedRoot))
  await writeFile(path.join(ws.dir, 'empty-root.json'), JSON.stringify(EMPTY_ROOT))
  const run = await runCli(['sign', '--artifacts', ...signArgs], ws.dir, env)
  assert.equal(run.code, 0, run.stderr)
  for (const f of [MSG, PROV, VULNS]) await access(path.join(ws.dir, f))
  return ws
}

async function keyWorkspace(
  signArgs: string[],
  algorithm = 'ecdsa-p256',
): Promise<{ dir: string; out: string }> {
  const ws = await makeWorkspace()
  dirs.push(ws.dir)
  const gen = await runCli(['keygen', '--algorithm', algorithm, '--output-prefix', 'keys/signing'], ws.dir)
  assert.equal(gen.code, 0, gen.stderr)
  const signed = await signedWorkspace(['--key', path.join(ws.dir, 'keys/signing.key'), ...signArgs])
  await mkdir(path.join(signed.dir, 'keys'), { recursive: true })
  await writeFile(
    path.join(signed.dir, 'keys/signing.pub'),
    await readFile(path.join(ws.dir, 'keys/signing.pub')),
  )
  return signed
}

const ok = (run: ToolRun, what: string): void => assert.equal(run.code, 0, `${what}:\n${run.output}`)
const refused = (run: ToolRun, what: string): void => assert.notEqual(run.code, 0, `${what}:\n${run.output}`)

async function tamperedCopy(dir: string): Promise<string> {
  const file = path.join(dir, 'tampered.tgz')
  await writeFile(file, 'other bytes\n')
  return file
}

test('cosign: key-signed message and DSSE bundles without a log entry (--insecure-ignore-tlog)', async () => {
  const ws = await keyWorkspace(['--no-tlog'])
  const key = ['--key', 'keys/signing.pub', '--trusted-root', 'empty-root.json', '--insecure-ignore-tlog']
  ok(await tool(COSIGN, ['verify-blob', ...key, '--bundle', MSG, ARTIFACT], ws.dir), 'message')
  for (const [bundle, type, subject] of ATTESTATIONS)
    ok(
      await tool(
        COSIGN,
        ['verify-blob-attestation', ...key, '--type', type, '--bundle', bundle, subject],
        ws.dir,
      ),
      bundle,
    )
  // the envelope carries no keyid: cosign matched the signature by the key
  const envelope = JSON.parse(await readFile(path.join(ws.dir, PROV), 'utf8')).dsseEnvelope
  assert.deepEqual(
    envelope.signatures.map((s: { keyid?: string }) => s.keyid ?? ''),
    [''],
  )
  // and still says no to another artifact, another key, another predicate type
  const other = await tamperedCopy(ws.dir)
  refused(
    await tool(COSIGN, ['verify-blob', ...key, '--bundle', MSG, other], ws.dir),
    'message, other artifact',
  )
  refused(
    await tool(
      COSIGN,
      ['verify-blob-attestation', ...key, '--type', 'slsaprovenance1', '--bundle', PROV, other],
      ws.dir,
    ),
    'DSSE, other artifact',
  )
  refused(
    await tool(
      COSIGN,
      ['verify-blob-attestation', ...key, '--type', 'slsaprovenance1', '--bundle', VULNS, SBOM],
      ws.dir,
    ),
    'DSSE, other predicate type',
  )
  const stranger = await keyWorkspace(['--no-tlog'])
  await writeFile(
    path.join(ws.dir, 'stranger.pub'),
    await readFile(path.join(stranger.dir, 'keys/signing.pub')),
  )
  refused(
    await tool(
      COSIGN,
      [
        'verify-blob-attestation',
        '--key',
        'stranger.pub',
        '--trusted-root',
        'empty-root.json',
        '--insecure-ignore-tlog',
        '--type',
        'slsaprovenance1',
        '--bundle',
        PROV,
        ARTIFACT,
      ],
      ws.dir,
    ),
    'DSSE, another key',
  )
})

for (const algorithm of ['ecdsa-p384', 'ed25519'])
  test(`cosign: ${algorithm} key-signed message and DSSE bundles`, async () => {
    const ws = await keyWorkspace(['--no-tlog'], algorithm)
    const key = ['--key', 'keys/signing.pub', '--trusted-root', 'empty-root.json', '--insecure-ignore-tlog']
    ok(await tool(COSIGN, ['verify-blob', ...key, '--bundle', MSG, ARTIFACT], ws.dir), 'message')
    for (const [bundle, type, subject] of ATTESTATIONS)
      ok(
        await tool(
          COSIGN,
          ['verify-blob-attestation', ...key, '--type', type, '--bundle', bundle, subject],
          ws.dir,
        ),
        bundle,
      )
    refused(
      await tool(COSIGN, ['verify-blob', ...key, '--bundle', MSG, await tamperedCopy(ws.dir)], ws.dir),
      'message, other artifact',
    )
  })

test('cosign and sigstore-go: key-signed bundles logged in the mock Rekor', async () => {
  const ws = await keyWorkspace(['--rekor-url', mock.rekorUrl])
  const key = ['--key', 'keys/signing.pub', '--trusted-root', 'mock-root.json']
  ok(await tool(COSIGN, ['verify-blob', ...key, '--bundle', MSG, ARTIFACT], ws.dir), 'cosign message')
  ok(
    await tool(
      COSIGN,
      ['verify-blob-attestation', ...key, '--type', 'slsaprovenance1', '--bundle', PROV, ARTIFACT],
      ws.dir,
    ),
    'cosign DSSE',
  )
  const go = [
    '-publicKey',
    'keys/signing.pub',
    '-trustedrootJSONpath',
    'mock-root.json',
    '-requireCTlog=false',
  ]
  for (const [bundle, subject] of BUNDLES)
    ok(await tool(SIGSTORE_GO, [...go, '-artifact', subject, bundle], ws.dir), `sigstore-go ${bundle}`)
  refused(
    await tool(SIGSTORE_GO, [...go, '-artifact', await tamperedCopy(ws.dir), PROV], ws.dir),
    'sigstore-go, other artifact',
  )
})

test('cosign and sigstore-go: keyless bundles from the mock Fulcio, Rekor and TSA', async () => {
  const token = fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER })
  const ws = await signedWorkspace(
    ['--fulcio-url', mock.fulcioUrl, '--rekor-url', mock.rekorUrl, '--tsa-url', mock.tsaUrl],
    { SIGSTORE_ID_TOKEN: token },
  )
  const who = (identity: string, issuer = GITHUB_ISSUER) => [
    '--trusted-root',
    'mock-root.json',
    '--certificate-identity',
    identity,
    '--certificate-oidc-issuer',
    issuer,
  ]
  ok(
    await tool(COSIGN, ['verify-blob', ...who(WORKFLOW_IDENTITY), '--bundle', MSG, ARTIFACT], ws.dir),
    'message',
  )
  for (const [bundle, type, subject] of ATTESTATIONS)
    ok(
      await tool(
        COSIGN,
        ['verify-blob-attestation', ...who(WORKFLOW_IDENTITY), '--type', type, '--bundle', bundle, subject],
        ws.dir,
      ),
      `cosign ${bundle}`,
    )
  // the regexp forms, as detbuild verify has them
  ok(
    await tool(
      COSIGN,
      [
        'verify-blob-attestation',
        '--trusted-root',
        'mock-root.json',
        '--certificate-identity-regexp',
        '^https://github\\.com/acme/',
        '--certificate-oidc-issuer-regexp',
        '^https://token\\.actions\\.githubusercontent\\.com$',
        '--type',
        'slsaprovenance1',
        '--bundle',
        PROV,
        ARTIFACT,
      ],
      ws.dir,
    ),
    'cosign regexps',
  )
  refused(
    await tool(
      COSIGN,
      [
        'verify-blob-attestation',
        ...who('https://github.com/evil/app/.github/workflows/release.yml@refs/heads/main'),
        '--type',
        'slsaprovenance1',
        '--bundle',
        PROV,
        ARTIFACT,
      ],
      ws.dir,
    ),
    'cosign, another identity',
  )
  const go = (identity: string) => [
    '-trustedrootJSONpath',
    'mock-root.json',
    '-expectedSAN',
    identity,
    '-expectedIssuer',
    GITHUB_ISSUER,
  ]
  for (const [bundle, subject] of BUNDLES)
    ok(
      await tool(SIGSTORE_GO, [...go(WORKFLOW_IDENTITY), '-artifact', subject, bundle], ws.dir),
      `sigstore-go ${bundle}`,
    )
  refused(
    await tool(SIGSTORE_GO, [...go('https://example.com/other'), '-artifact', ARTIFACT, PROV], ws.dir),
    'sigstore-go, another identity',
  )
  refused(
    await tool(SIGSTORE_GO, [...go(WORKFLOW_IDENTITY), '-artifact', await tamperedCopy(ws.dir), MSG], ws.dir),
    'sigstore-go, other artifact',
  )
})

const NPM_IDENTITY = 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main'

test("cosign and sigstore-go: npm's key-signed publish attestation (a real key-signed DSSE bundle)", async () => {
  const dir = path.join(FIXTURES, 'npm', 'sigstore-1.3.0')
  const key = path.join(FIXTURES, 'keys', 'npm-attestations-2022.pem')
  const root = path.join(FIXTURES, 'trusted_root.json')
  const publish = 'https://github.com/npm/attestation/tree/main/specs/publish/v0.1'
  const cosign = (k: string) =>
    tool(
      COSIGN,
      [
        'verify-blob-attestation',
        '--key',
        k,
        '--trusted-root',
        root,
        '--type',
        publish,
        '--digestAlg',
        'sha512',
        '--bundle',
        'publish.sigstore.json',
        'sigstore-1.3.0.tgz',
      ],
      dir,
    )
  ok(await cosign(key), 'cosign, npm 2022 key')
  refused(await cosign(path.join(FIXTURES, 'keys', 'npm-attestations-2025.pem')), 'cosign, the other npm key')
  ok(
    await tool(
      SIGSTORE_GO,
      [
        '-publicKey',
        key,
        '-trustedrootJSONpath',
        root,
        '-requireCTlog=false',
        '-artifact',
        'sigstore-1.3.0.tgz',
        'publish.sigstore.json',
      ],
      dir,
    ),
    'sigstore-go, npm 2022 key',
  )
})

test('cosign and sigstore-go: real npm provenance bundles, offline against the vendored trusted root', async () => {
  const root = path.join(FIXTURES, 'trusted_root.json')
  for (const [version, type] of [
    ['2.0.0', 'slsaprovenance1'],
    ['1.3.0', 'slsaprovenance02'],
  ] as const) {
    const dir = path.join(FIXTURES, 'npm', `sigstore-${version}`)
    const tgz = `sigstore-${version}.tgz`
    const who = ['--certificate-identity', NPM_IDENTITY, '--certificate-oidc-issuer', GITHUB_ISSUER]
    ok(
      await tool(
        COSIGN,
        [
          'verify-blob-attestation',
          '--trusted-root',
          root,
          ...who,
          '--type',
          type,
          '--digestAlg',
          'sha512',
          '--bundle',
          'provenance.sigstore.json',
          tgz,
        ],
        dir,
      ),
      `cosign ${version}`,
    )
    ok(
      await tool(
        SIGSTORE_GO,
        [
          '-trustedrootJSONpath',
          root,
          '-expectedSAN',
          NPM_IDENTITY,
          '-expectedIssuer',
          GITHUB_ISSUER,
          '-artifact',
          tgz,
          'provenance.sigstore.json',
        ],
        dir,
      ),
      `sigstore-go ${version}`,
    )
    refused(
      await tool(
        SIGSTORE_GO,
        [
          '-trustedrootJSONpath',
          root,
          '-expectedSAN',
          'https://github.com/someone/else/.github/workflows/release.yml@refs/heads/main',
          '-expectedIssuer',
          GITHUB_ISSUER,
          '-artifact',
          tgz,
          'provenance.sigstore.json',
        ],
        dir,
      ),
      `sigstore-go ${version}, another identity`,
    )
  }
})
