/**
 * The report on a real pipeline (fixtures/ts-lib: build → sbom → scan offline → policy → sign → report →
 * bundle → verify --evidence), as a user runs it from the README: the page is in the signed evidence, the
 * evidence still verifies, a changed page in the archive is caught, and the page opens cleanly in
 * chromium with the pipeline's own figures.
 */
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { readEvidenceArchive } from '../../src/evidence/archive.ts'
import { DEFAULT_LIMITS } from '../../src/evidence/types.ts'
import { makeProject, removeProject, TSC_ENV } from '../builder/helpers.ts'
import { craftTarGz, runCli, toEntries } from '../evidence/helpers.ts'
import { openInChromium, pngInk } from './browser.ts'

const RECORDS = path.resolve(import.meta.dirname, '../../fixtures/osv/records')
const EMPTY_ROOT = JSON.stringify({
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  ctlogs: [],
  certificateAuthorities: [],
  timestampAuthorities: [],
})
const ENV = { ...TSC_ENV, SOURCE_DATE_EPOCH: '1700000000' }
const TRUST = ['--key', 'k.pub', '--trusted-root', 'root.json', '--insecure-ignore-tlog']

let project: string
let artifact: string

async function step(args: string[]): Promise<string> {
  const run = await runCli(args, project, ENV)
  assert.ok(run.code === 0, `${args.join(' ')} exited ${run.code}: ${run.stderr}`)
  return run.stdout
}

before(async () => {
  project = makeProject('ts-lib')
  await step(['build', '--config', 'detbuild.offline.json'])
  await step(['sbom'])
  await step(['scan', '--offline-db', RECORDS])
  await step(['policy'])
  await step(['keygen', '--algorithm', 'ed25519', '--output-prefix', 'k'])
  await step(['sign', '--key', 'k.key', '--no-tlog', '--artifacts'])
  await writeFile(path.join(project, 'root.json'), EMPTY_ROOT)
  const build = JSON.parse(await readFile(path.join(project, '.detbuild/build.json'), 'utf8'))
  artifact = `.detbuild/${build.outputs[0].path}`
})
after(() => removeProject(project))

test('report → bundle: the page is a signed member, the evidence verifies, a changed page is caught', async () => {
  const text = await step(['report'])
  assert.match(
    text,
    /^wrote \.detbuild\/report\.html \(\d+ bytes, sha256 [0-9a-f]{64}\) from \d+ workspace files\n$/,
  )
  const first = await readFile(path.join(project, '.detbuild/report.html'))
  // a page made before another policy was evaluated is stale: bundle makes it again from the files it signs
  await runCli(['policy', '--policy', 'strict'], project, ENV)
  const stale = await runCli(['bundle', '--key', 'k.key', '--no-tlog'], project, ENV)
  assert.equal(stale.code, 0, stale.stderr)
  assert.match(stale.stderr, /\.detbuild\/report\.html was made from other files than the ones bundled/)
  const page = await readFile(path.join(project, '.detbuild/report.html'))
  assert.ok(!page.equals(first), 'rewritten')
  assert.ok(page.includes('strict'), 'the page shows the policy now in the workspace')
  await step(['report'])
  assert.ok(
    (await readFile(path.join(project, '.detbuild/report.html'))).equals(page),
    'the page report makes',
  )
  const archive = await readFile(path.join(project, '.detbuild/evidence.tar.gz'))
  const members = await readEvidenceArchive(archive, DEFAULT_LIMITS)
  assert.ok(members.get('report.html')?.equals(page), 'report.html is in the evidence, as written')
  const manifest = JSON.parse(Buffer.from(members.get('manifest.json')!).toString('utf8'))
  assert.ok(
    manifest.files.some((f: { path: string }) => f.path === 'report.html'),
    'the signed manifest lists it',
  )

  const ok = await runCli(
    ['--json', 'verify', artifact, '--evidence', '.detbuild/evidence.tar.gz', ...TRUST],
    project,
    ENV,
  )
  assert.equal(ok.code, 0, ok.stdout)
  assert.equal((ok.json() as { verified: boolean }).verified, true)

  const changed = new Map(members).set('report.html', Buffer.concat([page, Buffer.from('<!-- -->')]))
  await writeFile(path.join(project, 'tampered.tar.gz'), craftTarGz(toEntries(changed)))
  const bad = await runCli(
    ['--json', 'verify', artifact, '--evidence', 'tampered.tar.gz', ...TRUST],
    project,
    ENV,
  )
  assert.equal(bad.code, 1)
  const failures = (bad.json() as { failures: Array<{ code: string; file?: string }> }).failures
  assert.deepEqual(
    failures.map((f) => [f.code, f.file]),
    [['EVIDENCE_FILE_MODIFIED', 'report.html']],
  )
})

test('the pipeline’s page opens cleanly in chromium with its own figures', async () => {
  await step(['report'])
  const out = path.join(project, '.detbuild')
  const sbom = JSON.parse(await readFile(path.join(out, 'sbom.cdx.json'), 'utf8'))
  const vulns = JSON.parse(await readFile(path.join(out, 'vulns.json'), 'utf8'))
  const policy = JSON.parse(await readFile(path.join(out, 'policy.json'), 'utf8'))
  const run = await openInChromium(path.join(out, 'report.html'), {
    components: "document.querySelector('[data-figure=components]').textContent",
    findings: "document.querySelector('[data-figure=findings]').textContent",
    policy: "document.querySelector('[data-figure=policy]').textContent",
    differ: "document.querySelector('[data-figure=links-differ]').textContent",
  })
  assert.deepEqual([run.console, run.exceptions, run.logErrors, run.requests], [[], [], [], []])
  assert.equal(run.values.components, sbom.components.length.toLocaleString('en-US'))
  assert.match(String(run.values.findings), new RegExp(`^${vulns.findings.length}`))
  assert.match(String(run.values.policy), new RegExp(`^${policy.verdict}`))
  assert.equal(run.values.differ, '0', 'the pipeline’s files agree with each other')
  const { width, height, ink } = pngInk(run.png)
  assert.ok(ink > width * height * 0.02, `non-blank screenshot (${ink} pixels)`)
  assert.equal(run.pdf.subarray(0, 5).toString('latin1'), '%PDF-')
  assert.ok(run.pdf.length > 1024)
})
