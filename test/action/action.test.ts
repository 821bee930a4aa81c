/** The bundled Action (node dist/action.js) in a simulated runner: outputs, job summary, annotations, exit status. */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { readdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import {
  fakeIdentityToken,
  GITHUB_ISSUER,
  type SigstoreMock,
  startSigstoreMock,
  WORKFLOW_IDENTITY,
} from '../helpers/sigstore-mock-server.ts'
import {
  makeActionCheckout,
  makeRepo,
  type OidcEndpoint,
  ROOT,
  runBundledAction,
  startOidcEndpoint,
  TSC_ENV,
  tempBase,
} from './helpers.ts'

const OSV_RECORDS = path.join(ROOT, 'fixtures', 'osv', 'records')
let mock: SigstoreMock
let oidc: OidcEndpoint
let actionDir: string
const bases: string[] = []

before(async () => {
  mock = await startSigstoreMock()
  oidc = await startOidcEndpoint(fakeIdentityToken({ sub: WORKFLOW_IDENTITY, iss: GITHUB_ISSUER }))
  const base = tempBase()
  bases.push(base)
  actionDir = makeActionCheckout(base)
})
after(async () => {
  await Promise.all([mock.close(), oidc.close()])
  for (const b of bases) await rm(b, { recursive: true, force: true })
})

function newRepo(fixture: string, sub = '.'): string {
  const base = tempBase()
  bases.push(base)
  return makeRepo(base, fixture, sub)
}

test('keyless run: build → sbom → scan → policy → sign → bundle → verify with the workflow OIDC token', async () => {
  const repo = newRepo('ts-lib', 'packages/lib')
  const trustedRoot = path.join(path.dirname(repo), 'trusted_root.json')
  await writeFile(trustedRoot, JSON.stringify(mock.trustedRoot))
  const run = await runBundledAction(
    actionDir,
    repo,
    {
      'working-directory': 'packages/lib',
      config: 'detbuild.offline.json',
      'offline-db': OSV_RECORDS,
      sign: 'keyless',
      'fulcio-url': mock.url,
      'rekor-url': mock.url,
      'tsa-url': mock.url,
      'trusted-root': trustedRoot,
    },
    {
      ...TSC_ENV,
      ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
    },
  )
  assert.equal(run.code, 0, run.stdout + run.stderr)
  assert.equal(run.stderr, '', 'nothing on stderr (no deprecation warnings, no stack traces)')
  // the token came from the runner's endpoint, asked for the sigstore audience
  assert.ok(oidc.requests.length >= 1)
  assert.ok(
    oidc.requests.every(
      (r) => r.audience === 'sigstore' && r.authorization === `Bearer ${oidc.requestToken}`,
    ),
  )

  const o = run.outputs
  assert.equal(o['exit-code'], '0')
  assert.equal(o['failed-step'], '')
  assert.equal(o.workspace, 'packages/lib/.detbuild')
  assert.equal(o.sbom, 'packages/lib/.detbuild/sbom.cdx.json')
  assert.equal(o.verdict, 'warn')
  assert.equal(o.evidence, 'packages/lib/.detbuild/evidence.tar.gz')
  assert.ok((await readFile(path.join(repo, o.evidence!))).length > 0)
  assert.match(run.stdout, /\[7\/7\] verify: ok: evidence verified for 1 artifact/)
  assert.deepEqual(JSON.parse(o.findings!), { critical: 0, high: 0, low: 0, medium: 0, none: 0, unknown: 0 })
  const artifacts = JSON.parse(o.artifacts!) as Array<{ path: string; sha256: string; size: number }>
  assert.equal(artifacts.length, 1)
  assert.equal(artifacts[0]!.path, 'packages/lib/.detbuild/artifacts/ts-lib-fixture-1.0.0.tgz')
  const bytes = await readFile(path.join(repo, artifacts[0]!.path))
  const { createHash } = await import('node:crypto')
  assert.equal(artifacts[0]!.sha256, createHash('sha256').update(bytes).digest('hex'))
  assert.equal(o.digests, `${artifacts[0]!.sha256}  ts-lib-fixture-1.0.0.tgz`)

  // signatures are keyless, by the workflow identity
  const signatures = JSON.parse(await readFile(path.join(repo, o.workspace!, 'signatures.json'), 'utf8'))
  for (const b of signatures.bundles)
    assert.deepEqual(b.signer, { type: 'keyless', identity: WORKFLOW_IDENTITY, issuer: GITHUB_ISSUER })

  // the SBOM schema check ran inside the single-file bundle (no worker file, no node_modules)
  assert.match(run.stdout, /\[2\/\d\] sbom: ok: .*schema-valid/)

  // job summary: steps, build, SBOM, vulnerability table, policy, signatures
  for (const heading of [
    '## detbuild: ✅',
    '### Build',
    '### SBOM',
    '### Vulnerabilities',
    '### Policy',
    '### Signatures',
    '### Evidence',
    'Verified with `detbuild verify --evidence`.',
  ])
    assert.ok(run.summary.includes(heading), heading)
  assert.ok(run.summary.includes(WORKFLOW_IDENTITY))
  // what held during the build: the sealed room, no network
  assert.match(
    run.summary,
    /Build room: sealed \((?:bwrap|unshare)\); network: none; reproducibility: not checked/,
  )
  assert.ok(run.summary.includes(`\`${artifacts[0]!.sha256}\``))

  // release assets under the names scorecards look for
  assert.equal(o['release-assets'], 'packages/lib/.detbuild/release-assets')
  const assets = await readdir(path.join(repo, o['release-assets']!))
  for (const suffix of ['.sigstore.json', '.intoto.jsonl', '.cdx.json', '.tgz', 'evidence.tar.gz'])
    assert.ok(
      assets.some((a) => a.endsWith(suffix)),
      `${suffix} in ${assets.join(', ')}`,
    )
  const jsonl = await readFile(path.join(repo, o['release-assets']!, 'provenance.intoto.jsonl'), 'utf8')
  assert.equal(jsonl.trimEnd().split('\n').length, 1)
  assert.equal(JSON.parse(jsonl).payloadType, 'application/vnd.in-toto+json')

  // every output action.yml declares is set
  const YAML = (await import('yaml')).default
  const meta = YAML.parse(await readFile(path.join(ROOT, 'action.yml'), 'utf8')) as { outputs: object }
  assert.deepEqual(Object.keys(o).sort(), Object.keys(meta.outputs).sort())
})

test('certificate-identity-regexp is anchored and decides who may have signed the evidence', async () => {
  const repo = newRepo('ts-lib', '.')
  const trustedRoot = path.join(path.dirname(repo), 'trusted_root.json')
  await writeFile(trustedRoot, JSON.stringify(mock.trustedRoot))
  const run = (regexp: string) =>
    runBundledAction(
      actionDir,
      repo,
      {
        config: 'detbuild.offline.json',
        'offline-db': OSV_RECORDS,
        sign: 'keyless',
        'fulcio-url': mock.url,
        'rekor-url': mock.url,
        'tsa-url': mock.url,
        'trusted-root': trustedRoot,
        'certificate-identity-regexp': regexp,
        'certificate-oidc-issuer': 'https://token.actions.githubusercontent.com',
        'release-assets': 'false',
      },
      {
        ...TSC_ENV,
        ACTIONS_ID_TOKEN_REQUEST_URL: oidc.url,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: oidc.requestToken,
      },
    )
  const ok = await run('https://github\\.com/.+')
  assert.equal(ok.code, 0, ok.stdout + ok.stderr)
  // a prefix of the real identity does not match: the expression must cover all of it
  const prefix = await run('https://github\\.com/')
  assert.equal(prefix.code, 1, prefix.stdout)
  assert.equal(prefix.outputs['failed-step'], 'verify')
})

test('findings at fail-on: exit 1, failed-step scan, escaped ::error annotations, summary table', async () => {
  const repo = newRepo('vulnerable-app')
  const run = await runBundledAction(actionDir, repo, {
    steps: 'sbom, scan, policy',
    'offline-db': OSV_RECORDS,
    'fail-on': 'high',
  })
  assert.equal(run.code, 1, run.stdout + run.stderr)
  assert.equal(run.outputs['exit-code'], '1')
  assert.equal(run.outputs['failed-step'], 'scan')
  assert.equal(run.outputs.verdict, 'none')
  assert.equal(run.outputs['release-assets'], '')
  const annotations = run.stdout.split('\n').filter((l) => /^::(error|warning)/.test(l))
  assert.ok(
    annotations.some((l) => l.startsWith('::error title=detbuild scan failed [SCAN_FINDINGS_AT_FAIL_ON]::')),
  )
  // a critical finding is an error annotation on the line of minimist's entry in the lockfile, with the
  // direct dependency to upgrade; property values escape ':' and ','
  const critical = annotations.find((l) => l.includes('GHSA-xvch-5gv4-984h'))
  assert.ok(critical, annotations.join('\n'))
  assert.match(
    critical,
    /^::error file=package-lock\.json,line=21,title=critical GHSA-xvch-5gv4-984h in minimist@1\.2\.5::.*; upgrade minimist 1\.2\.5 → 1\.2\.6 \(not major\)$/,
  )
  const medium = annotations.find((l) => l.includes('GHSA-29mw-wpgm-hmr9'))
  assert.match(medium ?? '', /^::warning file=package-lock\.json,line=16,/)
  // worst first: critical, high, medium
  const order = ['GHSA-xvch-5gv4-984h', 'GHSA-35jh-r3h4-6jhm', 'GHSA-29mw-wpgm-hmr9']
  assert.deepEqual(
    annotations
      .filter((l) => order.some((id) => l.includes(id)))
      .map((l) => order.find((id) => l.includes(id))),
    order,
  )
  assert.ok(run.summary.includes('## detbuild: ❌ scan failed (exit 1)'))
  assert.ok(
    run.summary.includes(
      '| critical | `minimist@1.2.5` | GHSA-xvch-5gv4-984h | 1.2.6 | minimist 1.2.5 → 1.2.6 (not major) |',
    ),
    run.summary,
  )
})

test('annotations name the lockfile from the git repository top, not from GITHUB_WORKSPACE', async () => {
  // actions/checkout with `path: checkout`: the repository's top is a subfolder of the workspace
  const workspace = newRepo('vulnerable-app', 'checkout/services/api')
  execFileSync('git', ['init', '-q'], { cwd: path.join(workspace, 'checkout') })
  const run = await runBundledAction(actionDir, workspace, {
    'working-directory': 'checkout/services/api',
    steps: 'sbom, scan',
    'offline-db': OSV_RECORDS,
  })
  assert.equal(run.code, 0, run.stdout + run.stderr)
  const critical = run.stdout.split('\n').find((l) => l.includes('GHSA-xvch-5gv4-984h') && l.startsWith('::'))
  assert.match(critical ?? '', /^::warning file=services\/api\/package-lock\.json,line=21,/)
  const sarif = JSON.parse(
    await readFile(path.join(workspace, 'checkout/services/api/.detbuild/vulns.sarif'), 'utf8'),
  )
  assert.equal(
    sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri,
    'services/api/package-lock.json',
  )
})

test('policy failure: exit 1 with an error annotation per failing rule, verdict fail', async () => {
  const repo = newRepo('vulnerable-app')
  const run = await runBundledAction(actionDir, repo, {
    command: 'run',
    steps: 'sbom,scan,policy',
    'offline-db': OSV_RECORDS,
  })
  assert.equal(run.code, 1, run.stdout)
  assert.equal(run.outputs.verdict, 'fail')
  assert.equal(run.outputs['failed-step'], 'policy')
  assert.ok(run.stdout.split('\n').some((l) => l.startsWith('::error title=policy vulnerabilities')))
})

test('single-step command and bad inputs', async () => {
  const repo = newRepo('small-app')
  const sbom = await runBundledAction(actionDir, repo, { command: 'sbom' })
  assert.equal(sbom.code, 0, sbom.stdout)
  assert.equal(sbom.outputs.sbom, '.detbuild/sbom.cdx.json')
  assert.equal(sbom.outputs.verdict, 'none')

  const bad = await runBundledAction(actionDir, repo, { command: 'deploy' })
  assert.equal(bad.code, 2)
  assert.match(bad.stdout, /^::error title=detbuild \[ACTION_INPUT_INVALID\]::/m)
  assert.equal(bad.outputs['exit-code'], '2')
  assert.match(bad.summary, /ACTION_INPUT_INVALID/)

  const badSign = await runBundledAction(actionDir, repo, { command: 'run', sign: 'maybe' })
  assert.equal(badSign.code, 2)
  assert.match(badSign.stdout, /\[RUN_USAGE\]/)
  const badBool = await runBundledAction(actionDir, repo, { check: 'yes' })
  assert.equal(badBool.code, 2)

  // keyless without `permissions: id-token: write` (no token endpoint): exit 2, says what to add
  const noToken = await runBundledAction(actionDir, repo, { steps: 'sign', sign: 'keyless' })
  assert.equal(noToken.code, 2)
  assert.match(noToken.stdout, /SIGN_IDENTITY_TOKEN_MISSING/)
})

test('step by step as in the release workflow, signing with a PEM key passed as a secret', async () => {
  const repo = newRepo('ts-lib')
  const trustedRoot = path.join(path.dirname(repo), 'trusted_root.json')
  await writeFile(trustedRoot, JSON.stringify(mock.trustedRoot))
  const { generateKeyPairPem } = await import('../../src/sign/keys.ts')
  const pem = generateKeyPairPem('ecdsa-p256', 'secret passphrase').privateKeyPem
  const common = { config: 'detbuild.offline.json', 'offline-db': OSV_RECORDS }
  const signing = { sign: 'key', key: pem, 'key-password': 'secret passphrase', 'rekor-url': mock.url }
  const calls: Array<Record<string, string>> = [
    { command: 'build' },
    { command: 'sbom' },
    { command: 'scan', 'fail-on': 'high' },
    { command: 'policy' },
    { command: 'sign', ...signing },
    { command: 'run', steps: 'bundle,verify', ...signing, 'trusted-root': trustedRoot },
  ]
  let last: Awaited<ReturnType<typeof runBundledAction>> | undefined
  for (const inputs of calls) {
    last = await runBundledAction(actionDir, repo, { ...common, ...inputs }, { ...TSC_ENV })
    assert.equal(last.code, 0, `${inputs.command}: ${last.stdout}${last.stderr}`)
  }
  const o = last!.outputs
  assert.equal(o.evidence, '.detbuild/evidence.tar.gz')
  assert.equal(JSON.parse(o.artifacts!).length, 1, 'artifacts come from build.json of the earlier call')
  assert.equal(o['release-assets'], '.detbuild/release-assets')
  assert.match(last!.stdout, /verify: ok: evidence verified/)
  // the PEM never stays on disk: the temporary key folder is gone
  const temps = await readdir(path.dirname(repo))
  for (const t of temps.filter((x) => x.startsWith('runner-temp-')))
    assert.deepEqual(
      (await readdir(path.join(path.dirname(repo), t))).filter((f) => f.startsWith('detbuild-key-')),
      [],
    )
})
