/**
 * Offline verification. A key without a transparency-log requirement needs no trusted root and touches
 * no network; `--offline` turns anything that would need the network into VERIFY_OFFLINE_NETWORK_NEEDED
 * (exit 2); `trust export` writes the trusted root to pin, deterministically; and the air-gapped flow
 * (sign online → export the trust root → verify offline) passes. The CLI runs in a child process whose
 * HTTP(S) goes to a loopback proxy that records and refuses every request: a control run without the
 * trust material shows the proxy does see an attempt.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { digestBytes } from '../../src/util/digest.ts'
import { type RefusingProxy, startRefusingProxy } from '../helpers/refusing-proxy.ts'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  makeBundlableWorkspace,
  REPO_ROOT,
  runCli,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'

const ARTIFACT = '.detbuild/artifacts/app-1.0.0.tgz'
const EVIDENCE = '.detbuild/evidence.tar.gz'
let mock: SigstoreMock
let proxy: RefusingProxy
let scratch: string
const dirs: string[] = []

/** A workspace signed and bundled with `sign`/`bundle` and these flags (build.json and a provenance). */
async function signedWorkspace(flags: string[], env: Record<string, string> = {}): Promise<string> {
  const ws = await makeBundlableWorkspace()
  dirs.push(ws.dir)
  const gen = await runCli(['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'], ws.dir)
  assert.equal(gen.code, 0, gen.stderr)
  for (const step of ['sign', 'bundle']) {
    // sign also signs each artifact (message signatures), for verify --bundle
    const run = await runCli([step, ...flags, ...(step === 'sign' ? ['--artifacts'] : [])], ws.dir, env)
    assert.equal(run.code, 0, `${step}: ${run.stderr}`)
  }
  return ws.dir
}

interface ChildRun {
  code: number | null
  stdout: string
  stderr: string
}

/** The CLI in a child process with no network: every HTTP(S) request goes to the refusing proxy. */
function detbuild(cwd: string, argv: string[]): Promise<ChildRun> {
  const script = path.join(scratch, 'cli.ts')
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...argv],
      {
        cwd,
        // a fresh TUF cache: nothing a developer's machine cached can stand in for the network
        env: {
          PATH: process.env.PATH,
          HOME: scratch,
          XDG_DATA_HOME: path.join(scratch, 'data'),
          ...proxy.env,
        },
        timeout: 120_000,
      },
      (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }),
    )
  })
}

before(async () => {
  mock = await startSigstoreMock()
  proxy = await startRefusingProxy()
  scratch = await mkdtemp(path.join(os.tmpdir(), 'detbuild-offline-'))
  await writeFile(
    path.join(scratch, 'cli.ts'),
    [
      `import { main } from ${JSON.stringify(path.join(REPO_ROOT, 'src/cli/main.ts'))}`,
      'process.exitCode = await main(process.argv.slice(2), {',
      '  env: process.env,',
      '  cwd: process.cwd(),',
      '  color: false,',
      '  stdout: (t) => process.stdout.write(t),',
      '  stderr: (t) => process.stderr.write(t),',
      '})',
      '',
    ].join('\n'),
  )
})
after(async () => {
  await Promise.all([mock.close(), proxy.close()])
  for (const d of [scratch, ...dirs]) await rm(d, { recursive: true, force: true })
})

test('a key without a log requirement: verify --evidence and --bundle need no trusted root and open no connection', async () => {
  const dir = await signedWorkspace(['--key', 'k.key', '--no-tlog'])
  const key = ['--key', 'k.pub', '--insecure-ignore-tlog']
  proxy.seen.length = 0
  // the README's deploy-time example, with no --trusted-root and (first) no --offline either
  for (const extra of [[], ['--offline']]) {
    const run = await detbuild(dir, ['--json', 'verify', ARTIFACT, '--evidence', EVIDENCE, ...key, ...extra])
    assert.equal(run.code, 0, run.stdout + run.stderr)
    const report = JSON.parse(run.stdout) as { verified: boolean; trustedRoot: string }
    assert.equal(report.verified, true)
    assert.equal(report.trustedRoot, 'none needed (a key, no transparency-log entry required)')
  }
  const bundle = await detbuild(dir, [
    'verify',
    ARTIFACT,
    '--bundle',
    `${ARTIFACT}.sigstore.json`,
    ...key,
    '--offline',
  ])
  assert.equal(bundle.code, 0, bundle.stdout + bundle.stderr)
  assert.equal(proxy.seen.join(', '), '', 'no request left the process')
})

test('--offline: a log entry to verify without --trusted-root is exit 2 VERIFY_OFFLINE_NETWORK_NEEDED; without --offline it goes to the network', async () => {
  const dir = await signedWorkspace(['--key', 'k.key', '--rekor-url', mock.url])
  proxy.seen.length = 0
  const offline = await detbuild(dir, [
    '--json',
    'verify',
    ARTIFACT,
    '--evidence',
    EVIDENCE,
    '--key',
    'k.pub',
    '--offline',
  ])
  assert.equal(offline.code, 2, offline.stdout + offline.stderr)
  assert.equal(JSON.parse(offline.stdout).error.code, 'VERIFY_OFFLINE_NETWORK_NEEDED')
  // --insecure-ignore-tlog: the key is the whole trust, the log entry the bundle carries is not checked
  const ignored = await detbuild(dir, [
    '--json',
    'verify',
    ARTIFACT,
    '--evidence',
    EVIDENCE,
    '--key',
    'k.pub',
    '--insecure-ignore-tlog',
    '--offline',
  ])
  assert.equal(ignored.code, 0, ignored.stdout + ignored.stderr)
  const rescan = await detbuild(dir, [
    '--json',
    'verify',
    ARTIFACT,
    '--evidence',
    EVIDENCE,
    '--key',
    'k.pub',
    '--insecure-ignore-tlog',
    '--rescan',
    '--offline',
  ])
  assert.equal(rescan.code, 2, rescan.stdout)
  assert.equal(JSON.parse(rescan.stdout).error.code, 'VERIFY_OFFLINE_NETWORK_NEEDED')
  const exported = await detbuild(dir, ['--json', 'trust', 'export', '--offline'])
  assert.equal(exported.code, 2, exported.stdout)
  assert.equal(JSON.parse(exported.stdout).error.code, 'VERIFY_OFFLINE_NETWORK_NEEDED')
  assert.equal(proxy.seen.join(', '), '', 'no request left the process')

  // the control: without --offline the public-good root is fetched, and the proxy sees (and refuses) it
  const online = await detbuild(dir, ['--json', 'verify', ARTIFACT, '--evidence', EVIDENCE, '--key', 'k.pub'])
  assert.equal(online.code, 3, online.stdout)
  assert.equal(JSON.parse(online.stdout).error.code, 'VERIFY_TRUSTED_ROOT_UNAVAILABLE')
  assert.ok(
    proxy.seen.some((s) => s.includes('tuf-repo-cdn.sigstore.dev')),
    proxy.seen.join(', '),
  )
})

test('the air-gapped flow: sign online, export the trust root, verify offline (key with a log entry, and keyless)', async () => {
  // online: the signer's trust root (here the loopback sigstore's), exported to pin
  const given = path.join(scratch, 'instance-root.json')
  await writeFile(given, JSON.stringify(mock.trustedRoot))
  const keyed = await signedWorkspace(['--key', 'k.key', '--rekor-url', mock.url])
  const token = fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER })
  const urls = ['--fulcio-url', mock.url, '--rekor-url', mock.url, '--tsa-url', mock.url]
  const keyless = await signedWorkspace(urls, { SIGSTORE_ID_TOKEN: token })

  const first = await runCli(
    ['--json', 'trust', 'export', '--trusted-root', given, '--output', 'pinned/root.json'],
    keyed,
  )
  assert.equal(first.code, 0, first.stderr + first.stdout)
  const data = first.json() as { file: string; sha256: string; source: string; tlogs: number }
  assert.equal(data.file, 'pinned/root.json')
  assert.equal(data.tlogs, (mock.trustedRoot as { tlogs: unknown[] }).tlogs.length)
  const bytes = await readFile(path.join(keyed, 'pinned/root.json'), 'utf8')
  assert.equal(digestBytes(bytes).sha256, data.sha256)
  assert.ok(
    bytes.endsWith('}\n') && bytes.startsWith('{\n  "certificateAuthorities"'),
    'sorted keys, 2-space JSON',
  )
  // deterministic: exporting the export gives the same bytes; an existing file is not overwritten
  const again = await runCli(
    ['trust', 'export', '--trusted-root', 'pinned/root.json', '--output', 'again.json'],
    keyed,
  )
  assert.equal(again.code, 0, again.stderr)
  assert.equal(await readFile(path.join(keyed, 'again.json'), 'utf8'), bytes)
  const clobber = await runCli(
    ['--json', 'trust', 'export', '--trusted-root', given, '--output', 'again.json'],
    keyed,
  )
  assert.equal(clobber.code, 2)
  await writeFile(path.join(keyless, 'root.json'), bytes)

  // offline, at the deploy gate
  proxy.seen.length = 0
  const withKey = await detbuild(keyed, [
    '--json',
    'verify',
    ARTIFACT,
    '--evidence',
    EVIDENCE,
    '--key',
    'k.pub',
    '--trusted-root',
    'pinned/root.json',
    '--offline',
  ])
  assert.equal(withKey.code, 0, withKey.stdout + withKey.stderr)
  const identity = ['--certificate-identity', WORKFLOW_IDENTITY, '--certificate-oidc-issuer', GITHUB_ISSUER]
  const withIdentity = await detbuild(keyless, [
    '--json',
    'verify',
    ARTIFACT,
    '--evidence',
    EVIDENCE,
    ...identity,
    '--trusted-root',
    'root.json',
    '--offline',
  ])
  assert.equal(withIdentity.code, 0, withIdentity.stdout + withIdentity.stderr)
  assert.equal(
    (JSON.parse(withIdentity.stdout) as { signer: { identity: string } }).signer.identity,
    WORKFLOW_IDENTITY,
  )
  // keyless without the pinned root: the public-good root would be network
  const unpinned = await detbuild(keyless, [
    '--json',
    'verify',
    ARTIFACT,
    '--evidence',
    EVIDENCE,
    ...identity,
    '--offline',
  ])
  assert.equal(unpinned.code, 2, unpinned.stdout)
  assert.equal(JSON.parse(unpinned.stdout).error.code, 'VERIFY_OFFLINE_NETWORK_NEEDED')
  assert.equal(proxy.seen.join(', '), '', 'no request left the process')
})

test('trust export refuses a malformed trusted root (exit 2, naming the file)', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'detbuild-export-'))
  dirs.push(dir)
  await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ mediaType: 'text/plain', tlogs: {} }))
  const run = await runCli(['--json', 'trust', 'export', '--trusted-root', 'bad.json'], dir)
  assert.equal(run.code, 2)
  const error = (run.json() as { error: { code: string; file: string } }).error
  assert.equal(error.code, 'VERIFY_TRUSTED_ROOT_INVALID')
  assert.equal(error.file, 'bad.json')
})
